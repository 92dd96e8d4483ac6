import { readFileSync } from "node:fs";

/**
 * Public OATH test vectors: RFC 4226 App. D, RFC 6238 App. B (with the per-algorithm seeds of App. A),
 * RFC 6287 App. C (all 70 rows), RFC 6030 Figures 2, 3, 6, 7 — copied from the project's research set,
 * sources kept in its `meta`.
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
export const OTP: any = JSON.parse(
  readFileSync(new URL("./fixtures/otp-vectors.json", import.meta.url), "utf8"),
);
