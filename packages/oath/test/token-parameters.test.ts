import { readFileSync } from "node:fs";
import { fromHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALGORITHM_URIS,
  exportPskc,
  HmacKey,
  HotpGenerator,
  importPskc,
  importPskcAsync,
  Ocra,
  type PskcKey,
  pskcKeyOf,
  type TokenParameters,
  tokenFromOtpAuth,
  tokenFromPskcKey,
  tokensFromPskc,
  totp,
} from "../src/index.js";
import { OTP } from "./vectors.js";

/** privacyIDEA-shaped exports written by hand from privacyIDEA's source; see the fixture's `meta`. */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
const PI: any = JSON.parse(
  readFileSync(new URL("./fixtures/privacyidea-export.json", import.meta.url), "utf8"),
);
const ascii = (s: string) => new TextEncoder().encode(s);
const SEED20 = ascii("12345678901234567890");
const SEED32 = ascii("12345678901234567890123456789012");

describe("otpauth URI → token", () => {
  it("keeps kind, hash, digits, step, counter, issuer and account", () => {
    const t = tokenFromOtpAuth(
      "otpauth://totp/ACME:jo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8&period=60&issuer=ACME",
    );
    expect(t).toEqual({
      kind: "totp",
      secret: SEED32,
      algorithm: "SHA256",
      digits: 8,
      step: 60,
      t0: 0,
      issuer: "ACME",
      account: "jo",
    });
    expect(
      tokenFromOtpAuth("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=7"),
    ).toMatchObject({
      kind: "hotp",
      counter: 7,
      algorithm: "SHA1",
      digits: 6,
    });
  });

  it("refuses a short secret unless allowed, and privacyIDEA's counter on a TOTP URI with the reason", () => {
    const short = "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ"; // 80 bits
    expect(() => tokenFromOtpAuth(short)).toThrow(expect.objectContaining({ code: "OTP_SECRET_TOO_SHORT" }));
    expect(tokenFromOtpAuth(short, { allowShortSecret: true }).secret).toHaveLength(10);
    expect(() =>
      tokenFromOtpAuth(
        "otpauth://totp/TOTP00017410?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6&issuer=privacyIDEA",
      ),
    ).toThrow(/counter belongs to hotp URIs \(privacyIDEA writes counter=1/);
  });
});

describe("PSKC key → token: one meaning", () => {
  const base = { id: "k", secret: SEED20 } as const;

  it("an OCRA key is OCRA with its suite (digits and hash from the suite, counter of a C suite)", () => {
    const suite = "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1";
    const t = tokenFromPskcKey({
      ...base,
      secret: SEED32,
      type: "ocra",
      algorithm: ALGORITHM_URIS.ocra,
      suite,
      counter: 3,
      responseLength: 8,
    });
    expect(t).toEqual({
      kind: "ocra",
      secret: SEED32,
      algorithm: "SHA256",
      digits: 8,
      suite,
      counter: 3,
      keyId: "k",
    });
    expect(() =>
      tokenFromPskcKey({ ...base, type: "ocra", algorithm: ALGORITHM_URIS.ocra, suite, responseLength: 6 }),
    ).toThrow(/PSKC key \(Id "k"\): <ResponseFormat Length="6"> disagrees with the suite's 8 digits/);
    expect(() => tokenFromPskcKey({ ...base, type: "ocra", algorithm: ALGORITHM_URIS.ocra })).toThrow(
      /needs its <Suite>/,
    );
  });

  it("the hash of an HOTP/TOTP key is its <Suite>; none means SHA-1", () => {
    const totpKey: PskcKey = { ...base, type: "totp", algorithm: ALGORITHM_URIS.totp, timeInterval: 60 };
    expect(tokenFromPskcKey(totpKey)).toMatchObject({ algorithm: "SHA1", step: 60, digits: 6, t0: 0 });
    for (const [suite, alg] of [
      ["SHA256", "SHA256"],
      ["sha512", "SHA512"],
      ["HMAC-SHA256", "SHA256"],
    ] as const)
      expect(tokenFromPskcKey({ ...totpKey, suite }).algorithm).toBe(alg);
    expect(() => tokenFromPskcKey({ ...totpKey, suite: "MD5" }, {}, 1)).toThrow(
      expect.objectContaining({
        code: "PSKC_INVALID",
        message: 'key 2 (Id "k"): <Suite> "MD5" is not SHA1, SHA256 or SHA512',
      }),
    );
  });

  it("serials, issuers and accounts are kept", () => {
    const t = tokenFromPskcKey({
      ...base,
      type: "hotp",
      algorithm: ALGORITHM_URIS.hotp,
      serialNo: "987654321",
      issuer: "Bank",
      userId: "alice",
      counter: 9,
    });
    expect(t).toMatchObject({
      serial: "987654321",
      issuer: "Bank",
      account: "alice",
      counter: 9,
      keyId: "k",
    });
  });

  it("every key of a file, or the file refused naming the key and why", () => {
    const keys: PskcKey[] = [
      { ...base, id: "a", type: "hotp", algorithm: ALGORITHM_URIS.hotp, serialNo: "1" },
      { ...base, id: "b", type: "totp", algorithm: ALGORITHM_URIS.totp, serialNo: "2", time: 1234 },
    ];
    expect(() => tokensFromPskc(keys)).toThrow(
      'key 2 (Id "b", serial 2): <Time> 1234: only 0 is read (RFC 6030 gives it no one meaning: a time, or steps)',
    );
    expect(() => tokensFromPskc([keys[0]!, { ...keys[0]!, id: "c", secret: new Uint8Array(10) }])).toThrow(
      expect.objectContaining({
        code: "OTP_SECRET_TOO_SHORT",
        message: expect.stringMatching(/^key 2 \(Id "c", serial 1\): /),
      }),
    );
    expect(() =>
      tokensFromPskc([{ ...base, type: "other", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:pin" }]),
    ).toThrow(
      /key 1 \(Id "k"\): its algorithm urn:ietf:params:xml:ns:keyprov:pskc:pin is not HOTP, TOTP or OCRA/,
    );
    expect(() => tokensFromPskc([])).toThrow(expect.objectContaining({ code: "PSKC_INVALID" }));
    expect(tokensFromPskc([keys[0]!, { ...keys[1]!, time: 0 }]).map((t) => t.kind)).toEqual(["hotp", "totp"]);
  });

  it("refuses what HOTP/TOTP cannot mean: hex codes, 5 digits, a step of 0, a key without secret", () => {
    const k: PskcKey = { ...base, type: "totp", algorithm: ALGORITHM_URIS.totp };
    for (const bad of [
      { responseEncoding: "HEXADECIMAL" },
      { responseLength: 5 },
      { timeInterval: 0 },
      { secret: undefined },
    ]) {
      const key = Object.fromEntries(Object.entries({ ...k, ...bad }).filter(([, v]) => v !== undefined));
      expect(() => tokenFromPskcKey(key as unknown as PskcKey), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "PSKC_INVALID" }),
      );
    }
  });
});

describe("token → PSKC → token round trip (the hash and the OCRA suite both ways)", () => {
  const token: fc.Arbitrary<TokenParameters> = fc.oneof(
    fc.record({
      kind: fc.constant("hotp" as const),
      secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
      algorithm: fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
      digits: fc.integer({ min: 6, max: 10 }),
      counter: fc.integer({ min: 0, max: 2 ** 40 }),
      serial: fc.stringMatching(/^[0-9A-Z]{4,12}$/),
    }),
    fc.record({
      kind: fc.constant("totp" as const),
      secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
      algorithm: fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
      digits: fc.integer({ min: 6, max: 10 }),
      step: fc.integer({ min: 1, max: 86400 }),
      t0: fc.constant(0),
      serial: fc.stringMatching(/^[0-9A-Z]{4,12}$/),
    }),
    fc
      .record({
        secret: fc.uint8Array({ minLength: 32, maxLength: 64 }),
        suite: fc.constantFrom(
          "OCRA-1:HOTP-SHA1-6:QN08",
          "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
          "OCRA-1:HOTP-SHA512-8:QA08-T1M",
        ),
        counter: fc.integer({ min: 0, max: 1000 }),
      })
      .map(({ secret, suite, counter }) => {
        const s = new Ocra(suite, secret).suite;
        return {
          kind: "ocra" as const,
          secret,
          algorithm: s.algorithm,
          digits: s.digits,
          suite,
          ...(s.counter ? { counter } : {}),
        };
      }),
  );

  it("exportPskc(pskcKeyOf(t)) → importPskc → tokenFromPskcKey gives t back", () => {
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 3 }), (tokens) => {
        const xml = exportPskc(tokens.map((t, i) => pskcKeyOf(t, `k${i}`)));
        const back = tokensFromPskc(importPskc(xml).keys);
        expect(back).toEqual(tokens.map((t, i) => ({ ...t, keyId: `k${i}` })));
      }),
      { numRuns: 200 },
    );
  });

  it("a SHA-256 TOTP key is written with <Suite>SHA256</Suite>, as privacyIDEA's import reads it", () => {
    const xml = exportPskc([
      pskcKeyOf({ kind: "totp", secret: SEED32, algorithm: "SHA256", digits: 8, step: 30 }, "1"),
    ]);
    expect(xml).toContain("<pskc:Suite>SHA256</pskc:Suite>");
    const [t] = tokensFromPskc(importPskc(xml).keys);
    expect(totp(new HmacKey(t!.secret, t!.algorithm), 59, t!.digits)).toBe("46119246"); // RFC 6238 App. B
  });
});

describe("privacyIDEA's export (hand-written from its source: fixtures/privacyidea-export.json)", () => {
  const psk = fromHex(PI.preSharedKeyHex);
  const rfc6238 = OTP.rfc6238_appendixB.vectors.filter((v: { mode: string }) => v.mode === "SHA256");
  const rfc4226 = OTP.rfc4226_appendixD.vectors;

  for (const read of [
    ["importPskc", (xml: string) => Promise.resolve(importPskc(xml, { preSharedKey: psk }))],
    ["importPskcAsync", (xml: string) => importPskcAsync(xml, { preSharedKey: psk })],
  ] as const) {
    it(`${read[0]} reads it with a warning, hash and serials kept, codes as the RFCs give them`, async () => {
      const r = await read[1](PI.current);
      expect(r.warnings[0]).toMatch(/^not a conformant RFC 6030 file: lower-case element names/);
      expect(r.warnings.some((w) => /TimeDrift -15\.0 is privacyIDEA's timeShift in seconds/.test(w))).toBe(
        true,
      );
      const tokens = tokensFromPskc(r.keys);
      for (const [i, e] of PI.expect.entries()) {
        const t = tokens.find((x) => x.serial === e.serial)!;
        expect(t, e.serial).toMatchObject({
          kind: e.kind,
          algorithm: e.algorithm,
          digits: e.digits,
          secret: ascii(e.secretAscii),
          keyId: e.serial,
          issuer: "privacyIDEA",
          ...(e.step ? { step: e.step } : { counter: e.counter }),
        });
        expect(i).toBeLessThan(2);
      }
      const t = tokens.find((x) => x.kind === "totp")!;
      for (const v of rfc6238)
        expect(totp(new HmacKey(t.secret, t.algorithm), v.timeSec, t.digits)).toBe(v.totp);
      const h = tokens.find((x) => x.kind === "hotp")!;
      expect(new HotpGenerator(new HmacKey(h.secret), h.digits).code(h.counter!)).toBe(rfc4226[5].hotp);
    });
  }

  it("the namespace is still checked: a lower-case file in another namespace is refused", () => {
    const elsewhere = (PI.current as string).replace(
      'xmlns="urn:ietf:params:xml:ns:keyprov:pskc"',
      'xmlns="urn:example:not-pskc"',
    );
    expect(() => importPskc(elsewhere, { preSharedKey: psk })).toThrow(
      expect.objectContaining({ code: "PSKC_XML_REJECTED" }),
    );
  });

  it("a tampered value is the same PSKC_MAC_INVALID as in any file", () => {
    const tampered = (PI.current as string).replace("EBESExQVFhcYGRob", "EBESExQVFhcYGRoc");
    expect(() => importPskc(tampered, { preSharedKey: psk })).toThrow(
      expect.objectContaining({ code: "PSKC_MAC_INVALID" }),
    );
  });

  it("older privacyIDEA files (<ValueMAC>TODOmissing</ValueMAC> outside <Secret>) carry no MAC: refused", () => {
    expect(() => importPskc(PI.legacy, { preSharedKey: psk })).toThrow(
      expect.objectContaining({
        code: "PSKC_MAC_INVALID",
        message: expect.stringMatching(/needs a ValueMAC/),
      }),
    );
  });
});
