import type { CapkitErrorCode } from "@capkit/core";
import {
  type ArgumentCase,
  call,
  checkArguments,
  construct,
  integer,
  matching,
  never,
  oneOf,
  optional,
} from "@capkit/test-support/arguments";
import { describe, expect } from "vitest";
import {
  amountToMinorUnits,
  CAP_ISSUER_FORMAT,
  CapCodeModel,
  generateCapCode,
  parseCapIssuerRecord,
  READER_PROFILES,
  ReplayConnection,
  readerProfile,
  validateTds,
} from "../src/index.js";
import { loadTranscript, SpyConnection } from "./helpers.js";

/**
 * The engine's public entry points as plain JavaScript calls them (issue 21): a wrong type or unit in any
 * argument is a typed error naming it — and, for the engine, refused before the first APDU, so it spends
 * neither an ATC nor a PIN try (the spy connection must have sent nothing).
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const PROFILE: readonly CapkitErrorCode[] = ["PROFILE_INVALID"];
const builtIn = (x: unknown) => Object.values(READER_PROFILES).includes(x as never);
const isFunction = (x: unknown) => typeof x === "function";

// Two recorded cards: a French Visa DPA card (identify) and a Belgian MasterCard CAP card (respond 1234).
let spy = new SpyConnection(new ReplayConnection(loadTranscript("french-visa-dpa-identify")));
const freshCard = (name = "french-visa-dpa-identify") => {
  spy = new SpyConnection(new ReplayConnection(loadTranscript(name)));
  return spy;
};
const nothingSent = () => expect(spy.sent, "APDUs sent before the refusal").toEqual([]);

/** A Sésame card's issuer record (the simulated card's shape). */
const record = () => ({
  format: CAP_ISSUER_FORMAT,
  pan: "4970100000000014",
  psn: "01",
  profile: "sesame",
  cryptogramVersion: "visa-10",
  aid: "A0000000038002",
  aip: "1000",
  cdol1: "9F02069F03069F1A0295055F2A029A039C019F3704",
  iaf: "80",
  ipb: "0000FFFFFF0000000000000000000020B938",
  iad: "06010A03A40000",
  key: { kind: "test-imk", imk: "0123456789ABCDEFFEDCBA9876543210", derivation: "A" },
});
const MODEL = new CapCodeModel(parseCapIssuerRecord(record()), new Uint8Array(16).fill(7));

const recordField = (field: string, re: RegExp) => ({
  arg: 0,
  field,
  names: new RegExp(`^CAP issuer record: "${field}" must be `),
  codes: INPUT,
  valid: matching(re),
});

const CASES: ArgumentCase[] = [
  {
    name: "amountToMinorUnits(amount)",
    args: () => ["1234.56"],
    call: call(amountToMinorUnits),
    positions: [
      {
        arg: 0,
        names: /^the amount /,
        codes: INPUT,
        valid: matching(/^\s*[0-9]{1,10}(?:[.,][0-9]{1,2})?\s*$/),
      },
    ],
  },
  {
    name: "validateTds(numbers)",
    args: () => [["1234"]],
    call: call(validateTds),
    positions: [
      {
        arg: 0,
        names: /^(the TDS numbers |TDS takes |each TDS number )/,
        codes: INPUT,
        valid: (x) =>
          Array.isArray(x) &&
          x.length >= 1 &&
          x.length <= 10 &&
          x.every((n) => typeof n === "string" && /^[0-9]{1,10}$/.test(n)),
        inner: INPUT,
      },
    ],
  },
  {
    name: 'generateCapCode(conn, { mode: "identify" }, options)',
    args: () => [freshCard(), { mode: "identify" }, { profile: readerProfile("sesame"), pin: "1234" }],
    call: call(generateCapCode),
    afterRefusal: nothingSent,
    positions: [
      { arg: 0, names: /^the card connection /, codes: INPUT, valid: never },
      { arg: 1, names: /^the inputs /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 2, names: /^the options /, codes: INPUT, valid: never, inner: ["PIN_INVALID", ...PROFILE] },
      { arg: 2, field: "pin", names: /^the PIN /, codes: ["PIN_INVALID"], valid: matching(/^[0-9]{4,12}$/) },
      {
        arg: 2,
        field: "force",
        names: /^force /,
        codes: INPUT,
        valid: optional((x) => typeof x === "boolean"),
      },
      {
        arg: 2,
        field: "profile",
        names: /^(the reader profile |reader profile: )/,
        codes: PROFILE,
        valid: optional(builtIn),
      },
      {
        arg: 2,
        field: "aid",
        names: /^the AID /,
        codes: INPUT,
        valid: optional(matching(/^(?:[0-9A-Fa-f]{2}){5,16}$/)),
      },
      { arg: 2, field: "onStep", names: /^onStep /, codes: INPUT, valid: optional(isFunction) },
      { arg: 2, field: "confirmRisk", names: /^confirmRisk /, codes: INPUT, valid: optional(isFunction) },
    ],
  },
  {
    name: 'generateCapCode(conn, { mode: "respond", challenge }, options)',
    args: () => [
      freshCard("belgian-vasco810-cap-respond-1234"),
      { mode: "respond", challenge: "1234" },
      { profile: readerProfile("belgian"), pin: "1234" },
    ],
    call: call(generateCapCode),
    afterRefusal: nothingSent,
    positions: [
      {
        arg: 1,
        field: "mode",
        names: /^the mode /,
        codes: INPUT,
        valid: oneOf("identify", "respond", "sign"),
      },
      {
        arg: 1,
        field: "challenge",
        names: /^(the challenge |respond needs a challenge)/,
        codes: INPUT,
        valid: matching(/^[0-9]{1,8}$/),
      },
      {
        arg: 1,
        field: "amount",
        names: /^(the amount |respond takes no amount)/,
        codes: INPUT,
        valid: (x) => x === undefined,
      },
      {
        arg: 1,
        field: "currency",
        names: /^(the currency |respond takes no amount)/,
        codes: INPUT,
        valid: (x) => x === undefined,
      },
      {
        arg: 1,
        field: "tds",
        names: /^(the TDS numbers |TDS numbers go with identify)/,
        codes: INPUT,
        valid: (x) => x === undefined,
      },
    ],
  },
  {
    name: "readerProfile(name)",
    args: () => ["sesame"],
    call: call(readerProfile),
    positions: [
      {
        arg: 0,
        names: /^(the reader profile's name |unknown reader profile )/,
        codes: PROFILE,
        valid: (x) => typeof x === "string" && Object.hasOwn(READER_PROFILES, x),
      },
    ],
  },
  {
    name: "parseCapIssuerRecord(record)",
    args: () => [record()],
    call: call(parseCapIssuerRecord),
    positions: [
      { arg: 0, names: /^CAP issuer record /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "format", names: /^CAP issuer record: "format" /, codes: INPUT, valid: never },
      recordField("pan", /^[0-9]{8,19}$/),
      recordField("psn", /^[0-9]{2}$/),
      // A well-formed version name that is no version is refused by what it names (KEY_INVALID).
      { ...recordField("cryptogramVersion", /^[a-z0-9-]+$/) },
      recordField("aip", /^[0-9A-Fa-f]{4}$/),
      recordField("iaf", /^[0-9A-Fa-f]{2}$/),
      recordField("ipb", /^([0-9A-Fa-f]{2})*$/),
      { arg: 0, field: "key", names: /^CAP issuer record: "key" /, codes: INPUT, valid: never },
    ],
  },
  {
    name: "new CapCodeModel(record, key, profile)",
    args: () => [record(), new Uint8Array(16), undefined],
    call: construct(CapCodeModel),
    positions: [
      { arg: 0, names: /^the record /, codes: INPUT, valid: never, inner: INPUT },
      {
        arg: 0,
        field: "cdol1",
        // Hex that is not a DOL is named as the record's field; a DOL lacking Table 26 tags, by what it lacks.
        names: /^(the record: "cdol1" |the card's CDOL1 lacks )/,
        codes: [...INPUT, "TLV_MALFORMED", "CDOL_INCOMPLETE"],
        valid: never,
      },
      {
        arg: 1,
        names: /^(the key |an ICC master key is 16 bytes)/,
        codes: ["KEY_INVALID"],
        valid: (x) => x instanceof Uint8Array && x.length === 16,
      },
      {
        arg: 2,
        names: /^(the reader profile |reader profile: )/,
        codes: PROFILE,
        valid: optional(builtIn),
      },
    ],
  },
  {
    name: "CapCodeModel: forInputs(inputs)(atc), candidateAtcs(last, window, code)",
    args: () => [{ mode: "identify" }, 42, 10, 20, 12345],
    call: (inputs, atc, last, window, code) => [
      MODEL.forInputs(inputs as never)(atc as number),
      MODEL.candidateAtcs(last as number, window as number, code as number),
    ],
    positions: [
      { arg: 0, names: /^the inputs /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 1, names: /^the ATC /, codes: INPUT, valid: integer(0, 0xffff) },
      { arg: 2, names: /^the last ATC /, codes: INPUT, valid: integer(-1, 0xffff) },
      { arg: 3, names: /^the window /, codes: INPUT, valid: integer(0, 0xffff) },
      { arg: 4, names: /^the code /, codes: INPUT, valid: integer(0, Number.MAX_SAFE_INTEGER) },
    ],
  },
];

describe("the emv-cap API refuses what plain JavaScript passes wrong, with a typed and true error", () => {
  checkArguments(CASES);
});
