import { asciiToBytes, CapkitError, concat, fromHex, toHex, writeUint } from "@capkit/core";
import {
  CAP_ISSUER_FORMAT,
  CapCodeModel,
  type CapIssuerRecord,
  type CardConnection,
  type CommandApdu,
  cryptogramSpec,
  encodeTlv,
  parseCommand,
  parseDol,
  testIccMasterKey,
  tlv,
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
/** Every simulated card is issued to the same test holder (ISO/IEC 7813 "SURNAME/FIRST NAME" form). */
const CARDHOLDER_NAME = "CAPKIT/TEST CARD";
const ATR = fromHex("3B021450");
/**
 * An inverse-convention ATR (TS = 3F) of the kind French bank cards give: TB1 25, TC1 08, T=0, historical
 * bytes 22 04 68 90 00. Readers that see TS = 3F warm-reset the card before any EMV command.
 */
const FRENCH_COLD_ATR = fromHex("3F6525082204689000");

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
    pinTryLimit: 3,
    pinTries: 3,
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

/** The issuer's view of a card: what a verifier needs, never the PIN. */
export function issuerRecordOf(state: SimCardState): CapIssuerRecord {
  const p = simCardProfile(state.profile);
  return {
    format: CAP_ISSUER_FORMAT,
    pan: state.pan,
    psn: state.psn,
    profile: p.readerProfile,
    cryptogramVersion: p.cryptogramVersion,
    aid: p.aid,
    aip: p.aip,
    cdol1: p.cdol1,
    iaf: p.iaf,
    ipb: p.ipb,
    iad: p.iadArqc,
    key: { kind: "test-imk", imk: state.imk, derivation: cryptogramSpec(p.cryptogramVersion).masterKey },
  };
}

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
const sw = (v: number) => Uint8Array.of(v >> 8, v & 0xff);

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
    this.atr = options.coldState ? FRENCH_COLD_ATR : ATR;
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
      return sw(0x6700);
    }
    if (this.#cold) return fromHex(this.#options.coldState!);
    if (this.#options.t0 && c.cla === 0x00 && c.ins === 0xc0) {
      const pending = this.#pending;
      this.#pending = undefined;
      if (!pending) return sw(0x6985);
      return concat(pending, sw(0x9000));
    }
    const response = this.#dispatch(c);
    // T=0: a case-4 command's data comes back only through GET RESPONSE (ISO/IEC 7816-3 §12.2.3).
    if (this.#options.t0 && c.data && response.length > 2 && response[response.length - 2] === 0x90) {
      this.#pending = response.subarray(0, response.length - 2);
      return Uint8Array.of(0x61, this.#pending.length & 0xff);
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
    this.#inTransaction = false;
    this.#pinVerified = false;
    this.#gacCount = 0;
    this.#pending = undefined;
  }

  #update(change: Partial<SimCardState>): void {
    this.#state = { ...this.#state, ...change };
    this.#options.onStateChange?.(this.#state);
  }

  #dispatch(c: CommandApdu): Uint8Array {
    if (c.cla !== 0x00 && c.cla !== 0x80) return sw(0x6e00);
    switch ((c.cla << 8) | c.ins) {
      case 0x00a4:
        return this.#select(c);
      case 0x80a8:
        return this.#gpo(c);
      case 0x00b2:
        return this.#readRecord(c);
      case 0x80ca:
        return this.#getData(c);
      case 0x0020:
        return this.#verify(c);
      case 0x80ae:
        return this.#generateAc(c);
      default:
        return sw(0x6d00);
    }
  }

  #fci(): Uint8Array {
    const p = this.profile;
    const a5 = [
      tlv(0x50, asciiToBytes(p.label)),
      tlv(0x87, Uint8Array.of(1)),
      tlv(0x5f2d, asciiToBytes("fren")),
    ];
    if (p.pdol) a5.push(tlv(0x9f38, fromHex(p.pdol)));
    a5.push(tlv(0xbf0c, [tlv(0x9f55, fromHex(p.iaf))]));
    return encodeTlv(tlv(0x6f, [tlv(0x84, fromHex(p.aid)), tlv(0xa5, a5)]));
  }

  #select(c: CommandApdu): Uint8Array {
    if (c.p1 !== 0x04) return sw(0x6a86);
    if (c.p2 !== 0x00) return sw(0x6a82); // no "next occurrence": one application of each name
    const name = c.data ?? new Uint8Array(0);
    this.#powerOffTransaction();
    if (toHex(name) === toHex(asciiToBytes(PSE_NAME))) {
      this.#selected = "pse";
      return concat(
        encodeTlv(
          tlv(0x6f, [
            tlv(0x84, name),
            tlv(0xa5, [tlv(0x88, Uint8Array.of(1)), tlv(0x5f2d, asciiToBytes("fren"))]),
          ]),
        ),
        sw(0x9000),
      );
    }
    // Partial names select too (EMV Book 1 §12.2.2), as real cards do.
    if (name.length >= 5 && this.profile.aid.startsWith(toHex(name))) {
      this.#selected = "app";
      return concat(this.#fci(), sw(0x9000));
    }
    this.#selected = "none";
    return sw(0x6a82);
  }

  #powerOffTransaction(): void {
    this.#inTransaction = false;
    this.#pinVerified = false;
    this.#gacCount = 0;
  }

  #gpo(c: CommandApdu): Uint8Array {
    if (this.#selected !== "app" || c.p1 !== 0 || c.p2 !== 0) return sw(0x6985);
    const data = c.data ?? new Uint8Array(0);
    const pdolLength = this.profile.pdol
      ? parseDol(fromHex(this.profile.pdol)).reduce((n, e) => n + e.length, 0)
      : 0;
    if (data[0] !== 0x83 || data[1] !== pdolLength || data.length !== 2 + pdolLength) return sw(0x6700);
    if (this.#state.atc >= 0xffff) return sw(0x6985); // ATC exhausted: the card is dead for good
    this.#update({ atc: this.#state.atc + 1 });
    this.#inTransaction = true;
    this.#pinVerified = false;
    this.#gacCount = 0;
    return concat(encodeTlv(tlv(0x80, fromHex(this.profile.aip + this.profile.afl))), sw(0x9000));
  }

  #readRecord(c: CommandApdu): Uint8Array {
    if ((c.p2 & 0x07) !== 0x04) return sw(0x6a86);
    const sfi = c.p2 >> 3;
    if (sfi !== 1 || c.p1 !== 1 || this.#selected === "none") return sw(0x6a83);
    if (this.#selected === "pse") {
      const entry = tlv(0x61, [
        tlv(0x4f, fromHex(this.profile.aid)),
        tlv(0x50, asciiToBytes(this.profile.label)),
        tlv(0x87, Uint8Array.of(1)),
      ]);
      return concat(encodeTlv(tlv(0x70, [entry])), sw(0x9000));
    }
    const p = this.profile;
    const panHex = this.#state.pan.length % 2 ? `${this.#state.pan}F` : this.#state.pan;
    // Track 2 equivalent data (Book 3 Annex A): PAN, D, YYMM, service code 201, discretionary data, F pad.
    const track2 = `${this.#state.pan}D${this.#state.expiry.slice(0, 4)}2010000000000`;
    const record = tlv(0x70, [
      tlv(0x57, fromHex(track2.length % 2 ? `${track2}F` : track2)),
      tlv(0x5a, fromHex(panHex)),
      tlv(0x5f20, asciiToBytes(CARDHOLDER_NAME)),
      tlv(0x5f34, fromHex(this.#state.psn)),
      tlv(0x5f24, fromHex(this.#state.expiry)),
      tlv(0x8e, fromHex("00000000000000000100")), // CVM list: plaintext PIN by ICC, always
      tlv(0x8c, fromHex(p.cdol1)),
      tlv(0x8d, fromHex(p.cdol2)),
      tlv(0x9f56, fromHex(p.ipb)),
      tlv(0x9f55, fromHex(p.iaf)),
    ]);
    return concat(encodeTlv(record), sw(0x9000));
  }

  #getData(c: CommandApdu): Uint8Array {
    const tag = (c.p1 << 8) | c.p2;
    if (tag === 0x9f17) return concat(fromHex("9F1701"), Uint8Array.of(this.#state.pinTries), sw(0x9000));
    if (tag === 0x9f36) return concat(fromHex("9F3602"), writeUint(this.#state.atc, 2), sw(0x9000));
    if (tag === 0x9f13) return concat(fromHex("9F13020000"), sw(0x9000));
    return sw(0x6a88);
  }

  #verify(c: CommandApdu): Uint8Array {
    if (c.p1 !== 0x00 || c.p2 !== 0x80) return sw(0x6a86);
    const block = c.data;
    if (block?.length !== 8) return sw(0x6700);
    if (this.#state.pinTries === 0) return sw(0x6983);
    const n = block[0]! & 0x0f;
    const digits = toHex(block.subarray(1)).slice(0, n);
    if ((block[0]! & 0xf0) !== 0x20 || n < 4 || n > 12 || !/^[0-9]+$/.test(digits)) return sw(0x6a80);
    // Compare every digit, whatever the first mismatch (no timing hint, even in a simulator).
    let diff = digits.length ^ this.#state.pin.length;
    for (let i = 0; i < this.#state.pin.length; i++)
      diff |= (digits.charCodeAt(i) || 0) ^ this.#state.pin.charCodeAt(i);
    if (diff === 0) {
      if (this.#state.pinTries !== this.#state.pinTryLimit)
        this.#update({ pinTries: this.#state.pinTryLimit });
      this.#pinVerified = true;
      return sw(0x9000);
    }
    const left = this.#state.pinTries - 1;
    this.#update({ pinTries: left });
    this.#pinVerified = false;
    return sw(0x63c0 | left);
  }

  #generateAc(c: CommandApdu): Uint8Array {
    if (!this.#inTransaction) return sw(0x6985);
    if (c.p2 !== 0x00 || (c.p1 & 0x10) !== 0) return sw(0x6b00); // CDA not offered
    const requested = c.p1 & 0xc0;
    if (requested === 0xc0) return sw(0x6a86);
    const p = this.profile;
    const data = c.data ?? new Uint8Array(0);
    if (this.#gacCount >= 2) return sw(0x6985);
    const first = this.#gacCount === 0;
    const dol = parseDol(fromHex(first ? p.cdol1 : p.cdol2));
    if (data.length !== dol.reduce((n, e) => n + e.length, 0)) return sw(0x6700);
    // First GENERATE AC: an ARQC only after the PIN (else 6985); the second always declines with an AAC.
    if (first && !this.#pinVerified) return sw(0x6985);
    this.#gacCount++;
    const cid = first && requested !== 0x00 ? 0x80 : 0x00;
    const iad = fromHex(cid === 0x80 ? p.iadArqc : p.iadAac);
    const cdol1Data = first
      ? data
      : data.subarray(2, 2 + parseDol(fromHex(p.cdol1)).reduce((n, e) => n + e.length, 0));
    const ac = this.#model.cryptogram(cdol1Data, this.#state.atc, iad);
    if (!first) this.#inTransaction = false;
    const atc = writeUint(this.#state.atc, 2);
    const body =
      p.responseFormat === 1
        ? encodeTlv(tlv(0x80, concat(Uint8Array.of(cid), atc, ac, iad)))
        : encodeTlv(
            tlv(0x77, [tlv(0x9f27, Uint8Array.of(cid)), tlv(0x9f36, atc), tlv(0x9f26, ac), tlv(0x9f10, iad)]),
          );
    return concat(body, sw(0x9000));
  }
}
