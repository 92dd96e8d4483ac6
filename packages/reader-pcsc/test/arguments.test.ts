import { CapkitError, type CapkitErrorCode, fromHex, isRecord } from "@capkit/core";
import {
  type ArgumentCase,
  bytes,
  call,
  checkArguments,
  construct,
  integer,
  isString,
  never,
  oneOf,
  optional,
  options,
} from "@capkit/test-support/arguments";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { afterAll, beforeEach, describe, expect, vi } from "vitest";
import {
  chooseReader,
  decodeAtr,
  diagnose,
  emvPinVerifyStructure,
  nameAtr,
  PcscConnection,
  PcscContext,
  PinpadEntry,
  parseFeatures,
  parseSmartcardList,
  profileGuess,
  RedactingRecorder,
  spacedAtr,
  supportReport,
  worstVerdict,
} from "../src/index.js";
import { scriptedReader } from "./scripted-reader.js";

/**
 * The reader layer's public functions and constructors as plain JavaScript calls them (issue 21), those that
 * need no pcscd: a wrong type in any argument is a typed error naming it, refused before anything reaches a
 * card or a reader. `PcscContext` is not here: it exists only connected to pcscd (`PcscContext.open()`).
 * `diagnose` runs with PC/SC stubbed out (its context refuses to open), and never opens one for a refusal.
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const ATR: readonly CapkitErrorCode[] = ["INPUT_INVALID", "HEX_INVALID"];
const hex = (x: unknown) => {
  if (typeof x !== "string") return false;
  try {
    fromHex(x);
    return true;
  } catch {
    return false;
  }
};
const isFunction = (x: unknown) => typeof x === "function";
const emptyArray = (x: unknown) => Array.isArray(x) && x.length === 0;

const READER = () => ({
  name: "Gemalto PC Twin Reader 00 00",
  cardPresent: true,
  exclusive: false,
  mute: false,
});
const DIAGNOSIS = () => ({ checks: [], exchanges: [], versions: { capkit: "0.1.0" } });
const PROBE = {
  pcscdVersion: () => "2.0.3",
  libpcscliteVersion: () => undefined,
  readerDrivers: () => [],
  smartcardList: () => undefined,
};

/** A card that counts what it is sent: a refusal must come before the first APDU. */
let sent = 0;
const countingCard = () => ({
  atr: Uint8Array.of(0x3b, 0x00),
  transmit: async () => {
    sent++;
    return Uint8Array.of(0x90, 0x00);
  },
  close: async () => {},
  reset: async () => Uint8Array.of(0x3b, 0x00),
});
const nothingSent = () => expect(sent).toBe(0);

/** A scripted PIN-pad reader over the simulated card; `calls` says whether it was connected. */
let reader = scriptedReader(new SimulatedCard(newSimCardState("sesame", "1234")));
const freshReader = () => {
  reader = scriptedReader(new SimulatedCard(newSimCardState("sesame", "1234")));
  return reader.handle;
};
const SELECT_PPSE = fromHex("00A404000E325041592E5359532E444446303100");

// No pcscd here: the context refuses to open (diagnose reports that as a check).
const open = vi
  .spyOn(PcscContext, "open")
  .mockRejectedValue(new CapkitError("PCSCD_NOT_RUNNING", "no pcscd in this test"));
afterAll(() => open.mockRestore());
beforeEach(() => {
  open.mockClear();
  sent = 0;
});

const CASES: ArgumentCase[] = [
  {
    name: "chooseReader(readers, wanted)",
    args: () => [[READER()], "gemalto"],
    call: call(chooseReader),
    positions: [
      {
        arg: 0,
        names: /^the readers /,
        codes: INPUT,
        valid: never,
        inner: ["INPUT_INVALID", "NO_READER"],
      },
      { arg: 1, names: /^the reader's name /, codes: INPUT, valid: optional(isString) },
    ],
  },
  {
    name: "decodeAtr(hex)",
    args: () => ["3B021450"],
    call: call(decodeAtr),
    positions: [
      { arg: 0, names: /^ATR[ :]/, codes: ATR, valid: (x) => typeof x === "string" && /3[bf]/i.test(x) },
    ],
  },
  {
    name: "spacedAtr(hex)",
    args: () => ["3b021450"],
    call: call(spacedAtr),
    positions: [{ arg: 0, names: /^the ATR/, codes: ATR, valid: hex }],
  },
  {
    name: "worstVerdict(checks)",
    args: () => [[{ id: "pcscd", check: "pcscd", verdict: "warn", detail: "" }]],
    call: call(worstVerdict),
    positions: [{ arg: 0, names: /^the checks /, codes: INPUT, valid: emptyArray, inner: INPUT }],
  },
  {
    name: "supportReport(diagnosis, now)",
    args: () => [DIAGNOSIS(), new Date(0)],
    call: call(supportReport),
    positions: [
      { arg: 0, names: /^the diagnosis /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "checks", names: /^the checks /, codes: INPUT, valid: Array.isArray },
      { arg: 0, field: "exchanges", names: /^the exchanges /, codes: INPUT, valid: Array.isArray },
      { arg: 0, field: "versions", names: /^the versions /, codes: INPUT, valid: isRecord },
      {
        arg: 1,
        names: /^the report's time /,
        codes: INPUT,
        valid: optional((x) => x instanceof Date && !Number.isNaN(x.getTime())),
      },
    ],
  },
  {
    name: "parseSmartcardList(text)",
    args: () => ["3B 02 14 50\n\tSchlumberger Multiflex 3k\n"],
    call: call(parseSmartcardList),
    positions: [{ arg: 0, names: /^the smartcard list /, codes: INPUT, valid: isString }],
  },
  {
    name: "nameAtr(entries, atr)",
    args: () => [[{ pattern: "3B 02 14 50", descriptions: ["Schlumberger Multiflex 3k"] }], "3B021450"],
    call: call(nameAtr),
    positions: [
      { arg: 0, names: /^the smartcard list's entries /, codes: INPUT, valid: emptyArray, inner: INPUT },
      { arg: 1, names: /^the ATR/, codes: ATR, valid: hex },
    ],
  },
  {
    name: "profileGuess(aid, label)",
    args: () => ["A0000000048002", "BARCLAYS"],
    call: call(profileGuess),
    positions: [
      { arg: 0, names: /^the AID /, codes: INPUT, valid: isString },
      { arg: 1, names: /^the label /, codes: INPUT, valid: optional(isString) },
    ],
  },
  {
    name: "diagnose(options)",
    args: () => [{ probe: PROBE, hid: false, full: false, capkitVersion: "0.1.0", onCheck: () => {} }],
    call: call(diagnose),
    afterRefusal: () => expect(open).not.toHaveBeenCalled(),
    positions: [
      { arg: 0, names: /^the diagnose options /, codes: INPUT, valid: options },
      // Absent, the probe is the system's own (systemProbe).
      {
        arg: 0,
        field: "probe",
        names: /^the probe /,
        codes: INPUT,
        valid: (x) => x === undefined,
        inner: INPUT,
      },
      { arg: 0, field: "hid", names: /^hid /, codes: INPUT, valid: optional((x) => typeof x === "boolean") },
      {
        arg: 0,
        field: "full",
        names: /^full /,
        codes: INPUT,
        valid: optional((x) => typeof x === "boolean"),
      },
      { arg: 0, field: "capkitVersion", names: /^capkitVersion /, codes: INPUT, valid: optional(isString) },
      { arg: 0, field: "onCheck", names: /^onCheck /, codes: INPUT, valid: optional(isFunction) },
    ],
  },
  {
    name: "new RedactingRecorder(connection)",
    args: () => [countingCard()],
    call: construct(RedactingRecorder),
    positions: [{ arg: 0, names: /^the connection to record /, codes: INPUT, valid: never, inner: INPUT }],
  },
  {
    name: "RedactingRecorder's transmit(command)",
    args: () => [SELECT_PPSE],
    call: (command) => new RedactingRecorder(countingCard()).transmit(command as Uint8Array),
    afterRefusal: nothingSent,
    positions: [{ arg: 0, names: /^the command /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "RedactingRecorder's reset(kind)",
    args: () => ["warm"],
    call: (kind) => new RedactingRecorder(countingCard()).reset(kind as "warm"),
    positions: [{ arg: 0, names: /^the reset /, codes: INPUT, valid: oneOf("warm", "cold") }],
  },
  {
    name: "parseFeatures(tlv)",
    args: () => [Uint8Array.of(0x06, 0x04, 0x42, 0x33, 0x00, 0x06)],
    call: call(parseFeatures),
    positions: [{ arg: 0, names: /^the features TLV /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "emvPinVerifyStructure(timeoutSeconds)",
    args: () => [30],
    call: call(emvPinVerifyStructure),
    positions: [{ arg: 0, names: /^the PIN entry timeout /, codes: INPUT, valid: optional(integer(0, 255)) }],
  },
  {
    name: "new PinpadEntry(reader, code)",
    args: () => [{ control: async () => Uint8Array.of(0x90, 0x00) }, 0x42330006],
    call: construct(PinpadEntry),
    positions: [
      { arg: 0, names: /^the reader /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 1, names: /^the VERIFY_PIN_DIRECT control code /, codes: INPUT, valid: integer(0, 0xffffffff) },
    ],
  },
  {
    name: "PcscConnection.open(handle, options)",
    args: () => [freshReader(), { share: "shared" }],
    call: call(PcscConnection.open),
    afterRefusal: () => expect(reader.calls).toEqual([]),
    positions: [
      { arg: 0, names: /^the reader handle /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 1, names: /^the connect options /, codes: INPUT, valid: options },
      {
        arg: 1,
        field: "share",
        names: /^share /,
        codes: INPUT,
        valid: optional(oneOf("shared", "exclusive")),
      },
    ],
  },
  {
    name: "PcscConnection's transmit(command), control(code, data) and reset(kind)",
    args: () => [SELECT_PPSE, 0x42000000 + 3400, new Uint8Array(0), "warm"],
    call: async (command, code, data, kind) => {
      const c = await PcscConnection.open(freshReader());
      await c.transmit(command as Uint8Array);
      await c.control(code as number, data as Uint8Array);
      await c.reset(kind as "warm");
    },
    positions: [
      { arg: 0, names: /^the command /, codes: INPUT, valid: bytes(0) },
      { arg: 1, names: /^the control code /, codes: INPUT, valid: integer(0, 0xffffffff) },
      { arg: 2, names: /^the control data /, codes: INPUT, valid: bytes(0) },
      { arg: 3, names: /^the reset /, codes: INPUT, valid: oneOf("warm", "cold") },
    ],
  },
];

describe("@capkit/reader-pcsc's arguments (issue 21)", () => {
  checkArguments(CASES);
});
