import { fromHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import { HmacKey, hotp, hotpAsync, Ocra, ocraAsync, totp, totpAsync, WebCryptoHmac } from "../src/index.js";
import { OTP } from "./vectors.js";

/** The async WebCrypto path against the same RFC vectors as the sync path (test/fixtures/otp-vectors.json). */
describe("WebCrypto signer: RFC 4226 Appendix D", () => {
  const d = OTP.rfc4226_appendixD;
  it("every count, as the RFC and the sync path", async () => {
    const key = await WebCryptoHmac.importSecret(fromHex(d.secretHex));
    const sync = new HmacKey(fromHex(d.secretHex));
    for (const v of d.vectors) {
      expect(await hotpAsync(key, v.count)).toBe(v.hotp);
      expect(hotp(sync, v.count)).toBe(v.hotp);
    }
  });
});

describe("WebCrypto signer: RFC 6238 Appendix B", () => {
  const b = OTP.rfc6238_appendixB;
  it("every row, SHA-1, SHA-256, SHA-512", async () => {
    for (const v of b.vectors) {
      const key = await WebCryptoHmac.importSecret(fromHex(b.seeds[v.mode].hex), v.mode);
      expect(await totpAsync(key, v.timeSec, b.digits)).toBe(v.totp);
      expect(totp(new HmacKey(fromHex(b.seeds[v.mode].hex), v.mode), v.timeSec, b.digits)).toBe(v.totp);
    }
  });
});

describe("WebCrypto signer: RFC 6287 Appendix C", () => {
  const c = OTP.rfc6287_appendixC;
  const time = Number.parseInt(c.timestamp.T, 16) * 60;
  it("every one-way and signature row", async () => {
    let n = 0;
    for (const v of c.vectors) {
      if (v.section === "C.2 server" || v.section === "C.2 client") continue;
      const sync = new Ocra(v.suite, fromHex(c.keys[v.key].hex));
      const key = await WebCryptoHmac.importSecret(fromHex(c.keys[v.key].hex), sync.suite.algorithm);
      const input = {
        challenge: v.Q,
        ...(v.C !== undefined ? { counter: v.C } : {}),
        ...(v.P !== undefined ? { pin: v.P } : {}),
        ...(sync.suite.timeStep ? { time } : {}),
      };
      expect(await ocraAsync(key, v.suite, input)).toBe(v.expected);
      n++;
    }
    expect(n).toBeGreaterThan(30);
  });

  it("refuses a key of another hash than the suite's", async () => {
    const key = await WebCryptoHmac.importSecret(new Uint8Array(20).fill(1), "SHA1");
    await expect(
      ocraAsync(key, "OCRA-1:HOTP-SHA256-8:QN08", { challenge: "12345678" }),
    ).rejects.toMatchObject({ code: "OCRA_INPUT_INVALID" });
  });
});

describe("WebCrypto keys", () => {
  it("are non-extractable by default", async () => {
    const key = await WebCryptoHmac.importSecret(new Uint8Array(20).fill(1));
    expect((key.key as { extractable: boolean }).extractable).toBe(false);
    await expect(crypto.subtle.exportKey("raw", key.key as CryptoKey)).rejects.toThrow();
  });
  it("refuse short and empty secrets as HmacKey does", async () => {
    await expect(WebCryptoHmac.importSecret(new Uint8Array(10))).rejects.toMatchObject({
      code: "OTP_SECRET_TOO_SHORT",
    });
    await expect(WebCryptoHmac.importSecret(new Uint8Array(0))).rejects.toMatchObject({
      code: "OTP_SECRET_INVALID",
    });
    expect(
      (await WebCryptoHmac.importSecret(new Uint8Array(10), "SHA1", { allowShortSecret: true })).algorithm,
    ).toBe("SHA1");
  });
});
