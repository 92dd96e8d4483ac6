import {
  argumentError,
  CapkitError,
  describeValue,
  expectBytes,
  expectInteger,
  fromHex,
  isRecord,
  toHex,
} from "@capkit/core";
import {
  CryptogramCalculator,
  type CryptogramMac,
  cryptogramMacInput,
  cryptogramSpec,
} from "../crypto/cryptogram.js";
import { CryptogramDataSelection } from "../crypto/data-selection.js";
import { deriveIccMasterKey, type MasterKeyDerivation } from "../crypto/keys.js";
import { type DolEntry, fillDol, parseDol } from "../dol.js";
import { type AtcBitMap, atcBitMap, atcConstraint, candidateAtcs } from "./atc-bits.js";
import {
  belgianCodeBits,
  belgianCodeValue,
  type CodeRule,
  IAF_PSN_IN_IPB,
  ipbSelector,
  ipbSourceData,
  tdsMac,
} from "./code.js";
import { CID_ARQC } from "./gac.js";
import { type CapInputs, cdolValues, validateCapInputs } from "./inputs.js";
import { expectReaderProfile, type ReaderProfile, readerProfile } from "./profiles.js";
import {
  codeRuleFor,
  type ResolvedApplication,
  readerApplicationById,
  readerApplicationFor,
} from "./reader-application.js";

/**
 * What the issuer (the bank's server) knows about a CAP card, enough to recompute its codes: the data the
 * card gives every reader (AIP, CDOL1, IAF, IPB, the IAD it returns with an ARQC), the cryptogram version,
 * and where the key is. Never the PIN. A simulated card exports one; a bank builds them from its card files.
 */
export interface CapIssuerRecord {
  /** Always {@link CAP_ISSUER_FORMAT}. */
  readonly format: "capkit-cap-issuer/1";
  /** The card's PAN (5A), digits: with the PSN, what derives its ICC master key. */
  readonly pan: string;
  /** The PAN Sequence Number (5F34), 2 digits (`00` when the card has none). */
  readonly psn: string;
  /** The reader profile the customer's reader follows (its terminal data enters the cryptogram). */
  readonly profile: string;
  /** How the card computes its cryptograms: a {@link CRYPTOGRAM_VERSIONS} name or an EMV2000 tree's. */
  readonly cryptogramVersion: string;
  /** The CAP/DPA application's AID, hex. */
  readonly aid: string;
  /** Application Interchange Profile (82), hex: it enters the MAC. */
  readonly aip: string;
  /** CDOL1 (8C), hex: what the reader fills for GENERATE AC. */
  readonly cdol1: string;
  /** Issuer Authentication Flags (9F55), hex. */
  readonly iaf: string;
  /** The card's IPB (9F56); empty when it has none (the reader's formula or fallback IPB then applies). */
  readonly ipb: string;
  /** The IAD the card returns with an ARQC after an offline PIN check (its CVR enters the MAC). */
  readonly iad: string;
  /**
   * The card data its cryptogram covers after AIP ‖ ATC, when the cryptogram version's rule does not take it
   * from the IAD: emvlab.org's CAP calculator MACs the CVR `A50006040000` and returns the Visa-shaped IAD
   * `06770A03A48000` (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.8).
   */
  readonly cardData?: string;
  /**
   * Which of the profile's sets of constants the customer's reader sends to this card (`CapResult.readerApplication`);
   * needed where the profile fills one AID differently per card (the belgian profile's payment applications),
   * else found from the AID.
   */
  readonly readerApplication?: string;
  /** Where the issuer master key is: a test key in clear (simulated cards), or a reference for a key provider. */
  readonly key:
    | { readonly kind: "test-imk"; readonly imk: string; readonly derivation: MasterKeyDerivation }
    | { readonly kind: "reference"; readonly id: string };
}

/** The format tag of an issuer record. */
export const CAP_ISSUER_FORMAT = "capkit-cap-issuer/1";

/**
 * Validates a record read from JSON; every field is checked so a typo fails at enrolment, and a field of the
 * wrong type is named with the type it had (never its value: it may be a PAN).
 *
 * @throws `INPUT_INVALID` naming the field; `CDOL_INCOMPLETE` for a CDOL1 whose cryptogram cannot be
 *   recomputed; `KEY_INVALID` for an unknown cryptogram version
 */
export function parseCapIssuerRecord(input: unknown): CapIssuerRecord {
  const what = "CAP issuer record";
  const code = readCodeRecord(input, what);
  const r = input as Record<string, unknown>;
  const bad = (m: string) => new CapkitError("INPUT_INVALID", `${what}: ${m}`);
  const key = r["key"];
  let parsedKey: CapIssuerRecord["key"];
  if (
    isRecord(key) &&
    key["kind"] === "test-imk" &&
    typeof key["imk"] === "string" &&
    /^[0-9A-Fa-f]{32}$/.test(key["imk"])
  ) {
    const derivation = key["derivation"] === "B" ? "B" : key["derivation"] === "A" ? "A" : undefined;
    if (!derivation) throw bad('key.derivation must be "A" or "B"');
    parsedKey = { kind: "test-imk", imk: key["imk"].toUpperCase(), derivation };
  } else if (
    isRecord(key) &&
    key["kind"] === "reference" &&
    typeof key["id"] === "string" &&
    key["id"] !== ""
  ) {
    parsedKey = { kind: "reference", id: key["id"] };
  } else {
    throw bad('"key" must be {kind:"test-imk", imk, derivation} or {kind:"reference", id}');
  }
  const { format, ...fields } = code;
  return { format, pan: field(r, "pan", /^[0-9]{8,19}$/, "8–19 digits", bad), ...fields, key: parsedKey };
}

/**
 * The fields of a record that its codes depend on (all but its PAN and key), checked and normalised: what
 * {@link parseCapIssuerRecord} and {@link CapCodeModel} both read.
 */
function readCodeRecord(input: unknown, what: string): CapCodeRecord {
  if (!isRecord(input))
    throw argumentError("INPUT_INVALID", what, `an object ({ "format": "${CAP_ISSUER_FORMAT}", … })`, input);
  const r = input;
  const bad = (m: string) => new CapkitError("INPUT_INVALID", `${what}: ${m}`);
  if (r["format"] !== CAP_ISSUER_FORMAT) throw bad(`"format" must be "${CAP_ISSUER_FORMAT}"`);
  const hex = /^([0-9A-Fa-f]{2})+$/;
  const str = (k: string, pattern: RegExp, expected: string) => field(r, k, pattern, expected, bad);
  const optional = (k: string, pattern: RegExp, expected: string): string | undefined =>
    r[k] === undefined ? undefined : str(k, pattern, expected);
  const cardData = optional("cardData", hex, "hex")?.toUpperCase();
  const readerApplication = optional("readerApplication", /^[a-z0-9][a-z0-9-]*$/, "an application id");
  const record: CapCodeRecord = {
    format: CAP_ISSUER_FORMAT,
    psn: str("psn", /^[0-9]{2}$/, "2 digits"),
    profile: str("profile", /^[a-z0-9-]+$/, "a profile name"),
    cryptogramVersion: str("cryptogramVersion", /^[a-z0-9-]+$/, "a cryptogram version name"),
    aid: str("aid", hex, "hex").toUpperCase(),
    aip: str("aip", /^[0-9A-Fa-f]{4}$/, "2 bytes of hex").toUpperCase(),
    cdol1: str("cdol1", hex, "hex").toUpperCase(),
    iaf: str("iaf", /^[0-9A-Fa-f]{2}$/, "1 byte of hex").toUpperCase(),
    ipb: str("ipb", /^([0-9A-Fa-f]{2})*$/, "hex (empty when the card has no IPB)").toUpperCase(),
    iad: str("iad", hex, "hex").toUpperCase(),
    ...(cardData === undefined ? {} : { cardData }),
    ...(readerApplication === undefined ? {} : { readerApplication }),
  };
  cryptogramSpec(record.cryptogramVersion);
  let cdol1: DolEntry[];
  try {
    cdol1 = parseDol(fromHex(record.cdol1));
  } catch (e) {
    throw new CapkitError(
      "TLV_MALFORMED",
      `${what}: "cdol1" is not a data object list (${(e as Error).message})`,
    );
  }
  // A card whose CDOL1 lacks a Table 26 element cannot have its codes recomputed: refuse it here, at enrolment.
  new CryptogramDataSelection(cdol1);
  return record;
}

/** A string field matching `pattern`; the error says its type when it is not a string, never its value. */
function field(
  r: Record<string, unknown>,
  k: string,
  pattern: RegExp,
  expected: string,
  bad: (m: string) => CapkitError,
): string {
  const v = r[k];
  if (typeof v !== "string") throw bad(`"${k}" must be ${expected}; got ${describeValue(v)}`);
  if (!pattern.test(v)) throw bad(`"${k}" must be ${expected}`);
  return v;
}

/** The ICC master key of a record holding a test IMK (simulated cards); production keys stay in a provider. */
export function testIccMasterKey(record: CapIssuerRecord): Uint8Array {
  if (record.key.kind !== "test-imk") {
    throw new CapkitError("KEY_INVALID", "this record references a key held elsewhere: use a key provider");
  }
  return deriveIccMasterKey(fromHex(record.key.imk), record.pan, record.psn, record.key.derivation);
}

/** What recomputing a card's codes needs from its record: not its PAN nor where its key is (the key is given). */
export type CapCodeRecord = Omit<CapIssuerRecord, "pan" | "key">;

/**
 * Recomputes a card's codes. Everything that does not depend on the ATC (CDOL1 bytes, IPB, key schedule) is
 * prepared once per set of inputs; each ATC then costs one cryptogram and a bit selection.
 */
export class CapCodeModel {
  /** The card's record, without its PAN and key reference. */
  readonly record: CapCodeRecord;
  /** The reader profile whose constants enter the cryptograms. */
  readonly profile: ReaderProfile;
  /** The constants the customer's reader sends to this card; `fallback` when the profile has none for it. */
  readonly application: ResolvedApplication;
  readonly #calc: CryptogramMac;
  readonly #cdol1: readonly DolEntry[];
  readonly #selection: CryptogramDataSelection;
  readonly #rule: CodeRule;
  readonly #atcBits: AtcBitMap | undefined;
  readonly #iad: Uint8Array;
  readonly #cardData: Uint8Array | undefined;
  readonly #aip: Uint8Array;
  readonly #iaf: number;
  readonly #psn: Uint8Array;

  /**
   * @param record - the card's record (a {@link CapIssuerRecord} will do: its PAN and key reference are not
   *   read), checked field by field
   * @param key - the card's ICC master key (16 bytes), or a {@link CryptogramMac} that holds it elsewhere (a
   *   key provider's engine; its cryptogram version must be the record's)
   * @param profile - the reader profile, when it is not the built-in one the record names
   * @throws `INPUT_INVALID` naming a field of the record; `KEY_INVALID` for a key that is neither;
   *   `PROFILE_INVALID`
   *
   * @example
   * ```ts
   * const record = parseCapIssuerRecord(json); // a card's issuer part (SimulatedCard.issuerRecord())
   * const model = new CapCodeModel(record, testIccMasterKey(record));
   * const codeAt = model.forInputs({ mode: "identify" });
   * codeAt(42); // the code value the card shows at ATC 42
   * ```
   */
  constructor(record: CapCodeRecord, key: Uint8Array | CryptogramMac, profile?: ReaderProfile) {
    readCodeRecord(record, "the record");
    if (
      !(key instanceof Uint8Array) &&
      !(
        isRecord(key) &&
        isRecord(key["spec"]) &&
        typeof key["macInto"] === "function" &&
        typeof key["macPrefix"] === "function"
      )
    )
      throw argumentError(
        "KEY_INVALID",
        "the key",
        "the card's ICC master key (16 bytes) or a CryptogramMac",
        key,
      );
    profile = profile === undefined ? readerProfile(record.profile) : expectReaderProfile(profile);
    this.record = record;
    this.profile = profile;
    this.application =
      record.readerApplication === undefined
        ? readerApplicationFor(profile, { aid: record.aid, belgian: undefined })
        : readerApplicationById(profile, record.readerApplication, record.aid);
    const spec = cryptogramSpec(record.cryptogramVersion);
    if (!(key instanceof Uint8Array) && key.spec !== spec)
      throw new CapkitError("KEY_INVALID", `the cryptogram engine is not for ${record.cryptogramVersion}`);
    this.#calc = key instanceof Uint8Array ? new CryptogramCalculator(spec, key) : key;
    this.#cdol1 = parseDol(fromHex(record.cdol1));
    this.#selection = new CryptogramDataSelection(this.#cdol1);
    const cardIpb = record.ipb === "" ? undefined : fromHex(record.ipb);
    this.#rule = codeRuleFor(this.application.application, cardIpb, profile).rule;
    this.#atcBits = this.#rule.kind === "ipb" ? atcBitMap(toHex(this.#rule.ipb), record.iaf) : undefined;
    this.#iad = fromHex(record.iad);
    this.#cardData = record.cardData === undefined ? undefined : fromHex(record.cardData);
    this.#aip = fromHex(record.aip);
    this.#iaf = fromHex(record.iaf)[0]!;
    this.#psn = fromHex(record.psn);
  }

  /** The CDOL1 data a reader of this profile sends for `inputs` (what the card MACs). */
  cdol1Data(inputs: CapInputs): Uint8Array {
    validateCapInputs(inputs, this.profile);
    return fillDol(this.#cdol1, cdolValues(this.application.application, inputs, this.#iaf));
  }

  /**
   * The ATCs in (last, last + window] that can have given `code`: the code's bits that come from the ATC fix
   * those ATC bits (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6), so only the ATCs that agree
   * are worth a cryptogram.
   *
   * @param last - the last ATC accepted, -1 when none was (the window then starts at ATC 0)
   */
  candidateAtcs(last: number, window: number, code: number): number[] {
    expectInteger(last, "the last ATC", -1, 0xffff);
    expectInteger(window, "the window", 0, 0xffff);
    expectInteger(code, "the code", 0, Number.MAX_SAFE_INTEGER);
    if (this.#atcBits) return candidateAtcs(last, window, atcConstraint(this.#atcBits, code));
    const v = belgianCodeBits(code);
    // The Belgian formula's middle byte is the ATC's low byte (belgianCodeValue).
    return v === undefined ? [] : candidateAtcs(last, window, { mask: 0xff, value: (v >> 8) & 0xff });
  }

  /**
   * A function from ATC to the code value for these inputs. The MAC input and the IPB source data are built
   * once and only their ATC and AC bytes rewritten per call, so scanning a window allocates almost nothing.
   * (The function is synchronous, so sharing the buffers between calls is safe.)
   */
  forInputs(inputs: CapInputs): (atc: number) => number {
    const cdol1Data = this.cdol1Data(inputs);
    const un = this.#selection.unpredictableNumber(cdol1Data);
    const tds = inputs.tds;
    const terminalData = this.#selection.select(cdol1Data);
    const macInput = cryptogramMacInput(this.#calc.spec, {
      terminalData,
      aip: this.#aip,
      atc: 0,
      iad: this.#iad,
      ...(this.#cardData ? { cardData: this.#cardData } : {}),
    });
    const atcAt = terminalData.length + this.#aip.length;
    const template = {
      cid: CID_ARQC,
      atc: 0,
      atcBytes: new Uint8Array(2),
      ac: new Uint8Array(8),
      iad: this.#iad,
      format: 1 as const,
    };
    const source = ipbSourceData(template, { iaf: this.#iaf, psn: this.#psn });
    const cidAt = (this.#iaf & IAF_PSN_IN_IPB) !== 0 ? 1 : 0;
    const rule = this.#rule;
    const select =
      rule.kind === "ipb"
        ? ipbSelector(rule.ipb)
        : (data: Uint8Array) =>
            belgianCodeValue({
              atcBytes: data.subarray(cidAt + 1, cidAt + 3),
              ac: data.subarray(cidAt + 3, cidAt + 11),
            });
    const calc = this.#calc;
    // Every candidate's MAC input is the same up to the ATC: the CBC state of the blocks before it is kept.
    const prefix = calc.macPrefix(macInput, atcAt);
    // Where the ATC's high byte ends a block (Table 26's 29 bytes and the AIP put it at byte 31), that block's
    // state changes only every 256 ATCs: it is kept too, for the high byte last asked, so a candidate costs the
    // blocks from the low byte on (Sésame: 3 DES, not 4).
    const highEndsBlock = prefix !== undefined && atcAt % 8 === 7;
    let high = -1;
    let highPrefix: unknown;
    return (atc: number) => {
      // A fraction or a number past 16 bits would be cut into the MAC input's two ATC bytes: a wrong code.
      if (!Number.isInteger(atc) || atc < 0 || atc > 0xffff) expectInteger(atc, "the ATC", 0, 0xffff);
      macInput[atcAt] = atc >> 8;
      macInput[atcAt + 1] = atc & 0xff;
      source[cidAt + 1] = atc >> 8;
      source[cidAt + 2] = atc & 0xff;
      let from = prefix;
      if (highEndsBlock) {
        if (atc >> 8 !== high) {
          highPrefix = calc.macPrefix(macInput, atcAt + 1);
          high = atc >> 8;
        }
        from = highPrefix;
      }
      // The AC lands in the IPB data in place; with TDS, AC' (its MAC over the numbers) replaces it.
      calc.macInto(macInput, atc, un, source, cidAt + 3, from);
      if (tds) source.set(tdsMac(source.slice(cidAt + 3, cidAt + 11), tds), cidAt + 3);
      return select(source);
    };
  }

  /** The full 8-byte AC for one ATC over the CDOL1 data as sent (what the simulated card computes). */
  cryptogram(cdol1Data: Uint8Array, atc: number, iad: Uint8Array = this.#iad): Uint8Array {
    expectBytes(cdol1Data, "the CDOL1 data");
    expectInteger(atc, "the ATC", 0, 0xffff);
    expectBytes(iad, "the IAD");
    const un = this.#selection.unpredictableNumber(cdol1Data);
    const input = {
      terminalData: this.#selection.select(cdol1Data),
      aip: this.#aip,
      atc,
      iad,
      ...(this.#cardData ? { cardData: this.#cardData } : {}),
    };
    return this.#calc.macInto(cryptogramMacInput(this.#calc.spec, input), atc, un, new Uint8Array(8), 0);
  }
}
