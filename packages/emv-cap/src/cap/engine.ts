import { asciiToBytes, bytesToPrintable, CapkitError, fromHex, toHex } from "@capkit/core";
import type { ResponseApdu } from "../apdu.js";
import { type CardConnection, transmitApdu } from "../connection.js";
import { type DolEntry, fillDol, parseDol, splitDolData } from "../dol.js";
import {
  GAC_REFERENCE,
  generateAc as generateAcCommand,
  getData,
  getProcessingOptions,
  readRecord as readRecordCommand,
  selectByName,
} from "../protocol/commands.js";
import { describeSw, SW, swHex, verifyFailedTriesLeft } from "../protocol/status.js";
import { TAG } from "../protocol/tags.js";
import { decodeTlv, findTlv, flattenTlv, type Tlv } from "../tlv.js";
import { isCapAid } from "./aids.js";
import { codeValue, displayCode, formatCode } from "./code.js";
import { cryptogramType, type GacResponse, parseGacResponse } from "./gac.js";
import { type CapInputs, cdolValues, unsignedInputs, validateCapInputs } from "./inputs.js";
import { type PinEntry, plaintextPin } from "./pin.js";
import { PIN_TRY_MESSAGES, pinTryRefusal, pinTryVerdict } from "./pin-safety.js";
import { DEFAULT_PROFILE, READER_PROFILES, type ReaderProfile, readerProfile } from "./profiles.js";
import {
  cardFactsOf,
  codeRuleFor,
  paymentAids,
  type ResolvedApplication,
  readerApplicationFor,
  readerApplicationWarnings,
} from "./reader-application.js";

/**
 * The CAP reader: an aborted offline EMV transaction (docs/architecture.md §3.2).
 * SELECT → GET PROCESSING OPTIONS → READ RECORDs → GET DATA 9F17 → VERIFY → GENERATE AC (ARQC, CDOL1) →
 * GENERATE AC (AAC, CDOL2, the reader's ARC) → the code, by the reader's rule for the application (§3.5).
 */

export type CapStep =
  | { readonly step: "reset" }
  | { readonly step: "select"; readonly aid: string; readonly label?: string }
  | { readonly step: "gpo" }
  | { readonly step: "records"; readonly count: number }
  | { readonly step: "pin-tries"; readonly tries: number | undefined }
  | { readonly step: "verify" }
  | { readonly step: "generate-ac"; readonly n: 1 | 2 };

export interface ReadOptions {
  readonly profile?: ReaderProfile;
  /** Select this AID (hex) and nothing else. */
  readonly aid?: string;
  readonly onStep?: (step: CapStep) => void;
}

export interface CapOptions extends ReadOptions {
  /** The PIN as digits (sent in plaintext to the card, as every CAP reader does) or a PIN-pad entry. */
  readonly pin: string | PinEntry;
  /** Verify even when the card has one PIN try left or does not say how many. */
  readonly force?: boolean;
  /**
   * Asked instead of refusing when tries are low or unknown (a device UI's "last try — continue?"); resolving
   * true is the explicit go-ahead, false refuses as without it.
   */
  readonly confirmRisk?: (triesLeft: number | undefined) => Promise<boolean>;
}

/** The application a reader chose, as SELECT returned it: no transaction started, no ATC spent. */
export interface SelectedApplication {
  readonly aid: string;
  readonly label: string | undefined;
  readonly fci: readonly Tlv[];
  /** A payment application, chosen because no CAP/DPA one answered (a Vasco 810 or a PINsentry does so). */
  readonly payment: boolean;
  /** The constants the profile's reader sends to it (docs/architecture.md §3.4). */
  readonly reader: ResolvedApplication;
  /** What the holder should know: a profile without constants for it, a payment application, assumptions. */
  readonly warnings: readonly string[];
}

/** A selected CAP/DPA (or payment) application with everything READ RECORD gave. */
export interface CapApplication extends SelectedApplication {
  readonly aip: Uint8Array;
  readonly afl: Uint8Array;
  /** Primitive data objects from the FCI and the records, first occurrence of each tag. */
  readonly data: ReadonlyMap<number, Uint8Array>;
  readonly cdol1: readonly DolEntry[];
  readonly cdol2: readonly DolEntry[] | undefined;
  /** Issuer Authentication Flags (9F55), 0 when absent. */
  readonly iaf: number;
  readonly ipb: Uint8Array | undefined;
  readonly psn: Uint8Array | undefined;
}

export interface CapResult {
  /** Digits, zero-padded to the display width: "04822527". */
  readonly code: string;
  /** As the reader shows it: "0482 2527". */
  readonly display: string;
  readonly value: number;
  readonly bits: number;
  readonly atc: number;
  readonly aid: string;
  readonly label: string | undefined;
  readonly profile: string;
  /** The profile's set of constants the reader sent (`ReaderApplication.id`): what an issuer record names. */
  readonly readerApplication: string;
  readonly mode: CapInputs["mode"];
  readonly cryptogram: {
    readonly type: ReturnType<typeof cryptogramType>;
    readonly cid: string;
    readonly ac: string;
    readonly iad: string;
  };
  /** The CDOL1 data sent, tag by tag: what entered the cryptogram (diagnosing reader constant mismatches). */
  readonly cdol1: readonly { readonly tag: string; readonly value: string }[];
  /** How the number was made: the IPB's bits (`ipb` is the one used) or the Belgian formula (`ipb` empty). */
  readonly formula: "ipb" | "belgian";
  readonly ipb: string;
  readonly iaf: string;
  readonly warnings: readonly string[];
}

const PSE = asciiToBytes("1PAY.SYS.DDF01");
const MAX_RECORDS = 64;

/**
 * A card answering 6E00 ("class not supported") or 6D00 ("instruction not supported") to the first SELECT or
 * GPO often only needs a warm reset: French cards that come up in a non-EMV cold state (cardpeek; python-emv
 * issue 33, a Crédit Coopératif card answering "instruction not supported" until a reader warm-resets it).
 */
class NeedsWarmReset extends Error {
  constructor(readonly sw: number) {
    super(swHex(sw));
  }
}

function needsWarmReset(sw: number): boolean {
  return sw === SW.CLA_NOT_SUPPORTED || sw === SW.INS_NOT_SUPPORTED;
}

function select(conn: CardConnection, name: Uint8Array): Promise<ResponseApdu> {
  return transmitApdu(conn, selectByName(name));
}

function readRecord(conn: CardConnection, sfi: number, record: number): Promise<ResponseApdu> {
  return transmitApdu(conn, readRecordCommand(sfi, record));
}

function cardError(what: string, sw: number): CapkitError {
  return new CapkitError("CARD_ERROR", `${what} failed: ${swHex(sw)} (${describeSw(sw)})`, {
    details: { sw: swHex(sw) },
  });
}

export interface ListedApplication {
  readonly aid: string;
  readonly label: string | undefined;
  readonly priority: number | undefined;
}

/** The applications the contact PSE lists (EMV Book 1 §12.2.3); empty when the card has no PSE. */
export async function listApplications(conn: CardConnection): Promise<ListedApplication[]> {
  const r = await select(conn, PSE);
  if (needsWarmReset(r.sw)) throw new NeedsWarmReset(r.sw);
  if (r.sw !== SW.OK) return [];
  const sfi = findTlv(decodeTlv(r.data), TAG.SFI)?.value[0];
  if (sfi === undefined) return [];
  const apps: ListedApplication[] = [];
  for (let rec = 1; rec <= MAX_RECORDS; rec++) {
    const rr = await readRecord(conn, sfi, rec);
    if (rr.sw !== SW.OK) break;
    for (const entry of decodeTlv(rr.data)
      .flatMap((t) => t.children ?? [])
      .filter((t) => t.tag === TAG.APPLICATION_TEMPLATE)) {
      const aid = findTlv([entry], TAG.AID)?.value;
      if (!aid) continue;
      const label = findTlv([entry], TAG.APPLICATION_LABEL)?.value;
      const prio = findTlv([entry], TAG.APPLICATION_PRIORITY)?.value[0];
      apps.push({
        aid: toHex(aid),
        label: label ? bytesToPrintable(label) : undefined,
        priority: prio === undefined ? undefined : prio & 0x0f,
      });
    }
  }
  return apps;
}

/**
 * Chooses the application as a real reader does (docs/architecture.md §3.1): the profile's CAP/DPA AIDs, then
 * the CAP applications the PSE lists, then — only when none answered — the profile's payment applications.
 */
async function chooseApplication(
  conn: CardConnection,
  profile: ReaderProfile,
  forced: string | undefined,
  warnings: string[],
): Promise<{ aid: string; fci: Tlv[]; payment: boolean }> {
  const attempt = async (aid: string): Promise<Tlv[] | undefined> => {
    const r = await select(conn, fromHex(aid, "AID"));
    if (needsWarmReset(r.sw)) throw new NeedsWarmReset(r.sw);
    if (r.sw === SW.OK) return decodeTlv(r.data);
    if (r.sw === SW.SELECTED_FILE_INVALIDATED)
      warnings.push(`application ${aid} is blocked (${swHex(r.sw)})`);
    return undefined;
  };
  if (forced) {
    const aid = forced.toUpperCase();
    const fci = await attempt(aid);
    if (fci) return { aid, fci, payment: !isCapAid(aid) };
    throw new CapkitError("NO_CAP_APPLICATION", `the card has no application ${aid}`);
  }
  const tried = new Set<string>();
  for (const aid of profile.aids) {
    tried.add(aid);
    const fci = await attempt(aid);
    if (fci) return { aid, fci, payment: false };
  }
  const listed = await listApplications(conn);
  const candidates = listed
    .filter((a) => isCapAid(a.aid) && !tried.has(a.aid))
    .sort((a, b) => (a.priority ?? 15) - (b.priority ?? 15));
  for (const app of candidates) {
    tried.add(app.aid);
    const fci = await attempt(app.aid);
    if (fci) return { aid: app.aid, fci, payment: false };
  }
  for (const aid of paymentAids(profile)) {
    if (tried.has(aid)) continue;
    const fci = await attempt(aid);
    if (fci) return { aid, fci, payment: true };
  }
  const readers = Object.values(READER_PROFILES)
    .filter((p) => p.name !== profile.name && paymentAids(p).length > 0)
    .map(
      (p) =>
        `${p.name} (${p.applications
          .filter((a) => a.payment)
          .map((a) => a.name)
          .join(", ")})`,
    );
  throw new CapkitError("NO_CAP_APPLICATION", "no CAP/DPA application on this card", {
    hint: [
      listed.length
        ? `the card lists ${listed.map((a) => a.aid).join(", ")}; force one with an AID if it is the CAP application`
        : "is it a bank card with a CAP/DPA application? Try another profile or force the AID",
      `profiles whose readers use payment applications: ${readers.join("; ")}`,
    ].join(". "),
    details: { listed: listed.map((a) => a.aid) },
  });
}

/**
 * SELECTs the application a reader following the profile would use, and nothing more: no GET PROCESSING
 * OPTIONS, so no transaction is started and the card's ATC does not move (`capkit doctor` without --full).
 */
export async function selectApplication(
  conn: CardConnection,
  options: ReadOptions = {},
): Promise<SelectedApplication> {
  return withWarmReset(conn, options, (warnings) => selectOnce(conn, options, warnings));
}

async function selectOnce(
  conn: CardConnection,
  options: ReadOptions,
  warnings: string[],
): Promise<SelectedApplication> {
  const profile = options.profile ?? readerProfile(DEFAULT_PROFILE);
  const { aid, fci, payment } = await chooseApplication(conn, profile, options.aid, warnings);
  const labelBytes = findTlv(fci, TAG.APPLICATION_LABEL)?.value;
  const label = labelBytes ? bytesToPrintable(labelBytes) : undefined;
  options.onStep?.(label === undefined ? { step: "select", aid } : { step: "select", aid, label });
  const reader = readerApplicationFor(profile, cardFactsOf(aid, fci));
  warnings.push(...readerApplicationWarnings(profile, aid, reader));
  return { aid, label, fci, payment, reader, warnings };
}

function parseAfl(afl: Uint8Array): { sfi: number; record: number }[] {
  if (afl.length % 4 !== 0) throw new CapkitError("CARD_ERROR", "the AFL is not a list of 4-byte entries");
  const out: { sfi: number; record: number }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < afl.length; i += 4) {
    const sfi = afl[i]! >> 3;
    const first = afl[i + 1]!;
    const last = afl[i + 2]!;
    if (sfi < 1 || sfi > 30 || first < 1 || last < first)
      throw new CapkitError("CARD_ERROR", "the AFL has an invalid entry");
    for (let record = first; record <= last; record++) {
      const key = `${sfi}/${record}`;
      if (!seen.has(key) && out.length < MAX_RECORDS) {
        seen.add(key);
        out.push({ sfi, record });
      }
    }
  }
  return out;
}

/**
 * Selects the CAP application, starts the transaction (GPO — this increments the card's ATC) and reads its
 * records. No PIN is involved, so `card info` and `doctor` use this too.
 */
export async function readCapApplication(
  conn: CardConnection,
  options: ReadOptions = {},
): Promise<CapApplication> {
  return withWarmReset(conn, options, (warnings) => readApplicationOnce(conn, options, warnings));
}

/** Runs `run` once, or twice around one warm reset; each attempt collects its own warnings. */
async function withWarmReset<T>(
  conn: CardConnection,
  options: ReadOptions,
  run: (warnings: string[]) => Promise<T>,
): Promise<T> {
  const warmReset = async () => {
    options.onStep?.({ step: "reset" });
    await conn.reset?.("warm");
  };
  // Inverse-convention ATRs (3F) are French cards that answer EMV only after a warm reset (EMV-CAP --warmreset auto).
  let reset = false;
  if (conn.atr[0] === 0x3f && conn.reset) {
    await warmReset();
    reset = true;
  }
  // One warm reset at most, then a typed error: a card still refusing EMV is not a CAP card in this state.
  for (;;) {
    try {
      return await run([]);
    } catch (e) {
      if (!(e instanceof NeedsWarmReset)) throw e;
      if (reset || !conn.reset) {
        throw new CapkitError(
          "CARD_NOT_SUPPORTED",
          `the card answers ${swHex(e.sw)} (${describeSw(e.sw)})${reset ? " even after a warm reset" : ""}`,
          {
            hint: reset
              ? "remove and reinsert the card; if it persists the card has no EMV application this reader can use"
              : "this connection cannot warm-reset the card: use a PC/SC reader",
            details: { sw: swHex(e.sw) },
          },
        );
      }
      await warmReset();
      reset = true;
    }
  }
}

async function readApplicationOnce(
  conn: CardConnection,
  options: ReadOptions,
  warnings: string[],
): Promise<CapApplication> {
  const selected = await selectOnce(conn, options, warnings);
  const { fci } = selected;
  const terminal = cdolValues(selected.reader.application, { mode: "identify" }, 0);
  const pdol = findTlv(fci, TAG.PDOL)?.value;
  const pdolData = pdol ? fillDol(parseDol(pdol), terminal) : new Uint8Array(0);
  options.onStep?.({ step: "gpo" });
  const gpo = await transmitApdu(conn, getProcessingOptions(pdolData));
  if (needsWarmReset(gpo.sw)) throw new NeedsWarmReset(gpo.sw);
  if (gpo.sw !== SW.OK) throw cardError("GET PROCESSING OPTIONS", gpo.sw);
  const { aip, afl } = parseGpo(gpo.data);

  const data = new Map<number, Uint8Array>();
  const remember = (objects: readonly Tlv[]) => {
    for (const o of flattenTlv(objects)) if (!data.has(o.tag)) data.set(o.tag, o.value);
  };
  remember(fci);
  const records = parseAfl(afl);
  for (const { sfi, record } of records) {
    const r = await readRecord(conn, sfi, record);
    if (r.sw !== SW.OK) throw cardError(`READ RECORD ${record} of SFI ${sfi}`, r.sw);
    remember(decodeTlv(r.data));
  }
  options.onStep?.({ step: "records", count: records.length });

  const cdol1 = data.get(TAG.CDOL1);
  if (!cdol1)
    throw new CapkitError("CARD_NOT_SUPPORTED", "the application has no CDOL1 (8C): not a CAP application?");
  const cdol2 = data.get(TAG.CDOL2);
  return {
    ...selected,
    aip,
    afl,
    data,
    cdol1: parseDol(cdol1),
    cdol2: cdol2 ? parseDol(cdol2) : undefined,
    iaf: data.get(TAG.IAF)?.[0] ?? 0,
    ipb: data.get(TAG.IPB),
    psn: data.get(TAG.PSN),
  };
}

function parseGpo(data: Uint8Array): { aip: Uint8Array; afl: Uint8Array } {
  const top = decodeTlv(data);
  const first = top[0];
  if (first?.tag === TAG.RESPONSE_FORMAT_1 && first.value.length >= 2) {
    return { aip: first.value.slice(0, 2), afl: first.value.slice(2) };
  }
  if (first?.tag === TAG.RESPONSE_FORMAT_2) {
    const aip = findTlv(top, TAG.AIP)?.value;
    const afl = findTlv(top, TAG.AFL)?.value;
    if (aip?.length === 2 && afl) return { aip: aip.slice(), afl: afl.slice() };
  }
  throw new CapkitError("CARD_ERROR", "GET PROCESSING OPTIONS response has no AIP/AFL");
}

/** GET DATA 9F17 (PIN Try Counter, EMV 4.3 Book 3 §6.5.7); undefined when the card does not tell. */
export async function readPinTryCounter(conn: CardConnection): Promise<number | undefined> {
  return pinTryCounterOf(await transmitApdu(conn, getData(TAG.PIN_TRY_COUNTER)));
}

/** The counter in a GET DATA 9F17 answer: one byte in 9F17; undefined for a refusal or anything else. */
function pinTryCounterOf(r: ResponseApdu): number | undefined {
  if (r.sw !== SW.OK) return undefined;
  try {
    const v = findTlv(decodeTlv(r.data), TAG.PIN_TRY_COUNTER)?.value;
    return v?.length === 1 ? v[0] : undefined;
  } catch {
    return undefined; // not TLV: a counter we cannot read is one we cannot count
  }
}

/**
 * PIN safety (docs/architecture.md §3.9, the rule in pin-safety.ts): read the try counter first; below the
 * reserved tries, or when the card does not say, only `force` or the holder's confirmation on the device
 * (`confirmRisk`) sends the VERIFY; a blocked PIN is never tried.
 */
async function verifyPinSafely(conn: CardConnection, options: CapOptions): Promise<void> {
  const pin = typeof options.pin === "string" ? plaintextPin(options.pin) : options.pin;
  const tries = await readPinTryCounter(conn);
  options.onStep?.({ step: "pin-tries", tries });
  const verdict = pinTryVerdict(tries, { force: options.force ?? false });
  if (verdict !== "verify") {
    const confirmed = verdict !== "blocked" && options.confirmRisk ? await options.confirmRisk(tries) : false;
    if (!confirmed) throw pinTryRefusal(verdict, tries);
  }
  options.onStep?.({ step: "verify" });
  const sw = await pin.verify(conn);
  if (sw === SW.OK) return;
  const left = verifyFailedTriesLeft(sw);
  if (left === 0)
    throw new CapkitError("PIN_BLOCKED", "wrong PIN: the card is now blocked", {
      hint: PIN_TRY_MESSAGES.blocked.hint,
      details: { triesLeft: 0 },
    });
  if (left !== undefined)
    throw new CapkitError("PIN_WRONG", `wrong PIN, ${left} ${left === 1 ? "try" : "tries"} left`, {
      details: { triesLeft: left },
    });
  if (sw === SW.AUTH_METHOD_BLOCKED || sw === SW.REFERENCED_DATA_INVALIDATED)
    throw new CapkitError("PIN_BLOCKED", `the card's PIN is blocked (${swHex(sw)})`, {
      hint: PIN_TRY_MESSAGES.blocked.hint,
    });
  throw cardError("VERIFY", sw);
}

async function generateAc(conn: CardConnection, reference: number, data: Uint8Array): Promise<GacResponse> {
  const r = await transmitApdu(conn, generateAcCommand(reference, data));
  if (r.sw !== SW.OK) throw cardError("GENERATE AC", r.sw);
  return parseGacResponse(r.data);
}

/** Runs a whole CAP session and returns the code the reader would show. */
export async function generateCapCode(
  conn: CardConnection,
  inputs: CapInputs,
  options: CapOptions,
): Promise<CapResult> {
  const profile = options.profile ?? readerProfile(DEFAULT_PROFILE);
  validateCapInputs(inputs, profile);
  if (typeof options.pin === "string") plaintextPin(options.pin); // reject a malformed PIN before any APDU
  const app = await withWarmReset(conn, options, (w) =>
    readApplicationOnce(conn, { ...options, profile }, w),
  );
  const warnings = [...app.warnings];
  for (const u of profile.unsupported ?? []) if (u.modes.includes(inputs.mode)) warnings.push(u.text);
  const constants = app.reader.application;

  const values = cdolValues(constants, inputs, app.iaf);
  warnings.push(...unsignedInputs(inputs, app.iaf));
  const cdol1Data = fillDol(app.cdol1, values);
  await verifyPinSafely(conn, options);

  options.onStep?.({ step: "generate-ac", n: 1 });
  const arqc = await generateAc(conn, GAC_REFERENCE.ARQC, cdol1Data);
  const type = cryptogramType(arqc.cid);
  // An AAC ends the transaction: the card declined, a reader shows no code and sends nothing more (a Vasco 810
  // on the Luxembourg Maestro card, luxembourg-maestro-vasco810-declined).
  if (type === "AAC")
    throw new CapkitError(
      "CARD_DECLINED",
      "the card declined (it answered GENERATE AC with an AAC): no code",
      {
        hint: "a reader shows no code either; if it happens every time, this card or application does not allow this function",
        details: { atc: arqc.atc, aid: app.aid, readerApplication: constants.id },
      },
    );
  if (type !== "ARQC")
    warnings.push(`the card answered with a ${type}, not an ARQC: the bank may reject this code`);

  // GENERATE AC #2 answers an ARQC only (EMV 4.3 Book 3 §6.5.5): a TC already completed the transaction.
  if (profile.secondGenerateAc && type === "ARQC") {
    if (app.cdol2) {
      options.onStep?.({ step: "generate-ac", n: 2 });
      values.set(TAG.ARC, fromHex(constants.arc));
      try {
        await generateAc(conn, GAC_REFERENCE.AAC, fillDol(app.cdol2, values));
      } catch (e) {
        if (!(e instanceof CapkitError) || e.code !== "CARD_ERROR") throw e;
        warnings.push(`second GENERATE AC failed (${e.message}); the code is still valid`);
      }
    } else {
      warnings.push("the card has no CDOL2: second GENERATE AC skipped");
    }
  }

  const session = {
    atc: arqc.atc,
    aid: app.aid,
    label: app.label,
    profile: profile.name,
    readerApplication: constants.id,
    mode: inputs.mode,
    cdol1: splitDolData(app.cdol1, cdol1Data),
    iaf: toHex(Uint8Array.of(app.iaf)),
  };
  // A shared trace replays the whole dialogue, but its cryptogram was masked (docs/transcript-format.md): the
  // number a reader showed cannot be rebuilt from it, and none is made up.
  if (conn.cryptogramMasked?.())
    throw new CapkitError(
      "CODE_NOT_KEPT",
      "the dialogue replayed, but the recording does not keep the cryptogram: the code it gave is not in it",
      {
        hint: "a trace made with --trace-unredacted keeps it (a lab's own cards only)",
        details: { ...session, warnings },
      },
    );

  const { rule, fallbackIpb } = codeRuleFor(constants, app.ipb, profile);
  if (fallbackIpb)
    warnings.push(`the card has no IPB (9F56): used the profile's fallback ${profile.fallbackIpb}`);
  const { value, bits, truncated } = codeValue(rule, {
    response: arqc,
    iaf: app.iaf,
    ...(app.psn ? { psn: app.psn } : {}),
    ...(inputs.tds ? { tds: inputs.tds } : {}),
  });
  if (truncated) warnings.push("the IPB is longer than the card's data: missing bits read as 0");
  const code = formatCode(value, profile.displayDigits);
  if (code.length > profile.displayDigits)
    warnings.push(`the code has ${code.length} digits, more than the display's ${profile.displayDigits}`);
  return {
    ...session,
    code,
    display: displayCode(code),
    value,
    bits,
    cryptogram: { type, cid: toHex(Uint8Array.of(arqc.cid)), ac: toHex(arqc.ac), iad: toHex(arqc.iad) },
    formula: rule.kind,
    ipb: rule.kind === "ipb" ? toHex(rule.ipb) : "",
    warnings,
  };
}
