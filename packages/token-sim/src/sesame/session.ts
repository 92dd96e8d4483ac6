import { CapkitError } from "@capkit/core";
import {
  type CapInputs,
  type CardConnection,
  decodeTlv,
  flattenTlv,
  fromHex,
  generateCapCode,
  IAF_AMOUNT,
  type ReaderProfile,
  readPinTryCounter,
  SW,
  selectByName,
  TAG,
  transmitApdu,
} from "@capkit/emv-cap";
import type { CardFacts, ReaderFunction } from "./machine.js";
import { type CustomerError, formatAmount } from "./screens.js";

/**
 * The Sésame reader's card I/O: what it reads when a card goes in, and a function's session (the CAP engine,
 * emv-cap's `generateCapCode`), turned into the events of the reader's table (machine.ts).
 */

/**
 * The card as the reader's contacts reach it: once the card is out (`inSlot()` false), no command reaches it
 * any more, whatever session was still running — it ends with CARD_REMOVED.
 */
export function cardInSlot(card: CardConnection, inSlot: () => boolean): CardConnection {
  const removed = () => new CapkitError("CARD_REMOVED", "the card was removed");
  return {
    atr: card.atr,
    transmit: (command) => (inSlot() ? card.transmit(command) : Promise.reject(removed())),
    close: () => card.close(),
  };
}

/**
 * SELECT and GET DATA 9F17 only, when the card goes in: no GET PROCESSING OPTIONS, so inserting a card costs no
 * ATC, and a blocked card says so before a PIN is typed.
 */
export async function inspectCard(card: CardConnection, profile: ReaderProfile): Promise<CardFacts> {
  for (const aid of profile.aids) {
    const r = await transmitApdu(card, selectByName(fromHex(aid)));
    if (r.sw === SW.OK) return { triesLeft: await readPinTryCounter(card), canSign: canSignFromFci(r.data) };
  }
  return { triesLeft: undefined, canSign: undefined };
}

/** The IAF (9F55) from a SELECT response's FCI, if the card puts it there: can it sign amounts? */
function canSignFromFci(fci: Uint8Array): boolean | undefined {
  try {
    const iaf = flattenTlv(decodeTlv(fci)).find((t) => t.tag === TAG.IAF)?.value[0];
    return iaf === undefined ? undefined : (iaf & IAF_AMOUNT) !== 0;
  } catch {
    return undefined; // an FCI we cannot parse: the function itself will find out
  }
}

/** What the holder typed for a function. */
export interface FunctionRequest {
  readonly fn: ReaderFunction;
  readonly challenge: string;
  /** In cents, as typed (`formatAmount` shows it). */
  readonly amount: string;
  readonly tds: readonly string[];
  /** ISO 4217 numeric, for Sign when the card asks for one. */
  readonly currency: string;
  readonly pin: string;
}

/** How a function's session ends, as the reader's table names it. */
export type SessionOutcome =
  | { readonly type: "codeReady"; readonly code: string; readonly display: string }
  | { readonly type: "pinWrong"; readonly triesLeft: number }
  | { readonly type: "pinBlocked" }
  | { readonly type: "cardRemoved" }
  | { readonly type: "cardError"; readonly error: CustomerError };

function capInputs(r: FunctionRequest): CapInputs {
  if (r.fn.mode === "identify")
    return r.fn.tds ? { mode: "identify", tds: [...r.tds] } : { mode: "identify" };
  if (r.fn.mode === "respond") return { mode: "respond", challenge: r.challenge };
  // The card signs the amount the LCD showed ("1234,56": emv-cap reads either decimal mark).
  return { mode: "sign", challenge: r.challenge, amount: formatAmount(r.amount), currency: r.currency };
}

/**
 * Runs the function on the card. `confirmRisk` is the reader's "last try — continue?" screen: the engine asks it
 * before spending the last PIN try or one it cannot count (emv-cap's pin-safety.ts).
 */
export async function runFunction(
  card: CardConnection,
  profile: ReaderProfile,
  request: FunctionRequest,
  confirmRisk: (triesLeft: number | undefined) => Promise<boolean>,
): Promise<SessionOutcome> {
  try {
    const r = await generateCapCode(card, capInputs(request), { profile, pin: request.pin, confirmRisk });
    return { type: "codeReady", code: r.code, display: r.display };
  } catch (e) {
    return outcomeOf(e);
  }
}

function outcomeOf(e: unknown): SessionOutcome {
  const code = e instanceof CapkitError ? e.code : undefined;
  switch (code) {
    case "PIN_WRONG":
      return { type: "pinWrong", triesLeft: Number((e as CapkitError).details?.["triesLeft"]) };
    case "PIN_BLOCKED":
      return { type: "pinBlocked" };
    case "CARD_REMOVED":
      return { type: "cardRemoved" };
    case "PIN_TRIES_LOW":
    case "PIN_TRIES_UNKNOWN":
      return { type: "cardError", error: "cancelled" };
    case "CARD_NOT_SUPPORTED":
    case "NO_CAP_APPLICATION":
      return { type: "cardError", error: "not-accepted" };
    default:
      return { type: "cardError", error: "card-error" };
  }
}
