import { parseSimCardState, type SimCardState } from "@capkit/token-sim";
import { expectMethods } from "./door.js";

/*
 * The simulated card's state kept in the browser (localStorage), so a reload never repeats an ATC: a code is
 * one-time because the card's ATC only grows (https://github.com/capkit/capkit/blob/main/docs/architecture.md
 * §6), and a page reload must not rewind the card. `<capkit-sesame-reader>` saves it synchronously on every
 * change, before the card answers the APDU that changed it.
 */
const PREFIX = "capkit-sim-card:";

/**
 * Where a card's state is kept: the part of the Web Storage API the reader uses (`localStorage` in a page; a
 * `Map`-backed object in Node or a test).
 */
export interface KeyValueStorage {
  /** The text stored under `key`, or null. */
  getItem(key: string): string | null;
  /** Stores `value` under `key` (may throw when the storage is full: the caller then knows it was not kept). */
  setItem(key: string, value: string): void;
}

const expectStorage = (storage: unknown) =>
  expectMethods<KeyValueStorage>(
    storage,
    "the storage",
    "a KeyValueStorage (localStorage, or an object with getItem and setItem)",
    ["getItem", "setItem"],
  );

/**
 * The card to use, saved back to `storage`: the one given (as the bank issued it) or, when this browser
 * already holds that card (same PAN, keys and profile), the stored one — with the larger ATC, so neither a
 * reload nor a fresh copy from the issuer ever rewinds it. A stored copy that cannot be read is replaced by
 * the issued card.
 *
 * @param issued - the card's state as the issuer hands it (`newSimCardState()` of `@capkit/token-sim`)
 * @param storage - where the browser keeps it (`localStorage`), under `capkit-sim-card:<PAN>`
 * @returns the state to put in the reader
 * @throws `INPUT_INVALID` for a card state that `parseSimCardState` refuses, or a storage without
 *   `getItem`/`setItem`, before anything is read or written
 *
 * @example
 * ```ts
 * import { restoreCardState, saveCardState } from "@capkit/web";
 * import { SimulatedCard } from "@capkit/token-sim";
 *
 * const issued = await (await fetch("/devices/card.json")).json();
 * const card = new SimulatedCard(restoreCardState(issued, localStorage), {
 *   onStateChange: (state) => saveCardState(state, localStorage), // before the card answers
 * });
 * ```
 */
export function restoreCardState(issued: SimCardState, storage: KeyValueStorage): SimCardState {
  const card = parseSimCardState(issued);
  const store = expectStorage(storage);
  let stored: SimCardState | undefined;
  try {
    const text = store.getItem(PREFIX + card.pan);
    stored = text ? parseSimCardState(JSON.parse(text)) : undefined;
  } catch {
    stored = undefined; // unreadable: start again from the issued card
  }
  const merged =
    stored && stored.imk === card.imk && stored.profile === card.profile
      ? { ...stored, atc: Math.max(stored.atc, card.atc) }
      : card;
  saveCardState(merged, store);
  return merged;
}

/**
 * Saves a card's state under `capkit-sim-card:<PAN>` (as `<capkit-sesame-reader>` does on every change).
 *
 * @param state - the card's state (checked: a state `parseSimCardState` refuses is never stored)
 * @param storage - `localStorage`, or any {@link KeyValueStorage}
 * @throws `INPUT_INVALID` for a state or a storage of the wrong shape; what `storage.setItem` throws (full)
 *
 * @example
 * ```ts
 * saveCardState({ ...card.state }, localStorage);
 * ```
 */
export function saveCardState(state: SimCardState, storage: KeyValueStorage): void {
  const card = parseSimCardState(state);
  expectStorage(storage).setItem(PREFIX + card.pan, JSON.stringify(card));
}
