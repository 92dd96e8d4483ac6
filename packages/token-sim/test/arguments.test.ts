import { CapkitError, type CapkitErrorCode, describeValue } from "@capkit/core";
import {
  type ArgumentCase,
  bytes,
  call,
  checkArguments,
  construct,
  integer,
  isString,
  matching,
  never,
  oneOf,
  optional,
  options,
  wrongValue,
} from "@capkit/test-support/arguments";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FakeClock,
  newSimCardState,
  parseSimCardState,
  SESAME_DELAYS,
  SesameReader,
  SgpassToken,
  SIM_CARD_PROFILES,
  SimulatedCard,
} from "../src/index.js";
import { readCardStateFile, VpcdBridge } from "../src/node.js";
import { MemoryKeyStore, SoftDigipass } from "../src/soft-digipass.js";

/**
 * The simulators' constructors and entry points as plain JavaScript calls them (issue 21): a wrong type or
 * unit in any argument or option is a typed error naming it, never a device that misbehaves later (a PIN
 * typed as a number, a key the reader does not have, a clock without timers).
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const SEED = new TextEncoder().encode("12345678901234567890");
const isFunction = (x: unknown) => typeof x === "function";
const clockLike = (x: unknown) => x instanceof FakeClock;
const STATE = newSimCardState("sesame", "1234");
const KEYS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "OK", "C", "FN"];

const stateField = (field: string, valid: (x: unknown) => boolean) => ({
  arg: 0,
  field,
  names: new RegExp(`^simulated card state: "${field}" must be `),
  codes: INPUT,
  valid,
});

const CASES: ArgumentCase[] = [
  {
    name: "newSimCardState(profile, pin)",
    args: () => ["sesame", "1234"],
    call: call(newSimCardState),
    positions: [
      {
        arg: 0,
        names: /^(the card profile's name |unknown card profile )/,
        codes: ["PROFILE_INVALID"],
        valid: (x) => typeof x === "string" && Object.hasOwn(SIM_CARD_PROFILES, x),
      },
      { arg: 1, names: /^the PIN /, codes: ["PIN_INVALID"], valid: matching(/^[0-9]{4,12}$/) },
    ],
  },
  {
    name: "new SimulatedCard(state, options)",
    args: () => [{ ...STATE }, { t0: false }],
    call: construct(SimulatedCard),
    positions: [
      { arg: 0, names: /^the simulated card state /, codes: INPUT, valid: never, inner: INPUT },
      stateField("pan", matching(/^[0-9]{12,19}$/)),
      stateField("psn", matching(/^[0-9]{2}$/)),
      stateField("pin", matching(/^[0-9]{4,12}$/)),
      stateField("imk", matching(/^[0-9A-Fa-f]{32}$/)),
      stateField("pinTries", integer(0, 3)),
      stateField("atc", integer(0, 0xffff)),
      { arg: 1, names: /^the card options /, codes: INPUT, valid: options },
      { arg: 1, field: "onStateChange", names: /^onStateChange /, codes: INPUT, valid: optional(isFunction) },
      { arg: 1, field: "t0", names: /^t0 /, codes: INPUT, valid: optional((x) => typeof x === "boolean") },
      {
        arg: 1,
        field: "coldState",
        names: /^coldState /,
        codes: INPUT,
        valid: optional(oneOf("6D00", "6E00")),
      },
    ],
  },
  {
    name: "parseSimCardState(state)",
    args: () => [{ ...STATE }],
    call: call(parseSimCardState),
    positions: [
      { arg: 0, names: /^the simulated card state /, codes: INPUT, valid: never, inner: INPUT },
      stateField("expiry", matching(/^[0-9]{6}$/)),
      // A limit below the tries left is refused as the tries' fault: "pinTries" must be 0 to the limit.
      stateField("pinTryLimit", integer(1, 15)),
    ],
  },
  {
    name: "new SesameReader(options), then press(key)",
    args: () => [{ clock: new FakeClock(), codeDisplayMs: 35_000, currency: "978" }, "OK"],
    call: (o, key) => new SesameReader(o as never).press(key as never),
    positions: [
      { arg: 0, names: /^the reader options /, codes: INPUT, valid: options },
      { arg: 0, field: "clock", names: /^the clock /, codes: INPUT, valid: optional(clockLike) },
      {
        arg: 0,
        field: "codeDisplayMs",
        names: /^codeDisplayMs /,
        codes: INPUT,
        valid: optional(integer(1, 86_400_000)),
      },
      {
        arg: 0,
        field: "inactivityMs",
        names: /^inactivityMs /,
        codes: INPUT,
        valid: optional(integer(1, 86_400_000)),
      },
      {
        arg: 0,
        field: "currency",
        names: /^the currency /,
        codes: INPUT,
        valid: optional(matching(/^[0-9]{3}$/)),
      },
      { arg: 0, field: "onEvent", names: /^onEvent /, codes: INPUT, valid: optional(isFunction) },
      { arg: 1, names: /^the key /, codes: INPUT, valid: oneOf(...KEYS) },
    ],
  },
  {
    name: "new SesameReader().insertCard(card)",
    args: () => [new SimulatedCard({ ...STATE })],
    call: (card) => new SesameReader({ clock: new FakeClock() }).insertCard(card as never),
    positions: [{ arg: 0, names: /^the card /, codes: INPUT, valid: never }],
  },
  {
    name: "new SgpassToken(config)",
    args: () => [{ kind: "totp", secret: SEED, digits: 6, step: 30, clock: new FakeClock() }],
    call: construct(SgpassToken),
    positions: [
      {
        arg: 0,
        names: /^the token configuration /,
        codes: INPUT,
        valid: never,
        inner: ["INPUT_INVALID", "OTP_SECRET_INVALID"],
      },
      { arg: 0, field: "kind", names: /^the kind /, codes: INPUT, valid: oneOf("totp", "hotp") },
      {
        arg: 0,
        field: "secret",
        names: /^the secret /,
        codes: ["OTP_SECRET_INVALID", "OTP_SECRET_TOO_SHORT"],
        valid: bytes(16),
      },
      { arg: 0, field: "digits", names: /^digits /, codes: INPUT, valid: optional(integer(6, 10)) },
      { arg: 0, field: "step", names: /^the step /, codes: INPUT, valid: optional(integer(1, 86_400)) },
      {
        arg: 0,
        field: "t0",
        names: /^T0 /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      {
        arg: 0,
        field: "counter",
        names: /^the counter /,
        codes: INPUT,
        valid: optional(integer(0, Number.MAX_SAFE_INTEGER)),
      },
      {
        arg: 0,
        field: "pin",
        names: /^(the PIN |the token PIN must be )/,
        codes: ["PIN_INVALID"],
        valid: optional(matching(/^[0-9]{4,8}$/)),
      },
      { arg: 0, field: "pinFailures", names: /^pinFailures /, codes: INPUT, valid: optional(integer(0, 5)) },
      {
        arg: 0,
        field: "ocraSuite",
        names: /^(the OCRA suite |OCRA suite: )/,
        codes: ["OCRA_SUITE_INVALID"],
        valid: (x) => x === undefined,
      },
      { arg: 0, field: "clock", names: /^the clock /, codes: INPUT, valid: optional(clockLike) },
      {
        arg: 0,
        field: "displayMs",
        names: /^displayMs /,
        codes: INPUT,
        valid: optional(integer(1, 86_400_000)),
      },
    ],
  },
  {
    name: "SgpassToken: enterPin(pin), sign(fields)",
    args: () => ["1234", ["12345678"]],
    call: (pin, fields) => {
      const t = new SgpassToken({
        kind: "hotp",
        secret: SEED,
        pin: "1234",
        ocraSuite: "OCRA-1:HOTP-SHA1-6:QN08",
        clock: new FakeClock(),
      });
      t.enterPin(pin as string);
      return t.sign(fields as string[]);
    },
    positions: [
      { arg: 0, names: /^the PIN /, codes: ["PIN_INVALID"], valid: isString },
      {
        arg: 1,
        names: /^(the fields |the challenge |numeric challenge|the OCRA question)/,
        codes: ["OCRA_INPUT_INVALID"],
        valid: never,
        inner: ["OCRA_INPUT_INVALID"],
      },
    ],
  },
  {
    name: "SoftDigipass.open(options)",
    args: () => [{ store: new MemoryKeyStore(), appVersion: "1.0.0", clock: new FakeClock() }],
    call: call(SoftDigipass.open),
    positions: [
      { arg: 0, names: /^the app options /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "store", names: /^the store /, codes: INPUT, valid: never },
      { arg: 0, field: "appVersion", names: /^the app version /, codes: INPUT, valid: isString },
      { arg: 0, field: "clock", names: /^the clock /, codes: INPUT, valid: optional(clockLike) },
    ],
  },
  {
    name: "new VpcdBridge(card, options), readCardStateFile(path)",
    args: () => [
      new SimulatedCard({ ...STATE }),
      { port: 35963, host: "127.0.0.1" },
      "/nonexistent/card.json",
    ],
    call: (card, o, path) => {
      new VpcdBridge(card as never, o as never);
      try {
        readCardStateFile(path as string);
      } catch (e) {
        // A string path is the right type: a file that is not there is its own, typed error.
        if (!(e instanceof CapkitError && /^cannot read the card file/.test(e.message))) throw e;
      }
    },
    positions: [
      { arg: 0, names: /^the card /, codes: INPUT, valid: never },
      { arg: 1, names: /^the bridge options /, codes: INPUT, valid: options },
      { arg: 1, field: "port", names: /^the port /, codes: INPUT, valid: optional(integer(1, 65535)) },
      { arg: 1, field: "host", names: /^the host /, codes: INPUT, valid: optional(isString) },
      { arg: 2, names: /^the path /, codes: INPUT, valid: isString },
    ],
  },
];

describe("the token-sim API refuses what plain JavaScript passes wrong, with a typed and true error", () => {
  checkArguments(CASES);

  it("SoftDigipass.activate(input): every field checked before the bank is called", async () => {
    const app = await SoftDigipass.open({ store: new MemoryKeyStore(), appVersion: "1.0.0" });
    let calls = 0;
    const input = () => ({
      transport: async () => {
        calls++;
        return "";
      },
      activationId: "a1",
      regId: "r1",
      serverIdentity: "bank",
      codes: { sms: "123456" },
      appPassword: "135790",
    });
    const fields: [string, RegExp, (x: unknown) => boolean][] = [
      ["transport", /^the transport /, isFunction],
      ["activationId", /^activationId /, isString],
      ["regId", /^regId /, isString],
      ["serverIdentity", /^serverIdentity /, isString],
      ["codes", /^the codes /, (x) => options(x) && x !== undefined],
      [
        "appPassword",
        /^(the app password |the app password is 6 to 12 digits)/,
        (x) => x === undefined || matching(/^[0-9]{6,12}$/)(x),
      ],
    ];
    for (const [field, names, valid] of fields)
      await fc.assert(
        fc.asyncProperty(wrongValue, async (x) => {
          fc.pre(!valid(x));
          const e = await app.activate({ ...input(), [field]: x } as never).then(
            () => new Error("activated"),
            (err: unknown) => err,
          );
          expect(e).toBeInstanceOf(CapkitError);
          expect((e as CapkitError).message).toMatch(names);
          const got = /; got (.+)$/.exec((e as CapkitError).message)?.[1];
          if (got !== undefined) expect(got).toBe(describeValue(x));
          expect(calls, "the bank was called").toBe(0);
        }),
        { numRuns: 60 },
      );
  });

  it("the reader's delays default to the named ones", () => {
    expect(SESAME_DELAYS.codeDisplay).toBe(35_000);
  });
});
