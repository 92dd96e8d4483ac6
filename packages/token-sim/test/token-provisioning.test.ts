import { exportPskc, importPskc, pskcKeyOf } from "@capkit/oath";
import { describe, expect, it } from "vitest";
import { FakeClock, SgpassToken } from "../src/index.js";

/**
 * A simulated token provisioned from a URI or a PSKC key means what @capkit/oath's token parameters say —
 * the same as for `capkit verify enroll`: the codes below are RFC 6238 Appendix B's for its SHA-256 seed.
 */
const SEED32 = new TextEncoder().encode("12345678901234567890123456789012");

describe("SgpassToken provisioning", () => {
  it("a SHA-256 PSKC key gives SHA-256 codes (the hash read from <Suite>)", () => {
    const xml = exportPskc([
      pskcKeyOf({ kind: "totp", secret: SEED32, algorithm: "SHA256", digits: 8, step: 30 }, "1"),
    ]);
    const [key] = importPskc(xml).keys;
    const clock = new FakeClock(59_000);
    expect(SgpassToken.fromPskc(key!, { clock }).press().code).toBe("46119246");
  });

  it("a SHA-256 otpauth URI too", () => {
    const clock = new FakeClock(1111111109_000);
    const t = SgpassToken.fromUri(
      "otpauth://totp/SG:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8",
      { clock },
    );
    expect(t.press().code).toBe("68084774");
  });

  it("an OCRA key is refused, saying why, instead of becoming a TOTP token", () => {
    const xml = exportPskc([
      pskcKeyOf(
        {
          kind: "ocra",
          secret: SEED32,
          algorithm: "SHA256",
          digits: 8,
          suite: "OCRA-1:HOTP-SHA256-8:QN08",
          serial: "42",
        },
        "1",
      ),
    ]);
    const [key] = importPskc(xml).keys;
    expect(() => SgpassToken.fromPskc(key!)).toThrow(
      expect.objectContaining({
        code: "INPUT_INVALID",
        message:
          "token 42 is OCRA (OCRA-1:HOTP-SHA256-8:QN08): an SgpassToken's button shows HOTP or TOTP codes",
      }),
    );
  });
});
