import { asciiToBytes, CapkitError, concat, fromHex, toHex, writeUint } from "@capkit/core";
import {
  CAP_ISSUER_FORMAT,
  CapCodeModel,
  type CapIssuerRecord,
  type CardConnection,
  CID_AAC,
  CID_ARQC,
  CLA,
  COMMAND_TEMPLATE,
  type CommandApdu,
  cryptogramSpec,
  encodeTlv,
  FIRST_OCCURRENCE,
  GAC_REFERENCE,
  getDataTag,
  INS,
  INS_CLASS,
  PLAINTEXT_PIN,
  parseCommand,
  parseDol,
  parseResponse,
  pinBlockDigits,
  readerApplicationFor,
  readerProfile,
  readRecordTarget,
  responseBytesAvailable,
  SELECT_BY_NAME,
  SW,
  swBytes,
  TAG,
  testIccMasterKey,
  tlv,
  verifyFailed,
  withOddParity,
} from "@capkit/emv-cap";
import { SIM_CARD_PROFILES, type SimCardProfile } from "./card-profiles.js";

/**
 * A CAP/DPA chip card in software, answering any reader (ours, EMV-CAP, python-emv…) as a real card would
 * (docs/architecture.md §5, §3.2): PSE, FCI, GPO (ATC + 1), READ RECORD, GET DATA, VERIFY with a PIN try
 * counter (3, `63Cx`, then `6983`), GENERATE AC — an ARQC only after the PIN, the AAC second, nothing third.
 * Keys follow the real hierarchy: issuer master key → ICC master key (Option A) → the CVN's session key.
 */
export interface SimCardState {
  readonly format: "capkit-sim-card/1";
  readonly profile: string;
  readonly pan: string;
  readonly psn: string;
  readonly expiry: string;
  /** Test issuer master key (hex). The state file holds the card's secrets: keep it 0600. */
  readonly imk: string;
  readonly pin: string;
  readonly pinTryLimit: number;
  readonly pinTries: number;
  readonly atc: number;
}

export const SIM_CARD_FORMAT = "capkit-sim-card/1";
const PSE_NAME = "1PAY.SYS.DDF01";
/** The one file the card keeps its records in (the PSE directory or the application's data). */
const RECORD_SFI = 1;
const LANGUAGE = "fren";
/** The ATC is 2 bytes: a card whose counter reaches FFFF can start no more transactions. */
const MAX_ATC = 0xffff;
/** Every simulated card is issued to the same test holder (ISO/IEC 7813 "SURNAME/FIRST NAME" form). */
const CARDHOLDER_NAME = "CAPKIT/TEST CARD";
/**
 * The simulated card's ATR: T=0, no interface bytes, historical bytes "capkit-sim" — an ATR that pcsc-tools'
 * smartcard_list.txt names no product for, so no diagnosis mistakes the simulator for a real card.
 */
export const SIM_ATR = "3B0A6361706B69742D73696D";
/** A new card's PIN try limit: three, as payment cards have. */
const PIN_TRY_LIMIT = 3;
/**
 * The ATR of the French cold state: inverse convention (TS = 3F) with TB1 25 and TC1 08, as French bank cards
 * give, and the historical bytes "capkit-sim" (no product of smartcard_list.txt). Readers that see TS = 3F
 * warm-reset the card before any EMV command.
 */
export const SIM_COLD_ATR = "3F6A25086361706B69742D73696D";
/** The Belgian cards' FCI markers (emv-cap `cardFactsOf`): cardholder nationality 056 and a "BKS056" id. */
const BELGIUM = "0056";
const BELGIAN_CARD_ID = "BKS056000";

declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };

function randomDigits(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => String(b % 10)).join("");
}

/** The Luhn check digit every real PAN ends with (ISO/IEC 7812-1). */
function luhnComplete(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = partial.charCodeAt(partial.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

export function simCardProfile(name: string): SimCardProfile {
  const p = SIM_CARD_PROFILES[name];
  if (!p) {
    throw new CapkitError("PROFILE_INVALID", `unknown card profile "${name}"`, {
      hint: `known: ${Object.keys(SIM_CARD_PROFILES).join(", ")}`,
    });
  }
  return p;
}

/** A new test card with fresh random keys (CSPRNG), a valid PAN and a 4-digit PIN of the caller's choice. */
export function newSimCardState(profileName: string, pin: string): SimCardState {
  const profile = simCardProfile(profileName);
  if (!/^[0-9]{4,12}$/.test(pin)) throw new CapkitError("PIN_INVALID", "the PIN must be 4 to 12 digits");
  const pan = luhnComplete(profile.panPrefix + randomDigits(15 - profile.panPrefix.length));
  return {
    format: SIM_CARD_FORMAT,
    profile: profile.name,
    pan,
    psn: "01",
    expiry: "301231",
    imk: toHex(withOddParity(crypto.getRandomValues(new Uint8Array(16)))),
    pin,
    pinTryLimit: PIN_TRY_LIMIT,
    pinTries: PIN_TRY_LIMIT,
    atc: 1 + (crypto.getRandomValues(new Uint8Array(1))[0]! % 64),
  };
}

export function parseSimCardState(input: unknown): SimCardState {
  const bad = (m: string) => new CapkitError("INPUT_INVALID", `simulated card state: ${m}`);
  if (typeof input !== "object" || input === null) throw bad("not an object");
  const s = input as Record<string, unknown>;
  if (s["format"] !== SIM_CARD_FORMAT) throw bad(`"format" must be "${SIM_CARD_FORMAT}"`);
  const need = (k: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(s[k])) throw bad(`"${k}" must be ${what}`);
  };
  const str = (re: RegExp) => (v: unknown) => typeof v === "string" && re.test(v);
  const int = (min: number, max: number) => (v: unknown) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  need(
    "profile",
    (v) => typeof v === "string" && v in SIM_CARD_PROFILES,
    `one of ${Object.keys(SIM_CARD_PROFILES).join(", ")}`,
  );
  need("pan", str(/^[0-9]{12,19}$/), "12–19 digits");
  need("psn", str(/^[0-9]{2}$/), "2 digits");
  need("expiry", str(/^[0-9]{6}$/), "YYMMDD");
  need("imk", str(/^[0-9A-Fa-f]{32}$/), "16 bytes of hex");
  need("pin", str(/^[0-9]{4,12}$/), "4–12 digits");
  need("pinTryLimit", int(1, 15), "1–15");
  need("pinTries", int(0, Number(s["pinTryLimit"])), "0 to the limit");
  need("atc", int(0, 0xffff), "0–65535");
  return s as unknown as SimCardState;
}

/**
 * The issuer's view of a card: what a verifier needs, never the PIN. It names the constants the card's reader
 * sends it (its reader profile's set for this application, as the reader finds it from the FCI).
 */
export function issuerRecordOf(state: SimCardState): CapIssuerRecord {
  const p = simCardProfile(state.profile);
  const reader = readerApplicationFor(readerProfile(p.readerProfile), {
    aid: p.aid,
    belgian: p.belgian === true,
  });
  return {
    format: CAP_ISSUER_FORMAT,
    pan: state.pan,
    psn: state.psn,
    profile: p.readerProfile,
    cryptogramVersion: p.cryptogramVersion,
    aid: p.aid,
    aip: p.aip,
    cdol1: p.cdol1,
    iaf: p.iaf || IAF_NONE,
    ipb: p.ipb,
    iad: p.iadArqc,
    readerApplication: reader.application.id,
    key: { kind: "test-imk", imk: state.imk, derivation: cryptogramSpec(p.cryptogramVersion).masterKey },
  };
}

/** A card without IAF reads as IAF 00 (no amount, no PSN in the code), as the CAP engine reads it. */
const IAF_NONE = "00";

export interface SimulatedCardOptions {
  /** Called with the new state after every change of ATC or PIN try counter (persist it here). */
  readonly onStateChange?: (state: SimCardState) => void;
  /** Answer like a T=0 card: `61xx` for data and GET RESPONSE to fetch it. */
  readonly t0?: boolean;
  /**
   * French cold state: a 3F ATR, and every command answered with this status word ("instruction / class not
   * supported") from power-on until a warm reset — as the Crédit Coopératif card of python-emv issue 33 did
   * with readers that do not warm-reset.
   */
  readonly coldState?: "6D00" | "6E00";
}

type Selected = "none" | "pse" | "app";

/** A response: the data (if any) and the status word. */
const answer = (sw: number, data?: Uint8Array): Uint8Array =>
  data ? concat(data, swBytes(sw)) : swBytes(sw);

export class SimulatedCard implements CardConnection {
  readonly atr: Uint8Array;
  readonly profile: SimCardProfile;
  #state: SimCardState;
  readonly #options: SimulatedCardOptions;
  readonly #model: CapCodeModel;
  #selected: Selected = "none";
  #inTransaction = false;
  #pinVerified = false;
  #gacCount = 0;
  #present = true;
  #pending: Uint8Array | undefined;
  /** In the French cold state (until a warm reset); always false without the `coldState` option. */
  #cold: boolean;

  constructor(state: SimCardState, options: SimulatedCardOptions = {}) {
    this.#state = parseSimCardState(state);
    this.profile = simCardProfile(this.#state.profile);
    this.#options = options;
    this.atr = fromHex(options.coldState ? SIM_COLD_ATR : SIM_ATR);
    this.#cold = options.coldState !== undefined;
    const record = issuerRecordOf(this.#state);
    this.#model = new CapCodeModel(record, testIccMasterKey(record));
  }

  get state(): SimCardState {
    return this.#state;
  }

  issuerRecord(): CapIssuerRecord {
    return issuerRecordOf(this.#state);
  }

  /** Pulls the card out: every later command fails with CARD_REMOVED until `insert()`. */
  remove(): void {
    this.#present = false;
    this.powerOff();
  }

  insert(): void {
    this.#present = true;
  }

  get present(): boolean {
    return this.#present;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.process(command);
  }

  /** Synchronous APDU processing (the vpcd bridge calls this directly). */
  process(command: Uint8Array): Uint8Array {
    if (!this.#present) throw new CapkitError("CARD_REMOVED", "the card was removed");
    let c: CommandApdu;
    try {
      c = parseCommand(command);
    } catch {
      return answer(SW.WRONG_LENGTH);
    }
    if (this.#cold) return fromHex(this.#options.coldState!);
    if (this.#options.t0 && c.cla === CLA.ISO && c.ins === INS.GET_RESPONSE) {
      const pending = this.#pending;
      this.#pending = undefined;
      return pending ? answer(SW.OK, pending) : answer(SW.CONDITIONS_NOT_SATISFIED);
    }
    const response = this.#dispatch(c);
    // T=0: a case-4 command's data comes back only through GET RESPONSE (ISO/IEC 7816-3 §12.2.3).
    const { data, sw } = parseResponse(response);
    if (this.#options.t0 && c.data && data.length > 0 && sw === SW.OK) {
      this.#pending = data;
      return answer(responseBytesAvailable(data.length));
    }
    return response;
  }

  /** A warm reset (the default, what readers do for 3F ATRs) leaves the cold state; a cold one re-enters it. */
  async reset(kind: "warm" | "cold" = "warm"): Promise<Uint8Array> {
    if (!this.#present) throw new CapkitError("CARD_REMOVED", "the card was removed");
    if (kind === "cold") this.powerOn();
    else this.warmReset();
    return this.atr;
  }

  async close(): Promise<void> {
    this.#endSession();
  }

  /** Power removed: volatile state (selection, transaction, PIN verified) is lost; ATC and try counter stay. */
  powerOff(): void {
    this.#endSession();
    this.#cold = this.#options.coldState !== undefined;
  }

  /** Power applied (a cold reset): the card starts in its cold state when it has one. */
  powerOn(): void {
    this.powerOff();
  }

  warmReset(): void {
    this.#endSession();
    this.#cold = false;
  }

  #endSession(): void {
    this.#selected = "none";
    this.#endTransaction();
    this.#pending = undefined;
  }

  /** A new SELECT or GET PROCESSING OPTIONS ends the transaction in progress, PIN verification included. */
  #endTransaction(): void {
    this.#inTransaction = false;
    this.#pinVerified = false;
    this.#gacCount = 0;
  }

  #update(change: Partial<SimCardState>): void {
    this.#state = { ...this.#state, ...change };
    this.#options.onStateChange?.(this.#state);
  }

  /** Dispatch on the named instruction; an instruction sent with the wrong class is unknown to the card. */
  #dispatch(c: CommandApdu): Uint8Array {
    if (c.cla !== CLA.ISO && c.cla !== CLA.EMV) return answer(SW.CLA_NOT_SUPPORTED);
    if (INS_CLASS[c.ins] !== c.cla) return answer(SW.INS_NOT_SUPPORTED);
    switch (c.ins) {
      case INS.SELECT:
        return this.#select(c);
      case INS.GET_PROCESSING_OPTIONS:
        return this.#gpo(c);
      case INS.READ_RECORD:
        return this.#readRecord(c);
      case INS.GET_DATA:
        return this.#getData(c);
      case INS.VERIFY:
        return this.#verify(c);
      case INS.GENERATE_AC:
        return this.#generateAc(c);
      default:
        return answer(SW.INS_NOT_SUPPORTED);
    }
  }

  #fci(): Uint8Array {
    const p = this.profile;
    const a5 = [
      tlv(TAG.APPLICATION_LABEL, asciiToBytes(p.label)),
      tlv(TAG.APPLICATION_PRIORITY, Uint8Array.of(1)),
      tlv(TAG.LANGUAGE_PREFERENCE, asciiToBytes(LANGUAGE)),
    ];
    if (p.pdol) a5.push(tlv(TAG.PDOL, fromHex(p.pdol)));
    const discretionary = [];
    if (p.iaf) discretionary.push(tlv(TAG.IAF, fromHex(p.iaf)));
    if (p.belgian)
      discretionary.push(
        tlv(TAG.CARDHOLDER_NATIONALITY, fromHex(BELGIUM)),
        tlv(TAG.BANKSYS_ID, asciiToBytes(BELGIAN_CARD_ID)),
      );
    if (discretionary.length > 0) a5.push(tlv(TAG.FCI_ISSUER_DISCRETIONARY_DATA, discretionary));
    return encodeTlv(
      tlv(TAG.FCI_TEMPLATE, [tlv(TAG.DF_NAME, fromHex(p.aid)), tlv(TAG.FCI_PROPRIETARY_TEMPLATE, a5)]),
    );
  }

  /** SELECT by name (EMV Book 1 §11.3): the PSE, or the application by its whole or partial AID. */
  #select(c: CommandApdu): Uint8Array {
    if (c.p1 !== SELECT_BY_NAME) return answer(SW.INCORRECT_P1_P2);
    if (c.p2 !== FIRST_OCCURRENCE) return answer(SW.FILE_NOT_FOUND); // one application of each name
    const name = c.data ?? new Uint8Array(0);
    this.#endTransaction();
    if (toHex(name) === toHex(asciiToBytes(PSE_NAME))) {
      this.#selected = "pse";
      const fci = tlv(TAG.FCI_TEMPLATE, [
        tlv(TAG.DF_NAME, name),
        tlv(TAG.FCI_PROPRIETARY_TEMPLATE, [
          tlv(TAG.SFI, Uint8Array.of(RECORD_SFI)),
          tlv(TAG.LANGUAGE_PREFERENCE, asciiToBytes(LANGUAGE)),
        ]),
      ]);
      return answer(SW.OK, encodeTlv(fci));
    }
    // Partial names select too (EMV Book 1 §12.2.2), as real cards do.
    if (name.length >= 5 && this.profile.aid.startsWith(toHex(name))) {
      this.#selected = "app";
      return answer(SW.OK, this.#fci());
    }
    this.#selected = "none";
    return answer(SW.FILE_NOT_FOUND);
  }

  /** GET PROCESSING OPTIONS (Book 3 §6.5.8): the transaction starts, the ATC goes up by one. */
  #gpo(c: CommandApdu): Uint8Array {
    if (this.#selected !== "app" || c.p1 !== 0 || c.p2 !== 0) return answer(SW.CONDITIONS_NOT_SATISFIED);
    const data = c.data ?? new Uint8Array(0);
    const pdolLength = this.profile.pdol ? dolLength(this.profile.pdol) : 0;
    if (data[0] !== COMMAND_TEMPLATE || data[1] !== pdolLength || data.length !== 2 + pdolLength)
      return answer(SW.WRONG_LENGTH);
    if (this.#state.atc >= MAX_ATC) return answer(SW.CONDITIONS_NOT_SATISFIED); // the card is dead for good
    this.#update({ atc: this.#state.atc + 1 });
    this.#endTransaction();
    this.#inTransaction = true;
    return answer(SW.OK, encodeTlv(tlv(TAG.RESPONSE_FORMAT_1, fromHex(this.profile.aip + this.profile.afl))));
  }

  /** READ RECORD (Book 1 §11.2): one record in SFI 1, the PSE's directory or the application's data. */
  #readRecord(c: CommandApdu): Uint8Array {
    const target = readRecordTarget(c);
    if (!target) return answer(SW.INCORRECT_P1_P2);
    if (target.sfi !== RECORD_SFI || target.record !== 1 || this.#selected === "none")
      return answer(SW.RECORD_NOT_FOUND);
    if (this.#selected === "pse") {
      const entry = tlv(TAG.APPLICATION_TEMPLATE, [
        tlv(TAG.AID, fromHex(this.profile.aid)),
        tlv(TAG.APPLICATION_LABEL, asciiToBytes(this.profile.label)),
        tlv(TAG.APPLICATION_PRIORITY, Uint8Array.of(1)),
      ]);
      return answer(SW.OK, encodeTlv(tlv(TAG.RECORD_TEMPLATE, [entry])));
    }
    const p = this.profile;
    const panHex = this.#state.pan.length % 2 ? `${this.#state.pan}F` : this.#state.pan;
    // Track 2 equivalent data (Book 3 Annex A): PAN, D, YYMM, service code 201, discretionary data, F pad.
    const track2 = `${this.#state.pan}D${this.#state.expiry.slice(0, 4)}2010000000000`;
    const record = tlv(TAG.RECORD_TEMPLATE, [
      tlv(TAG.TRACK2_EQUIVALENT, fromHex(track2.length % 2 ? `${track2}F` : track2)),
      tlv(TAG.PAN, fromHex(panHex)),
      tlv(TAG.CARDHOLDER_NAME, asciiToBytes(CARDHOLDER_NAME)),
      tlv(TAG.PSN, fromHex(this.#state.psn)),
      tlv(TAG.EXPIRY, fromHex(this.#state.expiry)),
      tlv(TAG.CVM_LIST, fromHex("00000000000000000100")), // plaintext PIN by ICC, always
      tlv(TAG.CDOL1, fromHex(p.cdol1)),
      tlv(TAG.CDOL2, fromHex(p.cdol2)),
      ...(p.ipb ? [tlv(TAG.IPB, fromHex(p.ipb))] : []),
      ...(p.iaf ? [tlv(TAG.IAF, fromHex(p.iaf))] : []),
    ]);
    return answer(SW.OK, encodeTlv(record));
  }

  /** GET DATA (Book 3 §6.5.7): the PIN try counter, the ATC and the last online ATC. */
  #getData(c: CommandApdu): Uint8Array {
    const tag = getDataTag(c);
    const value =
      tag === TAG.PIN_TRY_COUNTER
        ? Uint8Array.of(this.#state.pinTries)
        : tag === TAG.ATC
          ? writeUint(this.#state.atc, 2)
          : tag === TAG.LAST_ONLINE_ATC
            ? writeUint(0, 2)
            : undefined;
    return value ? answer(SW.OK, encodeTlv(tlv(tag, value))) : answer(SW.REFERENCED_DATA_NOT_FOUND);
  }

  /** VERIFY of the plaintext PIN (Book 3 §6.5.12): `63Cx` while tries are left, then `6983`. */
  #verify(c: CommandApdu): Uint8Array {
    if (c.p1 !== 0x00 || c.p2 !== PLAINTEXT_PIN) return answer(SW.INCORRECT_P1_P2);
    const block = c.data;
    if (block?.length !== 8) return answer(SW.WRONG_LENGTH);
    if (this.#state.pinTries === 0) return answer(SW.AUTH_METHOD_BLOCKED);
    const digits = pinBlockDigits(block);
    if (digits === undefined) return answer(SW.INCORRECT_DATA);
    // Compare every digit, whatever the first mismatch (no timing hint, even in a simulator).
    let diff = digits.length ^ this.#state.pin.length;
    for (let i = 0; i < this.#state.pin.length; i++)
      diff |= (digits.charCodeAt(i) || 0) ^ this.#state.pin.charCodeAt(i);
    if (diff === 0) {
      if (this.#state.pinTries !== this.#state.pinTryLimit)
        this.#update({ pinTries: this.#state.pinTryLimit });
      this.#pinVerified = true;
      return answer(SW.OK);
    }
    const left = this.#state.pinTries - 1;
    this.#update({ pinTries: left });
    this.#pinVerified = false;
    return answer(verifyFailed(left));
  }

  /**
   * GENERATE AC (Book 3 §6.5.5): the first an ARQC only after the PIN (else 6985), the second always an AAC
   * (the reader declines), nothing third.
   */
  #generateAc(c: CommandApdu): Uint8Array {
    if (!this.#inTransaction) return answer(SW.CONDITIONS_NOT_SATISFIED);
    if (c.p2 !== 0x00 || (c.p1 & GAC_REFERENCE.CDA) !== 0) return answer(SW.WRONG_P1_P2); // CDA not offered
    const requested = c.p1 & GAC_REFERENCE.TYPE_MASK;
    if (requested === GAC_REFERENCE.TYPE_MASK) return answer(SW.INCORRECT_P1_P2); // RFU
    const p = this.profile;
    const data = c.data ?? new Uint8Array(0);
    if (this.#gacCount >= 2) return answer(SW.CONDITIONS_NOT_SATISFIED);
    const first = this.#gacCount === 0;
    if (data.length !== dolLength(first ? p.cdol1 : p.cdol2)) return answer(SW.WRONG_LENGTH);
    if (first && !this.#pinVerified) return answer(SW.CONDITIONS_NOT_SATISFIED);
    this.#gacCount++;
    const cid = first && requested !== GAC_REFERENCE.AAC ? CID_ARQC : CID_AAC;
    const iad = fromHex(cid === CID_ARQC ? p.iadArqc : p.iadAac);
    // The second GENERATE AC's CDOL2 data carries the ARC (2 bytes) before the CDOL1 values the MAC covers.
    const cdol1Data = first ? data : data.subarray(2, 2 + dolLength(p.cdol1));
    const ac = this.#model.cryptogram(cdol1Data, this.#state.atc, iad);
    if (!first) this.#inTransaction = false;
    const atc = writeUint(this.#state.atc, 2);
    const body =
      p.responseFormat === 1
        ? tlv(TAG.RESPONSE_FORMAT_1, concat(Uint8Array.of(cid), atc, ac, iad))
        : tlv(TAG.RESPONSE_FORMAT_2, [
            tlv(TAG.CID, Uint8Array.of(cid)),
            tlv(TAG.ATC, atc),
            tlv(TAG.AC, ac),
            tlv(TAG.IAD, iad),
          ]);
    return answer(SW.OK, encodeTlv(body));
  }
}

/** The length of the data a DOL (hex) asks for. */
function dolLength(dolHex: string): number {
  return parseDol(fromHex(dolHex)).reduce((n, e) => n + e.length, 0);
}
