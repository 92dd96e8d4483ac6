import { createDecipheriv } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

/**
 * What the bundled binary (packages/cli/scripts/build.mjs) changes about loading, checked on the built file:
 * AES is evaluated on first use through a facade, and each module keeps its unbundled location.
 */
const K = "3132333435363738393031323334353637383930";
const PSK = "000102030405060708090a0b0c0d0e0f";

describe("the bundled capkit binary", () => {
  it("encrypts PSKC with AES-128-CBC that node:crypto decrypts, and reads it back", () => {
    const file = join(mkdtempSync(join(tmpdir(), "capkit-bundle-")), "k.pskc");
    expect(capkit(["otp", "export", "--secret-hex", K, "--psk-hex", PSK, "--out", file]).status).toBe(0);
    // RFC 6030 §6.1: CipherValue = IV ‖ AES-CBC ciphertext (PKCS #7 padding), base64; decrypted here on its own.
    const xml = readFileSync(file, "utf8");
    const cipherValues = [...xml.matchAll(/<xenc:CipherValue>([^<]+)</g)].map((m) =>
      Buffer.from(m[1]!, "base64"),
    );
    const secret = cipherValues
      .map((cv) => {
        const d = createDecipheriv("aes-128-cbc", Buffer.from(PSK, "hex"), cv.subarray(0, 16));
        return Buffer.concat([d.update(cv.subarray(16)), d.final()]).toString("hex");
      })
      .find((hex) => hex === K);
    expect(secret).toBe(K);
    const back = capkit(["--json", "otp", "import", file, "--psk-hex", PSK, "--show-secrets"]);
    expect(back.status).toBe(0);
    expect(JSON.stringify(back.json())).toContain(K);
  });

  it("doctor reads the CLI's own package.json from the bundle", () => {
    const r = capkit(["--json", "doctor"]);
    expect(r.jsonLines().at(-1).versions.capkit).toBe("0.1.0");
  });
});
