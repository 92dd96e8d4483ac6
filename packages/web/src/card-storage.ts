import { parseSimCardState, type SimCardState } from "@capkit/token-sim";

/**
 * The simulated card's state kept in the browser (localStorage), so a reload never repeats an ATC: a code is
 * one-time because the card's ATC only grows (docs/architecture.md §6), and a page reload must not rewind the card.
 * Saved synchronously on every change, before the card answers the APDU that changed it.
 */
const PREFIX = "capkit-sim-card:";

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The card to use: the one given (e.g. as the bank issued it) or, when this browser already holds that card
 * (same PAN and keys), the stored one — with the larger ATC, so neither a reload nor a fresh copy from the
 * issuer ever rewinds it.
 */
export function restoreCardState(issued: SimCardState, storage: KeyValueStorage): SimCardState {
  const card = parseSimCardState(issued);
  let stored: SimCardState | undefined;
  try {
    const text = storage.getItem(PREFIX + card.pan);
    stored = text ? parseSimCardState(JSON.parse(text)) : undefined;
  } catch {
    stored = undefined; // unreadable: start again from the issued card
  }
  const merged =
    stored && stored.imk === card.imk && stored.profile === card.profile
      ? { ...stored, atc: Math.max(stored.atc, card.atc) }
      : card;
  saveCardState(merged, storage);
  return merged;
}

export function saveCardState(state: SimCardState, storage: KeyValueStorage): void {
  storage.setItem(PREFIX + state.pan, JSON.stringify(state));
}
