import {
  type ArgumentCase,
  bytes,
  call,
  checkArguments,
  construct,
  integer,
  isString,
  matching,
  optional,
  options,
} from "@capkit/test-support/arguments";
import { describe, expect, it } from "vitest";
import {
  asciiToBytes,
  bytesToPrintable,
  CapkitError,
  type CapkitErrorCode,
  concat,
  constantTimeEqual,
  digitsToBcd,
  equalBytes,
  expectBoolean,
  expectBytes,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectRecord,
  expectString,
  fromBase64,
  fromHex,
  isCapkitError,
  isRecord,
  readUint,
  toBase64,
  toHex,
  writeUint,
  xor,
} from "../src/index.js";

/**
 * The core's public functions as plain JavaScript calls them (issue 21): a wrong type in any argument is a
 * CapkitError naming it — never a wrong answer (a string compared as bytes, NaN written as zeros) and never a
 * TypeError. `describeValue` and `isRecord` take anything by design; `argumentError` builds the error it is
 * given. The `what`, `code`, `min`/`max` and `allowed` parameters of the expect* helpers are the calling
 * package's own constants, not a caller's input: only the value they check is tried here.
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const B = () => new Uint8Array([1, 2, 3]);
const code = matching(/^[A-Z][A-Z0-9_]*$/);

const CASES: ArgumentCase[] = [
  {
    name: "fromHex(hex, what)",
    args: () => ["9F 17", "the tag"],
    call: call(fromHex),
    positions: [{ arg: 0, names: /^the tag /, codes: INPUT, valid: isString }],
  },
  {
    name: "toHex(bytes)",
    args: () => [B()],
    call: call(toHex),
    positions: [{ arg: 0, names: /^the bytes to write as hex /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "fromBase64(text, what)",
    args: () => ["AQID", "the value"],
    call: call(fromBase64),
    positions: [{ arg: 0, names: /^the value /, codes: INPUT, valid: isString }],
  },
  {
    name: "toBase64(bytes)",
    args: () => [B()],
    call: call(toBase64),
    positions: [{ arg: 0, names: /^the bytes to write as base64 /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "concat(a, b)",
    args: () => [B(), B()],
    call: call(concat),
    positions: [
      { arg: 0, names: /^part 1 to concatenate /, codes: INPUT, valid: bytes(0) },
      { arg: 1, names: /^part 2 to concatenate /, codes: INPUT, valid: bytes(0) },
    ],
  },
  {
    name: "xor(a, b)",
    args: () => [B(), B()],
    call: call(xor),
    positions: [
      { arg: 0, names: /^(the first bytes to xor |xor: lengths differ)/, codes: INPUT, valid: bytes(3, 3) },
      { arg: 1, names: /^(the second bytes to xor |xor: lengths differ)/, codes: INPUT, valid: bytes(3, 3) },
    ],
  },
  ...[
    ["equalBytes", equalBytes],
    ["constantTimeEqual", constantTimeEqual],
  ].map(
    ([name, f]): ArgumentCase => ({
      name: `${name as string}(a, b)`,
      args: () => [B(), B()],
      call: call(f as typeof equalBytes),
      positions: [
        { arg: 0, names: /^the first bytes to compare /, codes: INPUT, valid: bytes(0) },
        { arg: 1, names: /^the second bytes to compare /, codes: INPUT, valid: bytes(0) },
      ],
    }),
  ),
  {
    name: "readUint(bytes)",
    args: () => [B()],
    call: call(readUint),
    positions: [
      {
        arg: 0,
        names: /^(the integer's bytes |integer wider than 48 bits)/,
        codes: INPUT,
        valid: bytes(0, 6),
      },
    ],
  },
  {
    name: "writeUint(value, length)",
    args: () => [258, 2],
    call: call(writeUint),
    positions: [
      {
        arg: 0,
        names: /^(the integer |integer \d+ does not fit)/,
        codes: INPUT,
        valid: integer(0, 0xffff),
      },
      {
        arg: 1,
        names: /^(the integer's length |integer 258 does not fit)/,
        codes: INPUT,
        valid: integer(2, 8),
      },
    ],
  },
  {
    name: "digitsToBcd(digits, length)",
    args: () => ["1234", 4],
    call: call(digitsToBcd),
    positions: [
      {
        arg: 0,
        names: /^(the digits |expected decimal digits only|\d+ digits do not fit)/,
        codes: INPUT,
        valid: matching(/^[0-9]{0,8}$/),
      },
      {
        arg: 1,
        names: /^(the BCD length |4 digits do not fit)/,
        codes: INPUT,
        valid: integer(2, 255),
      },
    ],
  },
  {
    name: "bytesToPrintable(bytes)",
    args: () => [B()],
    call: call(bytesToPrintable),
    positions: [{ arg: 0, names: /^the field's bytes /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "asciiToBytes(text)",
    args: () => ["ACME"],
    call: call(asciiToBytes),
    positions: [
      {
        arg: 0,
        names: /^(the ASCII text |expected ASCII text)/,
        codes: INPUT,
        valid: isString,
      },
    ],
  },
  {
    name: "new CapkitError(code, message, options)",
    args: () => ["NO_CARD", "no card", { hint: "insert the card" }],
    call: construct(CapkitError),
    positions: [
      { arg: 0, names: /^the error code /, codes: INPUT, valid: code },
      { arg: 1, names: /^the error message /, codes: INPUT, valid: isString },
      { arg: 2, names: /^the error options /, codes: INPUT, valid: options },
    ],
  },
  {
    name: "isCapkitError(value, code)",
    args: () => [new CapkitError("NO_CARD", "no card"), "NO_CARD"],
    call: call(isCapkitError),
    positions: [{ arg: 1, names: /^the error code /, codes: INPUT, valid: optional(code) }],
  },
  {
    name: "expectBytes(value, what)",
    args: () => [B(), "the key"],
    call: call(expectBytes),
    positions: [{ arg: 0, names: /^the key /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "expectString(value, what)",
    args: () => ["x", "the label"],
    call: call(expectString),
    positions: [{ arg: 0, names: /^the label /, codes: INPUT, valid: isString }],
  },
  {
    name: "expectInteger(value, what, min, max)",
    args: () => [5, "the counter", 0, 10],
    call: call(expectInteger),
    positions: [{ arg: 0, names: /^the counter /, codes: INPUT, valid: integer(0, 10) }],
  },
  {
    name: "expectOptions(value, what)",
    args: () => [{}, "the options"],
    call: call(expectOptions),
    positions: [
      { arg: 0, names: /^the options /, codes: INPUT, valid: (x) => x === undefined || isRecord(x) },
    ],
  },
  {
    name: "expectRecord(value, what)",
    args: () => [{}, "the profile"],
    call: call(expectRecord),
    positions: [{ arg: 0, names: /^the profile /, codes: INPUT, valid: isRecord }],
  },
  {
    name: "expectBoolean(value, what)",
    args: () => [true, "exclusive"],
    call: call(expectBoolean),
    positions: [
      { arg: 0, names: /^exclusive /, codes: INPUT, valid: optional((x) => typeof x === "boolean") },
    ],
  },
  {
    name: "expectOneOf(value, what, allowed)",
    args: () => ["SHA1", "the algorithm", ["SHA1", "SHA256"]],
    call: call(expectOneOf),
    positions: [
      { arg: 0, names: /^the algorithm /, codes: INPUT, valid: (x) => x === "SHA1" || x === "SHA256" },
    ],
  },
];

describe("@capkit/core's arguments (issue 21)", () => {
  checkArguments(CASES);

  it("what the checks added keep: results for valid arguments, the old messages past them", () => {
    expect(concat()).toEqual(new Uint8Array(0));
    expect(writeUint(0x0102, 2)).toEqual(new Uint8Array([1, 2]));
    expect(() => writeUint(65536, 2)).toThrow("integer 65536 does not fit in 2 bytes");
    expect(digitsToBcd("1234", 4)).toEqual(new Uint8Array([0, 0, 0x12, 0x34]));
    expect(isCapkitError(new CapkitError("NO_CARD", "x"), "NO_CARD")).toBe(true);
    expect(isCapkitError(new Error("x"))).toBe(false);
    const e = new CapkitError("NO_CARD", "no card", { hint: "h", details: { a: 1 } });
    expect([e.code, e.message, e.hint, e.details]).toEqual(["NO_CARD", "no card", "h", { a: 1 }]);
  });
});
