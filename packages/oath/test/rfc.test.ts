import { fromHex, toHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import {
  checkOcraChallenge,
  dynamicTruncate,
  HmacKey,
  HotpGenerator,
  hotp,
  importPskc,
  matchHotp,
  matchTotp,
  Ocra,
  parseOcraSuite,
  totp,
  totpStep,
} from "../src/index.js";
import { OTP } from "./vectors.js";

describe("RFC 4226 Appendix D", () => {
  const d = OTP.rfc4226_appendixD;
  const key = new HmacKey(fromHex(d.secretHex));
  for (const v of d.vectors) {
    it(`count ${v.count} → ${v.hotp}`, () => {
      const counter = new Uint8Array(8);
      counter[7] = v.count;
      const mac = key.mac(counter);
      expect(toHex(mac).toLowerCase()).toBe(v.hmacHex);
      expect(dynamicTruncate(mac)).toBe(v.truncatedDec);
      expect(hotp(key, v.count)).toBe(v.hotp);
    });
  }
});

describe("RFC 6238 Appendix B", () => {
  const b = OTP.rfc6238_appendixB;
  for (const v of b.vectors) {
    it(`${v.mode} at ${v.timeSec} → ${v.totp}`, () => {
      const key = new HmacKey(fromHex(b.seeds[v.mode].hex), v.mode);
      expect(totpStep(v.timeSec).toString(16).toUpperCase().padStart(16, "0")).toBe(v.tHex);
      expect(totp(key, v.timeSec, b.digits)).toBe(v.totp);
    });
  }
});

describe("RFC 6287 Appendix C (all rows)", () => {
  const c = OTP.rfc6287_appendixC;
  const time = Number.parseInt(c.timestamp.T, 16) * 60;
  for (const [i, v] of c.vectors.entries()) {
    it(`${v.section} ${v.suite} #${i}`, () => {
      const ocra = new Ocra(v.suite, fromHex(c.keys[v.key].hex));
      const rest = {
        ...(v.C !== undefined ? { counter: v.C } : {}),
        ...(v.P !== undefined ? { pin: v.P } : {}),
        ...(ocra.suite.timeStep ? { time } : {}),
      };
      if (v.section === "C.2 server") {
        expect(ocra.serverResponse(v.challenges[0], v.challenges[1], rest)).toBe(v.expected);
      } else if (v.section === "C.2 client") {
        expect(ocra.clientResponse(v.challenges[0], v.challenges[1], rest)).toBe(v.expected);
      } else {
        expect(ocra.response({ challenge: v.Q, ...rest })).toBe(v.expected);
      }
    });
  }

  it("the PIN hash input equals hashing the PIN", () => {
    const ocra = new Ocra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", fromHex(c.keys["Standard 32Byte"].hex));
    expect(ocra.response({ challenge: "00000000", pinHash: fromHex(c.pin.sha1Hex) })).toBe(
      ocra.response({ challenge: "00000000", pin: c.pin.value }),
    );
  });
});

describe("OCRA suites", () => {
  it("parses every field", () => {
    expect(parseOcraSuite("OCRA-1:HOTP-SHA512-8:C-QH40-PSHA256-S128-T30S")).toEqual({
      text: "OCRA-1:HOTP-SHA512-8:C-QH40-PSHA256-S128-T30S",
      algorithm: "SHA512",
      digits: 8,
      counter: true,
      challenge: { format: "H", maxLength: 40 },
      pin: "SHA256",
      session: 128,
      timeStep: 30,
    });
    expect(parseOcraSuite("OCRA-1:HOTP-SHA1-0:QA64-T48H").timeStep).toBe(48 * 3600);
  });

  it("rejects malformed suites with a typed error", () => {
    for (const s of [
      "OCRA-2:HOTP-SHA1-6:QN08",
      "OCRA-1:HOTP-MD5-6:QN08",
      "OCRA-1:HOTP-SHA1-3:QN08",
      "OCRA-1:HOTP-SHA1-6:C",
      "OCRA-1:HOTP-SHA1-6:QN03",
      "OCRA-1:HOTP-SHA1-6:QN65",
      "OCRA-1:HOTP-SHA1-6:QN08-T0H",
      "OCRA-1:HOTP-SHA1-6:QN08-T49H",
      "OCRA-1:HOTP-SHA1-6:QN08-X",
      "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
    ]) {
      expect(() => parseOcraSuite(s), s).toThrow(expect.objectContaining({ code: "OCRA_SUITE_INVALID" }));
    }
  });

  it("checks inputs against the suite", () => {
    const suite = parseOcraSuite("OCRA-1:HOTP-SHA1-6:QN08");
    expect(() => checkOcraChallenge(suite, "123")).toThrow(
      expect.objectContaining({ code: "OCRA_INPUT_INVALID" }),
    );
    expect(() => checkOcraChallenge(suite, "123456789")).toThrow(
      expect.objectContaining({ code: "OCRA_INPUT_INVALID" }),
    );
    expect(() => checkOcraChallenge(suite, "12ab")).toThrow(
      expect.objectContaining({ code: "OCRA_INPUT_INVALID" }),
    );
    const withC = new Ocra("OCRA-1:HOTP-SHA1-6:C-QN08", new Uint8Array(20));
    expect(() => withC.response({ challenge: "1234" })).toThrow(
      expect.objectContaining({ code: "OCRA_INPUT_INVALID" }),
    );
  });

  it("digits 0 gives the whole HMAC", () => {
    expect(new Ocra("OCRA-1:HOTP-SHA256-0:QN08", new Uint8Array(32)).response({ challenge: "1234" })).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });
});

describe("RFC 6030 figures", () => {
  const f = OTP.rfc6030_examples;
  it("Figure 2: plain secret", () => {
    const { keys } = importPskc(f.figure2.xml);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.id).toBe(f.figure2.expect.keyId);
    expect(keys[0]!.algorithm).toBe(f.figure2.expect.algorithm);
    expect(keys[0]!.issuer).toBe(f.figure2.expect.issuer);
    expect(new TextDecoder().decode(keys[0]!.secret)).toBe(f.figure2.expect.secretAscii);
  });

  it("Figure 3: supplementary data", () => {
    const k = importPskc(f.figure3.xml).keys[0]!;
    expect(k.serialNo).toBe(f.figure3.expect.serialNo);
    expect(k.responseLength).toBe(8);
    expect(k.responseEncoding).toBe("DECIMAL");
    expect(toHex(k.secret!).toLowerCase()).toBe(f.figure3.expect.secretHex);
    expect(k.counter).toBe(0);
    expect(k.type).toBe("hotp");
  });

  it("Figure 6: AES-128-CBC pre-shared key, ValueMAC checked", () => {
    const psk = fromHex(f.figure6.expect.preSharedKeyHex);
    const k = importPskc(f.figure6.xml, { preSharedKey: psk }).keys[0]!;
    expect(toHex(k.secret!).toLowerCase()).toBe(f.figure6.expect.secretHex);
    expect(k.responseLength).toBe(8);
    expect(() => importPskc(f.figure6.xml)).toThrow(expect.objectContaining({ code: "PSKC_INVALID" }));
    const wrong = psk.slice();
    wrong[0] = psk[0]! ^ 1;
    expect(() => importPskc(f.figure6.xml, { preSharedKey: wrong })).toThrow(
      expect.objectContaining({ code: "PSKC_MAC_INVALID" }),
    );
  });

  it("Figure 7: PBKDF2 password", () => {
    const e = f.figure7.expect;
    const k = importPskc(f.figure7.xml, { password: e.password }).keys[0]!;
    expect(toHex(k.secret!).toLowerCase()).toBe(e.secretHex);
    expect(k.id).toBe(e.keyId);
    expect(k.manufacturer).toBe(e.manufacturer);
    expect(() => importPskc(f.figure7.xml, { password: "wrong" })).toThrow(
      expect.objectContaining({ code: "PSKC_MAC_INVALID" }),
    );
  });

  it("Figure 6 with a tampered ciphertext fails the MAC before decrypting", () => {
    const xml: string = f.figure6.xml;
    const cv = /<xenc:CipherValue>\s*([^<]+?)\s*<\/xenc:CipherValue>/g;
    const values = [...xml.matchAll(cv)].map((m) => m[1]!);
    const secretCv = values[1]!;
    const flipped = (secretCv[5] === "A" ? "B" : "A") as string;
    const tampered = xml.replace(secretCv, secretCv.slice(0, 5) + flipped + secretCv.slice(6));
    expect(() => importPskc(tampered, { preSharedKey: fromHex(f.figure6.expect.preSharedKeyHex) })).toThrow(
      expect.objectContaining({ code: "PSKC_MAC_INVALID" }),
    );
  });
});

describe("matching helpers", () => {
  const key = new HmacKey(fromHex(OTP.rfc4226_appendixD.secretHex));
  const gen = new HotpGenerator(key, 6);

  it("HOTP looks ahead forward only and reports the offset", () => {
    expect(matchHotp(gen, "969429", 0, 10)).toEqual({ counter: 3, offset: 3 });
    expect(matchHotp(gen, "969429", 5, 10)).toBeUndefined();
    expect(matchHotp(gen, "969429", 0, 2)).toBeUndefined();
  });

  it("rejects codes that are not exactly the digits", () => {
    for (const bad of [" 755224", "755224 ", "+755224", "75522", "7552241", "75522a", "７５５２２４"]) {
      expect(matchHotp(gen, bad, 0, 10), bad).toBeUndefined();
    }
  });

  it("TOTP window: past and future steps, offset relative to now", () => {
    const k = new HmacKey(fromHex(OTP.rfc6238_appendixB.seeds.SHA1.hex));
    const g = new HotpGenerator(k, 8);
    expect(matchTotp(g, "07081804", 1111111109)).toEqual({ step: 37037036, offset: 0 });
    expect(matchTotp(g, "07081804", 1111111109 + 30)).toEqual({ step: 37037036, offset: -1 });
    expect(matchTotp(g, "07081804", 1111111109 + 60)).toBeUndefined();
    expect(matchTotp(g, "07081804", 1111111109 - 30)).toEqual({ step: 37037036, offset: 1 });
    expect(matchTotp(g, "07081804", 1111111109 - 30, { future: 0 })).toBeUndefined();
  });
});
