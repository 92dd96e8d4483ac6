import { fromHex, toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base32Decode,
  base32Encode,
  buildOtpAuthUri,
  exportPskc,
  HmacKey,
  importPskc,
  type OtpAuthKey,
  type PskcKey,
  parseOtpAuthUri,
} from "../src/index.js";

const label = fc
  .string({ minLength: 1, maxLength: 30, unit: "grapheme" })
  .filter((s) => !s.includes(":") && s.trim() === s && s.length > 0);

describe("base32", () => {
  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (b) => {
        expect(toHex(base32Decode(base32Encode(b)))).toBe(toHex(b));
      }),
    );
  });
  it("is lenient in: case, spaces, dashes, padding", () => {
    expect(toHex(base32Decode("gezd gnbv-gy3t qojq GEZDGNBVGY3TQOJQ===="))).toBe(
      "3132333435363738393031323334353637383930",
    );
    expect(base32Encode(fromHex("3132333435363738393031323334353637383930"))).toBe(
      "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    );
  });
  it("says where a bad character is", () => {
    expect(() => base32Decode("GEZD0NBV")).toThrow(
      expect.objectContaining({ code: "OTP_SECRET_INVALID", message: expect.stringContaining("position 5") }),
    );
    expect(() => base32Decode("GEZ")).toThrow(expect.objectContaining({ code: "OTP_SECRET_INVALID" }));
  });
});

describe("secrets shorter than 128 bits", () => {
  it("need an explicit opt-in", () => {
    expect(() => new HmacKey(new Uint8Array(10))).toThrow(
      expect.objectContaining({ code: "OTP_SECRET_TOO_SHORT" }),
    );
    expect(new HmacKey(new Uint8Array(10), "SHA1", { allowShortSecret: true }).outputLength).toBe(20);
  });
});

describe("otpauth URIs", () => {
  const key: fc.Arbitrary<OtpAuthKey> = fc
    .record({
      type: fc.constantFrom("hotp" as const, "totp" as const),
      secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
      account: label,
      issuer: fc.option(label, { nil: undefined }),
      algorithm: fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
      digits: fc.integer({ min: 6, max: 10 }),
      period: fc.integer({ min: 1, max: 86400 }),
      counter: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    })
    .map(({ type, period, counter, issuer, ...rest }) => ({
      ...rest,
      type,
      ...(issuer === undefined ? {} : { issuer }),
      ...(type === "totp" ? { period } : { counter }),
    }));

  it("build → parse round-trips", () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(parseOtpAuthUri(buildOtpAuthUri(k))).toEqual(k);
      }),
      { numRuns: 500 },
    );
  });

  it("parses the common form", () => {
    const k = parseOtpAuthUri(
      "otpauth://totp/ACME%20Co:john@example.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&digits=8",
    );
    expect(k).toMatchObject({
      type: "totp",
      account: "john@example.com",
      issuer: "ACME Co",
      digits: 8,
      period: 30,
      algorithm: "SHA1",
    });
  });

  it("rejects malformed URIs with a typed error", () => {
    for (const bad of [
      "http://totp/x?secret=GEZDGNBV",
      "otpauth://motp/x?secret=GEZDGNBV",
      "otpauth://totp/?secret=GEZDGNBV",
      "otpauth://totp/x",
      "otpauth://totp/x?secret=GEZ1",
      "otpauth://totp/A:x?secret=GEZDGNBV&issuer=B",
      "otpauth://totp/x?secret=GEZDGNBV&digits=5",
      "otpauth://totp/x?secret=GEZDGNBV&digits=six",
      "otpauth://totp/x?secret=GEZDGNBV&algorithm=MD5",
      "otpauth://totp/x?secret=GEZDGNBV&period=0",
      "otpauth://totp/x?secret=GEZDGNBV&counter=1",
      "otpauth://hotp/x?secret=GEZDGNBV",
      "otpauth://totp/x?secret=GEZDGNBV&secret=GEZDGNBV",
      "otpauth://totp/%E0%A4%A?secret=GEZDGNBV",
    ]) {
      expect(() => parseOtpAuthUri(bad), bad).toThrow(expect.objectContaining({ code: "OTP_URI_INVALID" }));
    }
  });
});

describe("PSKC export → import", () => {
  const pskcKey: fc.Arbitrary<PskcKey> = fc
    .record({
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
      type: fc.constantFrom("hotp" as const, "totp" as const, "ocra" as const),
      secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
      issuer: fc.option(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0),
        { nil: undefined },
      ),
      serialNo: fc.option(fc.stringMatching(/^[0-9]{4,10}$/), { nil: undefined }),
      counter: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
      responseLength: fc.integer({ min: 6, max: 10 }),
    })
    .map(({ type, issuer, serialNo, counter, ...rest }) => ({
      ...rest,
      type,
      algorithm: `urn:ietf:params:xml:ns:keyprov:pskc:${type}`,
      responseEncoding: "DECIMAL",
      ...(type === "ocra" ? { suite: "OCRA-1:HOTP-SHA1-6:QN08" } : {}),
      ...(issuer === undefined ? {} : { issuer }),
      ...(serialNo === undefined ? {} : { serialNo }),
      ...(counter === undefined ? {} : { counter }),
    }));
  const psk = fromHex("12345678901234567890123456789012");

  it("plain", () => {
    fc.assert(
      fc.property(fc.array(pskcKey, { minLength: 1, maxLength: 3 }), (keys) => {
        expect(importPskc(exportPskc(keys)).keys).toEqual(keys);
      }),
      { numRuns: 100 },
    );
  });

  it("AES-128-CBC with a pre-shared key", () => {
    fc.assert(
      fc.property(fc.array(pskcKey, { minLength: 1, maxLength: 3 }), (keys) => {
        const xml = exportPskc(keys, { kind: "pre-shared-key", key: psk, keyName: "transport key" });
        expect(xml).not.toContain(toHex(keys[0]!.secret!));
        expect(importPskc(xml, { preSharedKey: psk }).keys).toEqual(keys);
      }),
      { numRuns: 100 },
    );
  });

  it("PBKDF2 password", () => {
    fc.assert(
      fc.property(
        fc.array(pskcKey, { minLength: 1, maxLength: 2 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        (keys, password) => {
          const xml = exportPskc(keys, {
            kind: "password",
            password,
            iterations: 1000,
            keyName: "My Password",
          });
          expect(importPskc(xml, { password }).keys).toEqual(keys);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("the hardened XML reader", () => {
  const reject = (xml: string) =>
    expect(() => importPskc(xml)).toThrow(expect.objectContaining({ code: "PSKC_XML_REJECTED" }));
  const container = (body: string) =>
    `<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">${body}</KeyContainer>`;

  it("rejects billion laughs", () => {
    const lol = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [<!ENTITY lol "lol">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i - 1 || ""};`.repeat(10)}">`);
    lol.push("]>", container("<KeyPackage>&lol9;</KeyPackage>"));
    reject(lol.join("\n"));
  });

  it("rejects external entities and bare DOCTYPEs", () => {
    reject(
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${container("&xxe;")}`,
    );
    reject(`<!DOCTYPE KeyContainer SYSTEM "http://example.com/pskc.dtd">${container("")}`);
    reject(`<!doctype KeyContainer>${container("")}`);
  });

  it("rejects undefined entities without a DTD", () => {
    reject(container("<KeyPackage>&undefined;</KeyPackage>"));
  });

  it("rejects oversized input, deep nesting and element floods", () => {
    reject(
      container(
        `<KeyPackage><Key Id="1" Algorithm="x"><Issuer>${"A".repeat(5 * 1024 * 1024)}</Issuer></Key></KeyPackage>`,
      ),
    );
    reject(container(`${"<KeyPackage>".repeat(40)}${"</KeyPackage>".repeat(40)}`));
    expect(() =>
      importPskc(container("<KeyPackage/>".repeat(300)), { limits: { maxElements: 100 } }),
    ).toThrow(expect.objectContaining({ code: "PSKC_XML_REJECTED" }));
  });

  it("rejects unknown namespaces and malformed XML", () => {
    reject(container('<x:Evil xmlns:x="urn:evil"/>'));
    reject(
      "<KeyContainer Version='1.0' xmlns='urn:ietf:params:xml:ns:keyprov:pskc'><KeyPackage></KeyContainer>",
    );
    reject("not xml at all");
  });

  it("a non-PSKC root is a PSKC_INVALID error", () => {
    expect(() =>
      importPskc('<KeyContainer Version="2.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>'),
    ).toThrow(expect.objectContaining({ code: "PSKC_INVALID" }));
  });

  it("errors name the line, for XML and for PSKC content", () => {
    const ns = 'xmlns="urn:ietf:params:xml:ns:keyprov:pskc"';
    // Line 4 opens a KeyPackage that line 5 never closes.
    const broken = `<?xml version="1.0"?>\n<KeyContainer Version="1.0" ${ns}>\n  <KeyPackage>\n    <Key Id="1">\n</KeyContainer>\n`;
    expect(() => importPskc(broken)).toThrow(
      expect.objectContaining({ code: "PSKC_XML_REJECTED", details: { line: 5 } }),
    );
    expect(() => importPskc(broken)).toThrow(/at line 5/);
    // Line 3's Key has no Algorithm.
    const noAlg = `<KeyContainer Version="1.0" ${ns}>\n  <KeyPackage>\n    <Key Id="k1"/>\n  </KeyPackage>\n</KeyContainer>`;
    expect(() => importPskc(noAlg)).toThrow(
      expect.objectContaining({ code: "PSKC_INVALID", details: { line: 3 } }),
    );
    expect(() => importPskc(noAlg)).toThrow(/^PSKC line 3: key k1 has no Algorithm/);
  });
});
