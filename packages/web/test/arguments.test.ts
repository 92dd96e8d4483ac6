import type { CapkitErrorCode } from "@capkit/core";
import {
  type ArgumentCase,
  call,
  checkArguments,
  integer,
  matching,
  never,
  oneOf,
  optional,
  options,
} from "@capkit/test-support/arguments";
import { newSimCardState } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { bundleCapkitWeb } from "../src/bundle.js";
import { restoreCardState, saveCardState } from "../src/card-storage.js";
import { parseQrActivation, qrActivationText } from "../src/sogesmart/qr-payload.js";

/**
 * @capkit/web's functions that run without a DOM, as plain JavaScript calls them (issue 21): the card storage,
 * the activation QR code, the bundler. A wrong type is a typed error naming the argument, before anything is
 * read, stored or built. The elements' doors (provision, setCard, press, scan, the registries) are checked in
 * Chromium: test/elements.browser.test.ts and test/sogesmart.browser.test.ts.
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const STATE = newSimCardState("sesame", "1234");
const HEX32 = /^[0-9a-f]{32}$/;

/** A Map standing in for localStorage, counting the writes: a refusal writes nothing. */
let writes = 0;
function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => {
      writes++;
      m.set(k, v);
    },
  };
}
const storageLike = (x: unknown) =>
  typeof (x as { getItem?: unknown } | null | undefined)?.getItem === "function" &&
  typeof (x as { setItem?: unknown }).setItem === "function";

const cardField = (field: string, valid: (x: unknown) => boolean) => ({
  arg: 0,
  field,
  names: new RegExp(`^simulated card state: "${field}" must be `),
  codes: INPUT,
  valid,
});
const cardState = [
  { arg: 0, names: /^the simulated card state /, codes: INPUT, valid: never, inner: INPUT },
  cardField("pan", matching(/^[0-9]{12,19}$/)),
  cardField("imk", matching(/^[0-9A-Fa-f]{32}$/)),
  cardField("pin", matching(/^[0-9]{4,12}$/)),
  cardField("atc", integer(0, 0xffff)),
] as const;
const storage = { arg: 1, names: /^the storage /, codes: INPUT, valid: storageLike } as const;

const ACTIVATION = {
  activationId: "0123456789abcdef0123456789abcdef",
  regId: "fedcba9876543210fedcba9876543210",
  serverIdentity: "bank.example",
  webSession: "00112233445566778899aabbccddeeff",
};
const qrField = (field: string, valid: (x: unknown) => boolean) => ({
  arg: 0,
  field,
  names: new RegExp(`^${field} must be `),
  codes: INPUT,
  valid,
});

const CASES: ArgumentCase[] = [
  {
    name: "restoreCardState(issued, storage)",
    args: () => [{ ...STATE }, memoryStorage()],
    call: call(restoreCardState),
    positions: [...cardState, storage],
    afterRefusal: () => expect(writes, "a refused card was stored").toBe(0),
  },
  {
    name: "saveCardState(state, storage)",
    args: () => [{ ...STATE }, memoryStorage()],
    call: call(saveCardState),
    positions: [...cardState, storage],
    afterRefusal: () => expect(writes, "a refused card was stored").toBe(0),
  },
  {
    name: "qrActivationText(activation)",
    args: () => [{ ...ACTIVATION }],
    call: call(qrActivationText),
    positions: [
      { arg: 0, names: /^the activation /, codes: INPUT, valid: never, inner: INPUT },
      qrField("activationId", matching(HEX32)),
      qrField("regId", matching(HEX32)),
      qrField("serverIdentity", matching(/^[A-Za-z0-9.:-]{1,255}$/)),
      qrField("webSession", matching(HEX32)),
    ],
  },
  {
    name: "parseQrActivation(text)",
    args: () => [qrActivationText(ACTIVATION)],
    call: call(parseQrActivation),
    positions: [
      {
        arg: 0,
        // A string that is not the QR's text is told so, as the app tells the customer.
        names: /^(the QR code's text must be a string|not a SogeSmart activation QR code$)/,
        codes: INPUT,
        valid: never,
      },
    ],
  },
  {
    name: "bundleCapkitWeb(options)",
    args: () => [{ minify: true, entry: "devices" }],
    call: call(bundleCapkitWeb),
    positions: [
      { arg: 0, names: /^the bundle options /, codes: INPUT, valid: options },
      {
        arg: 0,
        field: "minify",
        names: /^minify /,
        codes: INPUT,
        valid: optional((x) => typeof x === "boolean"),
      },
      {
        arg: 0,
        field: "entry",
        names: /^the entry /,
        codes: INPUT,
        valid: optional(oneOf("devices", "sogesmart")),
      },
    ],
  },
];

describe("the @capkit/web API refuses what plain JavaScript passes wrong, with a typed and true error", () => {
  checkArguments(
    CASES.map((c) => ({
      ...c,
      call: (...a: unknown[]) => {
        writes = 0;
        return c.call(...a);
      },
    })),
  );

  it("a QR code written reads back as the same activation", () => {
    expect(parseQrActivation(qrActivationText(ACTIVATION))).toEqual(ACTIVATION);
  });
});
