import type { ReaderState } from "./machine.js";
import { SESAME_FUNCTIONS } from "./machine.js";

/**
 * Every text the Sésame LCD shows (2 lines of 16), in one place: the words of the physical reader, in capitals
 * without accents as its LCD writes them. A session that ends in an error shows words for the customer, never
 * an error code (those are for the support desk, which has `capkit doctor`).
 */
export type Lines = readonly [string, string];

/** The endings a customer reads when a function cannot give a code. */
export type CustomerError = "cancelled" | "not-accepted" | "card-error" | "unavailable";

const ERROR_LINES: Readonly<Record<CustomerError, Lines>> = {
  /** The reader kept the last PIN try, or could not count the tries. */
  cancelled: ["OPERATION", "ANNULEE"],
  /** No CAP application the reader can use. */
  "not-accepted": ["CARTE NON", "ACCEPTEE"],
  "card-error": ["ERREUR CARTE", "REESSAYER"],
  /** The card cannot do the function chosen (Sign without the IAF's amount flag). */
  unavailable: ["FONCTION NON", "DISPONIBLE"],
};

/** What the screen of a state shows, from the session so far. */
export interface ScreenContext {
  readonly menuIndex: number;
  readonly entry: string;
  readonly tds: readonly string[];
  /** The tries left when the reader asks before spending the last one (undefined: the card did not say). */
  readonly confirmTries: number | undefined;
  readonly pinTriesLeft: number | undefined;
  readonly display: string | undefined;
  readonly error: CustomerError;
}

/** `123456` (cents, as typed) → `1234,56`: the amount as the LCD shows it and as the card signs it. */
export function formatAmount(digits: string): string {
  return `${digits.slice(0, -2) || "0"},${digits.slice(-2).padStart(2, "0")}`;
}

export function screenLines(state: ReaderState, c: ScreenContext): Lines {
  switch (state) {
    case "off":
      return ["", ""];
    case "insert-card":
      return ["INSERER CARTE", ""];
    case "menu":
      return ["FONCTION ?", `> ${SESAME_FUNCTIONS[c.menuIndex]!.label}`];
    case "challenge":
      return ["DEFI ?", c.entry];
    case "amount":
      return ["MONTANT ?", c.entry ? formatAmount(c.entry) : ""];
    case "tds":
      return [`DONNEE ${c.tds.length + 1} ?`, c.entry];
    case "pin":
      // The PIN itself never reaches the LCD: one star per digit.
      return ["PIN ?", "*".repeat(c.entry.length)];
    case "working":
      return ["PATIENTEZ", ""];
    case "confirm-last-try":
      return [c.confirmTries === undefined ? "ESSAIS INCONNUS" : "DERNIER ESSAI", "OK:OUI  C:NON"];
    case "code":
      return [SESAME_FUNCTIONS[c.menuIndex]!.label, c.display ?? ""];
    case "pin-wrong":
      return ["PIN FAUX", `ESSAIS: ${c.pinTriesLeft}`];
    case "blocked":
      return ["CARTE BLOQUEE", ""];
    case "error":
      return ERROR_LINES[c.error];
  }
}
