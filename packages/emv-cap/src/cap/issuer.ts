import { CapkitError, fromHex } from "@capkit/core";
import { CryptogramCalculator, cryptogramMacInput, cryptogramSpec } from "../crypto/cryptogram.js";
import { CryptogramDataSelection } from "../crypto/data-selection.js";
import { deriveIccMasterKey, type MasterKeyDerivation } from "../crypto/keys.js";
import { type DolEntry, fillDol, parseDol } from "../dol.js";
import { IAF_PSN_IN_IPB, ipbSelector, ipbSourceData, tdsMac } from "./code.js";
import { CID_ARQC } from "./gac.js";
import { type CapInputs, cdolValues, validateCapInputs } from "./inputs.js";
import { type ReaderProfile, readerProfile } from "./profiles.js";

/**
 * What the issuer (the bank's server) knows about a CAP card, enough to recompute its codes: the data the
 * card gives every reader (AIP, CDOL1, IAF, IPB, the IAD it returns with an ARQC), the cryptogram version,
 * and where the key is. Never the PIN. A simulated card exports one; a bank builds them from its card files.
 */
export interface CapIssuerRecord {
  readonly format: "capkit-cap-issuer/1";
  readonly pan: string;
  readonly psn: string;
  /** The reader profile the customer's reader follows (its terminal data enters the cryptogram). */
  readonly profile: string;
  readonly cryptogramVersion: string;
  readonly aid: string;
  readonly aip: string;
  readonly cdol1: string;
  readonly iaf: string;
  readonly ipb: string;
  /** The IAD the card returns with an ARQC after an offline PIN check (its CVR enters the MAC). */
  readonly iad: string;
  /** Where the issuer master key is: a test key in clear (simulated cards), or a reference for a key provider. */
  readonly key:
    | { readonly kind: "test-imk"; readonly imk: string; readonly derivation: MasterKeyDerivation }
    | { readonly kind: "reference"; readonly id: string };
}

export const CAP_ISSUER_FORMAT = "capkit-cap-issuer/1";

/** Validates a record read from JSON; every field is checked so a typo fails at enrolment. */
export function parseCapIssuerRecord(input: unknown): CapIssuerRecord {
  const bad = (m: string) => new CapkitError("INPUT_INVALID", `CAP issuer record: ${m}`);
  if (typeof input !== "object" || input === null) throw bad("not an object");
  const r = input as Record<string, unknown>;
  if (r["format"] !== CAP_ISSUER_FORMAT) throw bad(`"format" must be "${CAP_ISSUER_FORMAT}"`);
  const str = (k: string, pattern: RegExp, what: string): string => {
    const v = r[k];
    if (typeof v !== "string" || !pattern.test(v)) throw bad(`"${k}" must be ${what}`);
    return v;
  };
  const hex = /^([0-9A-Fa-f]{2})+$/;
  const key = r["key"] as Record<string, unknown> | undefined;
  let parsedKey: CapIssuerRecord["key"];
  if (
    key?.["kind"] === "test-imk" &&
    typeof key["imk"] === "string" &&
    /^[0-9A-Fa-f]{32}$/.test(key["imk"])
  ) {
    const derivation = key["derivation"] === "B" ? "B" : key["derivation"] === "A" ? "A" : undefined;
    if (!derivation) throw bad('key.derivation must be "A" or "B"');
    parsedKey = { kind: "test-imk", imk: key["imk"].toUpperCase(), derivation };
  } else if (key?.["kind"] === "reference" && typeof key["id"] === "string" && key["id"].length > 0) {
    parsedKey = { kind: "reference", id: key["id"] };
  } else {
    throw bad('"key" must be {kind:"test-imk", imk, derivation} or {kind:"reference", id}');
  }
  const record: CapIssuerRecord = {
    format: CAP_ISSUER_FORMAT,
    pan: str("pan", /^[0-9]{8,19}$/, "8–19 digits"),
    psn: str("psn", /^[0-9]{2}$/, "2 digits"),
    profile: str("profile", /^[a-z0-9-]+$/, "a profile name"),
    cryptogramVersion: str("cryptogramVersion", /^[a-z0-9-]+$/, "a cryptogram version name"),
    aid: str("aid", hex, "hex").toUpperCase(),
    aip: str("aip", /^[0-9A-Fa-f]{4}$/, "2 bytes of hex").toUpperCase(),
    cdol1: str("cdol1", hex, "hex").toUpperCase(),
    iaf: str("iaf", /^[0-9A-Fa-f]{2}$/, "1 byte of hex").toUpperCase(),
    ipb: str("ipb", hex, "hex").toUpperCase(),
    iad: str("iad", hex, "hex").toUpperCase(),
    key: parsedKey,
  };
  cryptogramSpec(record.cryptogramVersion);
  // A card whose CDOL1 lacks a Table 26 element cannot have its codes recomputed: refuse it here, at enrolment.
  new CryptogramDataSelection(parseDol(fromHex(record.cdol1)));
  return record;
}

/** The ICC master key of a record holding a test IMK (simulated cards); production keys stay in a provider. */
export function testIccMasterKey(record: CapIssuerRecord): Uint8Array {
  if (record.key.kind !== "test-imk") {
    throw new CapkitError("KEY_INVALID", "this record references a key held elsewhere: use a key provider");
  }
  return deriveIccMasterKey(fromHex(record.key.imk), record.pan, record.psn, record.key.derivation);
}

/**
 * Recomputes a card's codes. Everything that does not depend on the ATC (CDOL1 bytes, IPB, key schedule) is
 * prepared once per set of inputs; each ATC then costs one cryptogram and a bit selection.
 */
export class CapCodeModel {
  readonly record: CapIssuerRecord;
  readonly profile: ReaderProfile;
  readonly #calc: CryptogramCalculator;
  readonly #cdol1: readonly DolEntry[];
  readonly #selection: CryptogramDataSelection;
  readonly #ipb: Uint8Array;
  readonly #iad: Uint8Array;
  readonly #aip: Uint8Array;
  readonly #iaf: number;
  readonly #psn: Uint8Array;

  constructor(
    record: CapIssuerRecord,
    iccMasterKey: Uint8Array,
    profile: ReaderProfile = readerProfile(record.profile),
  ) {
    this.record = record;
    this.profile = profile;
    this.#calc = new CryptogramCalculator(cryptogramSpec(record.cryptogramVersion), iccMasterKey);
    this.#cdol1 = parseDol(fromHex(record.cdol1));
    this.#selection = new CryptogramDataSelection(this.#cdol1);
    this.#ipb = fromHex(record.ipb);
    this.#iad = fromHex(record.iad);
    this.#aip = fromHex(record.aip);
    this.#iaf = fromHex(record.iaf)[0]!;
    this.#psn = fromHex(record.psn);
  }

  /** The CDOL1 data a reader of this profile sends for `inputs` (what the card MACs). */
  cdol1Data(inputs: CapInputs): Uint8Array {
    validateCapInputs(inputs, this.profile);
    return fillDol(this.#cdol1, cdolValues(this.profile, inputs, this.#iaf));
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
    const select = ipbSelector(this.#ipb);
    const calc = this.#calc;
    // Every candidate's MAC input is the same up to the ATC: the CBC state of the blocks before it is kept.
    const prefix = calc.macPrefix(macInput, atcAt);
    return (atc: number) => {
      macInput[atcAt] = atc >> 8;
      macInput[atcAt + 1] = atc & 0xff;
      source[cidAt + 1] = atc >> 8;
      source[cidAt + 2] = atc & 0xff;
      // The AC lands in the IPB data in place; with TDS, AC' (its MAC over the numbers) replaces it.
      calc.macInto(macInput, atc, un, source, cidAt + 3, prefix);
      if (tds) source.set(tdsMac(source.slice(cidAt + 3, cidAt + 11), tds), cidAt + 3);
      return select(source);
    };
  }

  /** The full 8-byte AC for one ATC over the CDOL1 data as sent (what the simulated card computes). */
  cryptogram(cdol1Data: Uint8Array, atc: number, iad: Uint8Array = this.#iad): Uint8Array {
    return this.#calc.compute({
      terminalData: this.#selection.select(cdol1Data),
      aip: this.#aip,
      atc,
      iad,
      un: this.#selection.unpredictableNumber(cdol1Data),
    });
  }
}
