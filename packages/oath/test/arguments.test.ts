import { CapkitError, type CapkitErrorCode } from "@capkit/core";
import fc from "fast-check";
import { expect, describe as group, it } from "vitest";
import { describe } from "../src/arguments.js";
import {
  base32Decode,
  base32Encode,
  buildOtpAuthUri,
  exportPskc,
  HmacKey,
  HotpGenerator,
  hotp,
  importPskc,
  MILLISECONDS_FROM,
  matchHotp,
  matchTotp,
  Ocra,
  parseAlgorithm,
  parseOcraSuite,
  parseOtpAuthUri,
  pskcKeyOf,
  tokenFromOtpAuth,
  tokenFromPskcKey,
  totp,
  totpStep,
  unixSeconds,
} from "../src/index.js";
import { OTP } from "./vectors.js";

/**
 * What a plain-JavaScript caller can pass (issue 21): wrong types, wrong units, NaN, objects. Every public
 * function of the package is called with one argument (or one field of an argument) replaced by such a value;
 * unless that value happens to be valid there, the call must throw a CapkitError with the expected code, whose
 * message names that argument and tells the truth about what was given — never return a code.
 */
const SEED = new TextEncoder().encode("12345678901234567890");
const KEY = new HmacKey(SEED);
const GEN = new HotpGenerator(KEY, 6);

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    true,
    false,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    0.5,
    MILLISECONDS_FROM,
    1_733_400_000_000, // Date.now() on 5 December 2024
    1e21,
    "",
    "59",
    "SHA1",
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    [],
    {},
    new Date(Number.NaN),
    new Date(-1000),
    new Uint8Array(0),
    new Uint8Array(3),
    10n,
    Symbol("s"),
    () => 1,
  ),
  fc.string({ maxLength: 12 }),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 40 }),
);

const optional = (valid: (x: unknown) => boolean) => (x: unknown) => x === undefined || valid(x);
const integer = (min: number, max: number) => (x: unknown) =>
  typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;
const seconds = (x: unknown) =>
  (typeof x === "number" && x >= 0 && x < MILLISECONDS_FROM) || (x instanceof Date && x.getTime() >= 0);
const bytes = (min: number) => (x: unknown) => x instanceof Uint8Array && x.length >= min;
const oneOf =
  (...values: unknown[]) =>
  (x: unknown) =>
    values.includes(x);
const isString = (x: unknown) => typeof x === "string";
const options = (x: unknown) => x === undefined || (typeof x === "object" && x !== null && !Array.isArray(x));
const never = () => false;

interface Position {
  /** Which argument; with `field`, that field of it. */
  readonly arg: number;
  readonly field?: string;
  /** The name the message must carry. */
  readonly names: RegExp;
  readonly codes: readonly CapkitErrorCode[];
  readonly valid: (x: unknown) => boolean;
  /**
   * For a whole argument that holds fields or items: the codes those may be refused with. An object or array
   * given there is refused for what is wrong inside it (a field missing, an item of the wrong type), not as
   * itself.
   */
  readonly inner?: readonly CapkitErrorCode[];
}

interface Case {
  readonly name: string;
  /** Valid arguments, fresh for each call. */
  readonly args: () => unknown[];
  readonly call: (...args: unknown[]) => unknown;
  readonly positions: readonly Position[];
}

const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const SECRET: readonly CapkitErrorCode[] = ["OTP_SECRET_INVALID", "OTP_SECRET_TOO_SHORT"];
const URI: readonly CapkitErrorCode[] = ["OTP_URI_INVALID"];

const F = Function.prototype.apply;
const call =
  (f: (...a: never[]) => unknown) =>
  (...args: unknown[]) =>
    F.call(f, undefined, args);
const construct =
  <T>(C: new (...a: never[]) => T) =>
  (...args: unknown[]) =>
    Reflect.construct(C, args);

const totpKey = () => ({
  type: "totp",
  secret: SEED,
  account: "jo",
  issuer: "ACME",
  algorithm: "SHA1",
  digits: 6,
  period: 30,
});

const pskcKey = () => ({
  id: "1",
  type: "hotp",
  algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
  secret: SEED,
  counter: 0,
  responseLength: 6,
});

const CASES: Case[] = [
  {
    name: "new HmacKey(secret, algorithm, options)",
    args: () => [SEED, "SHA1", {}],
    call: construct(HmacKey),
    positions: [
      { arg: 0, names: /^the secret /, codes: SECRET, valid: bytes(16) },
      { arg: 1, names: /^the algorithm /, codes: INPUT, valid: optional(oneOf("SHA1", "SHA256", "SHA512")) },
      { arg: 2, names: /^the key options /, codes: INPUT, valid: options },
      {
        arg: 2,
        field: "allowShortSecret",
        names: /^allowShortSecret /,
        codes: INPUT,
        valid: optional((x) => typeof x === "boolean"),
      },
    ],
  },
  {
    name: "hotp(key, counter, digits)",
    args: () => [KEY, 1, 6],
    call: call(hotp),
    positions: [
      { arg: 0, names: /^the key /, codes: INPUT, valid: never },
      { arg: 1, names: /^the counter /, codes: INPUT, valid: integer(0, Number.MAX_SAFE_INTEGER) },
      { arg: 2, names: /^digits /, codes: INPUT, valid: optional(integer(6, 10)) },
    ],
  },
  {
    name: "totp(key, time, digits, params)",
    args: () => [KEY, 59, 8, { step: 30, t0: 0 }],
    call: call(totp),
    positions: [
      { arg: 0, names: /^the key /, codes: INPUT, valid: never },
      { arg: 1, names: /^the time /, codes: INPUT, valid: seconds },
      { arg: 2, names: /^digits /, codes: INPUT, valid: optional(integer(6, 10)) },
      { arg: 3, names: /^the TOTP parameters /, codes: INPUT, valid: options },
      { arg: 3, field: "step", names: /^the step /, codes: INPUT, valid: optional(integer(1, 86400)) },
      {
        arg: 3,
        field: "t0",
        names: /^(T0 |the time is before T0)/,
        codes: INPUT,
        valid: optional((x) => seconds(x) && unixSeconds(x as number) <= 59),
      },
    ],
  },
  {
    name: "totpStep(time, params)",
    args: () => [59, {}],
    call: call(totpStep),
    positions: [
      { arg: 0, names: /^the time /, codes: INPUT, valid: seconds },
      { arg: 1, names: /^the TOTP parameters /, codes: INPUT, valid: options },
    ],
  },
  {
    name: "new HotpGenerator(key, digits) and its code(counter)",
    args: () => [KEY, 6, 0],
    call: (key, digits, counter) =>
      new HotpGenerator(key as HmacKey, digits as number).code(counter as number),
    positions: [
      { arg: 0, names: /^the key /, codes: INPUT, valid: never },
      { arg: 1, names: /^digits /, codes: INPUT, valid: optional(integer(6, 10)) },
      { arg: 2, names: /^the counter /, codes: INPUT, valid: integer(0, Number.MAX_SAFE_INTEGER) },
    ],
  },
  {
    name: "matchHotp(gen, code, counter, lookAhead)",
    args: () => [GEN, "755224", 0, 10],
    call: call(matchHotp),
    positions: [
      { arg: 0, names: /^the generator /, codes: INPUT, valid: never },
      { arg: 1, names: /^the code /, codes: INPUT, valid: isString },
      { arg: 2, names: /^the counter /, codes: INPUT, valid: integer(0, Number.MAX_SAFE_INTEGER - 10) },
      { arg: 3, names: /^the look-ahead /, codes: INPUT, valid: optional(integer(0, 1000)) },
    ],
  },
  {
    name: "matchTotp(gen, code, time, window)",
    args: () => [GEN, "287082", 59, { past: 1, future: 1 }],
    call: call(matchTotp),
    positions: [
      { arg: 0, names: /^the generator /, codes: INPUT, valid: never },
      { arg: 1, names: /^the code /, codes: INPUT, valid: isString },
      { arg: 2, names: /^the time /, codes: INPUT, valid: seconds },
      { arg: 3, names: /^the TOTP window /, codes: INPUT, valid: options },
      { arg: 3, field: "past", names: /^the past window /, codes: INPUT, valid: optional(integer(0, 100)) },
      {
        arg: 3,
        field: "future",
        names: /^the future window /,
        codes: INPUT,
        valid: optional(integer(0, 100)),
      },
      {
        arg: 3,
        field: "notBefore",
        names: /^notBefore /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
    ],
  },
  {
    name: "base32Decode(text), base32Encode(bytes), parseAlgorithm(name)",
    args: () => ["GEZDGNBV", SEED, "sha256"],
    call: (text, b, name) => [
      base32Decode(text as string),
      base32Encode(b as Uint8Array),
      parseAlgorithm(name as string),
    ],
    positions: [
      { arg: 0, names: /^the base32 secret /, codes: ["OTP_SECRET_INVALID"], valid: isString },
      { arg: 1, names: /^the bytes to encode /, codes: INPUT, valid: bytes(0) },
      { arg: 2, names: /^the algorithm /, codes: INPUT, valid: isString },
    ],
  },
  {
    name: "new Ocra(suite, secret).response(input)",
    args: () => [
      "OCRA-1:HOTP-SHA1-6:C-QN08-PSHA1-S064-T1M",
      SEED,
      { challenge: "12345678", counter: 1, pin: "1234", session: new Uint8Array(64), time: 59 },
    ],
    call: (suite, secret, input) => new Ocra(suite as string, secret as Uint8Array).response(input as never),
    positions: [
      { arg: 0, names: /^(the OCRA suite |OCRA suite: )/, codes: ["OCRA_SUITE_INVALID"], valid: never },
      { arg: 1, names: /^the secret /, codes: SECRET, valid: bytes(16) },
      { arg: 2, names: /^the OCRA input /, codes: INPUT, valid: never, inner: ["OCRA_INPUT_INVALID"] },
      {
        arg: 2,
        field: "challenge",
        names: /(^the challenge |numeric challenge)/,
        codes: ["OCRA_INPUT_INVALID"],
        valid: (x) => typeof x === "string" && /^[0-9]{1,8}$/.test(x),
      },
      {
        arg: 2,
        field: "counter",
        names: /(^the counter |needs a counter)/,
        codes: ["INPUT_INVALID", "OCRA_INPUT_INVALID"],
        valid: integer(0, Number.MAX_SAFE_INTEGER),
      },
      {
        arg: 2,
        field: "pin",
        names: /(^the PIN |needs a PIN)/,
        codes: ["OCRA_INPUT_INVALID"],
        valid: (x) => typeof x === "string" && /^[\x20-\x7e]*$/.test(x),
      },
      {
        arg: 2,
        field: "session",
        names: /(^the session information |bytes of session information)/,
        codes: ["OCRA_INPUT_INVALID"],
        valid: bytes(64),
      },
      {
        arg: 2,
        field: "time",
        names: /(^the time |needs the time)/,
        codes: ["INPUT_INVALID", "OCRA_INPUT_INVALID"],
        valid: seconds,
      },
    ],
  },
  {
    name: "parseOcraSuite(text), parseOtpAuthUri(uri)",
    args: () => ["OCRA-1:HOTP-SHA1-6:QN08", "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"],
    call: (suite, uri) => [parseOcraSuite(suite as string), parseOtpAuthUri(uri as string)],
    positions: [
      { arg: 0, names: /^(the OCRA suite |OCRA suite: )/, codes: ["OCRA_SUITE_INVALID"], valid: never },
      { arg: 1, names: /^(the otpauth URI |otpauth URI: )/, codes: URI, valid: never },
    ],
  },
  {
    name: "buildOtpAuthUri(key)",
    args: () => [totpKey()],
    call: call(buildOtpAuthUri),
    positions: [
      { arg: 0, names: /^the key /, codes: URI, valid: never, inner: ["OTP_SECRET_INVALID"] },
      { arg: 0, field: "type", names: /^the type /, codes: URI, valid: oneOf("totp") },
      { arg: 0, field: "secret", names: /^the secret /, codes: ["OTP_SECRET_INVALID"], valid: bytes(1) },
      {
        arg: 0,
        field: "account",
        names: /the account name /,
        codes: URI,
        valid: (x) => typeof x === "string" && x !== "" && !x.includes(":"),
      },
      {
        arg: 0,
        field: "issuer",
        names: /the issuer /,
        codes: URI,
        valid: optional((x) => typeof x === "string" && !x.includes(":")),
      },
      {
        arg: 0,
        field: "algorithm",
        names: /^the algorithm /,
        codes: URI,
        valid: oneOf("SHA1", "SHA256", "SHA512"),
      },
      { arg: 0, field: "digits", names: /^digits /, codes: URI, valid: integer(6, 10) },
      { arg: 0, field: "period", names: /^the period /, codes: URI, valid: optional(integer(1, 86400)) },
      {
        arg: 0,
        field: "counter",
        names: /counter belongs to hotp keys/,
        codes: URI,
        valid: (x) => x === undefined,
      },
    ],
  },
  {
    name: "importPskc(xml, options)",
    args: () => [OTP.rfc6030_examples.figure2.xml, {}],
    call: call(importPskc),
    positions: [
      // A string is the right type: what it holds is the XML reader's business (pskc-oracle, properties).
      { arg: 0, names: /^XML rejected: input is not text$/, codes: ["PSKC_XML_REJECTED"], valid: isString },
      { arg: 1, names: /^the PSKC import options /, codes: INPUT, valid: options },
      {
        arg: 1,
        field: "preSharedKey",
        names: /^the pre-shared key /,
        codes: INPUT,
        valid: optional(bytes(0)),
      },
      { arg: 1, field: "password", names: /^the password /, codes: INPUT, valid: optional(isString) },
      {
        arg: 1,
        field: "maxIterations",
        names: /^maxIterations /,
        codes: INPUT,
        valid: optional(integer(1, 2 ** 31)),
      },
    ],
  },
  {
    name: "exportPskc(keys, protection)",
    args: () => [[pskcKey()], { kind: "none" }],
    call: call(exportPskc),
    positions: [
      {
        arg: 0,
        names: /^the keys /,
        codes: INPUT,
        valid: (x) => Array.isArray(x) && x.length === 0,
        inner: ["OTP_SECRET_INVALID"],
      },
      { arg: 1, names: /^the protection/, codes: INPUT, valid: (x) => x === undefined, inner: [] },
      { arg: 1, field: "kind", names: /^the protection kind /, codes: INPUT, valid: oneOf("none") },
    ],
  },
  {
    name: "exportPskc([key]): every field of a key",
    args: () => [pskcKey()],
    call: (key) => exportPskc([key as never]),
    positions: [
      { arg: 0, field: "id", names: /^key 1's id /, codes: INPUT, valid: isString },
      {
        arg: 0,
        field: "secret",
        names: /^key 1's secret /,
        codes: ["OTP_SECRET_INVALID"],
        valid: optional(bytes(0)),
      },
      {
        arg: 0,
        field: "counter",
        names: /^key 1's counter /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      {
        arg: 0,
        field: "responseLength",
        names: /^key 1's response length /,
        codes: INPUT,
        valid: optional(integer(0, 128)),
      },
      { arg: 0, field: "serialNo", names: /^key 1's serialNo /, codes: INPUT, valid: optional(isString) },
    ],
  },
  {
    name: "tokenFromOtpAuth(uri), tokenFromPskcKey(key), pskcKeyOf(token, id)",
    args: () => [
      "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      { id: "1", type: "hotp", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", secret: SEED },
      { kind: "hotp", secret: SEED, algorithm: "SHA1", digits: 6, counter: 0 },
      "id",
    ],
    call: (uri, key, token, id) => [
      tokenFromOtpAuth(uri as string),
      tokenFromPskcKey(key as never),
      pskcKeyOf(token as never, id as string),
    ],
    positions: [
      {
        arg: 0,
        names: /^(the URI |the otpauth URI |otpauth URI: )/,
        codes: URI,
        valid: never,
        inner: ["OTP_SECRET_INVALID"],
      },
      { arg: 1, names: /^the PSKC key /, codes: INPUT, valid: never, inner: ["PSKC_INVALID", ...SECRET] },
      {
        arg: 2,
        names: /^the token /,
        codes: INPUT,
        valid: never,
        inner: ["OTP_SECRET_INVALID", "OCRA_SUITE_INVALID"],
      },
      { arg: 2, field: "kind", names: /^the token kind /, codes: INPUT, valid: oneOf("hotp") },
      { arg: 2, field: "secret", names: /^the secret /, codes: ["OTP_SECRET_INVALID"], valid: bytes(1) },
      { arg: 2, field: "digits", names: /^digits /, codes: INPUT, valid: integer(6, 10) },
      {
        arg: 2,
        field: "counter",
        names: /^the counter /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      { arg: 3, names: /^the key id /, codes: INPUT, valid: isString },
    ],
  },
];

/** The arguments with one position replaced by `x`. */
function withValue(c: Case, p: Position, x: unknown): unknown[] {
  const args = c.args();
  if (p.field === undefined) args[p.arg] = x;
  else {
    const o = { ...(args[p.arg] as Record<string, unknown>) };
    if (x === undefined) delete o[p.field];
    else o[p.field] = x;
    args[p.arg] = o;
  }
  return args;
}

/** The error `run` throws, or a failure if it returns. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  throw new Error("returned instead of throwing");
}

group("the oath API refuses what plain JavaScript passes wrong, with a typed and true error", () => {
  for (const c of CASES) {
    it(`${c.name}: the valid arguments work`, () => {
      expect(() => c.call(...c.args())).not.toThrow();
    });
    for (const p of c.positions) {
      const where = p.field === undefined ? `argument ${p.arg + 1}` : `argument ${p.arg + 1}.${p.field}`;
      it(`${c.name}, ${where}`, () => {
        fc.assert(
          fc.property(wrongValue, (x) => {
            fc.pre(!p.valid(x));
            const e = thrown(() => c.call(...withValue(c, p, x)));
            expect(e).toBeInstanceOf(CapkitError);
            const err = e as CapkitError;
            if (
              p.inner !== undefined &&
              (Array.isArray(x) || Object.prototype.toString.call(x) === "[object Object]")
            ) {
              // Refused for its contents: a typed error of the argument's family, saying what inside is wrong.
              expect([...p.codes, ...p.inner], err.message).toContain(err.code);
              return;
            }
            expect(p.codes, err.message).toContain(err.code);
            expect(err.message).toMatch(p.names);
            // "got …" says what was given, by its type (or, for a time, its number): never something else.
            const got = /; got (.+)$/.exec(err.message)?.[1];
            if (got !== undefined)
              expect([describe(x), typeof x === "number" ? String(x) : ""]).toContain(got);
            if (/ is empty$/.test(err.message)) expect(x).toHaveLength(0);
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});

group("never a wrong code: the same moment in every accepted form gives the same code", () => {
  it("a Date and its Unix seconds agree; milliseconds are refused, saying so", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 37 }), fc.integer({ min: 6, max: 10 }), (s, digits) => {
        expect(totp(KEY, new Date(s * 1000), digits)).toBe(totp(KEY, s, digits));
        expect(matchTotp(GEN, totp(KEY, s), new Date(s * 1000), { past: 0, future: 0 })?.offset).toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1_099_511_627_776, max: 8.64e15 }), (ms) => {
        expect(() => totp(KEY, ms)).toThrow(
          /must be Unix seconds; \d+ is milliseconds \(Date\.now\(\)\): divide by 1000, or pass a Date/,
        );
      }),
    );
  });

  it("a string secret is refused where it once became a garbage URI; a base32 one decodes to the same URI", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect(() => buildOtpAuthUri({ ...totpKey(), secret } as never)).toThrow(
      "the secret must be bytes (a Uint8Array); got a string",
    );
    expect(buildOtpAuthUri({ ...totpKey(), secret: base32Decode(secret) } as never)).toContain(
      `secret=${secret}&`,
    );
    expect(() => new HmacKey(secret as never)).toThrow(
      "the secret must be bytes (a Uint8Array); got a string",
    );
  });
});
