import { CapkitError } from "@capkit/core";
import type { DolEntry } from "../dol.js";
import { TAG } from "../protocol/tags.js";
import { tagToHex } from "../tlv.js";

/**
 * The terminal data a card MACs for an application cryptogram: the "recommended minimum set of data elements
 * for application cryptogram generation" of EMV 4.3 Book 2 §8.1.1 Table 26, in that table's order — amount
 * authorised, amount other, terminal country code, TVR, transaction currency code, transaction date,
 * transaction type, unpredictable number. Visa (VIS CVN 10/18/22) and MasterCard (M/Chip CVN 16/17/20/21)
 * cards MAC exactly these, then AIP, ATC and their CVN's card data (see `CRYPTOGRAM_VERSIONS`).
 *
 * A card's CDOL1 may ask for more (terminal type 9F35, data authentication code 9F45, ICC dynamic number 9F4C,
 * CVM results 9F34 in the Dutch, Portuguese and Belgian CAP traces): those values are sent to the card in
 * GENERATE AC but are not MAC input, so the values are picked by tag, never taken as the whole data field.
 */
export const AC_TERMINAL_TAGS: readonly number[] = [
  TAG.AMOUNT,
  TAG.AMOUNT_OTHER,
  TAG.TERMINAL_COUNTRY,
  TAG.TVR,
  TAG.CURRENCY,
  TAG.TRANSACTION_DATE,
  TAG.TRANSACTION_TYPE,
  TAG.UN,
];

/**
 * Where the Table 26 elements sit in the data a reader sends for one CDOL1. Built once per card (the CDOL1
 * never changes), used by the simulated card, the issuer-side model and the verifier alike, so all three MAC
 * the same bytes a real card does.
 */
export class CryptogramDataSelection {
  /** [offset, length] in the CDOL1 data of each Table 26 element, in Table 26 order. */
  readonly #slices: readonly (readonly [number, number])[];
  readonly #un: readonly [number, number];
  readonly #cdol1Length: number;
  /** Length of the selected terminal data (29 bytes for the standard element lengths). */
  readonly length: number;

  constructor(cdol1: readonly DolEntry[]) {
    const at = new Map<number, [number, number]>();
    let o = 0;
    for (const e of cdol1) {
      if (!at.has(e.tag)) at.set(e.tag, [o, e.length]);
      o += e.length;
    }
    this.#cdol1Length = o;
    const missing = missingCryptogramTags(cdol1);
    if (missing.length > 0) {
      throw new CapkitError(
        "CDOL_INCOMPLETE",
        `the card's CDOL1 lacks ${missing.join(", ")}, which its cryptogram covers (EMV Book 2 Table 26)`,
        {
          hint: "this card's cryptogram cannot be recomputed from what a reader sends it: check the CDOL1 (8C) read from the card",
          details: { missing },
        },
      );
    }
    this.#slices = AC_TERMINAL_TAGS.map((t) => at.get(t)!);
    // The unpredictable number is also the MasterCard session key's diversifier (Book 2 A1.3.1, M/Chip SKD).
    this.#un = at.get(TAG.UN)!;
    this.length = this.#slices.reduce((n, [, l]) => n + l, 0);
  }

  /** The Table 26 values picked by tag from the CDOL1 data as sent in GENERATE AC. */
  select(cdol1Data: Uint8Array): Uint8Array {
    this.#checkLength(cdol1Data);
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const [from, length] of this.#slices) {
      out.set(cdol1Data.subarray(from, from + length), o);
      o += length;
    }
    return out;
  }

  /** The unpredictable number (9F37) as sent. */
  unpredictableNumber(cdol1Data: Uint8Array): Uint8Array {
    this.#checkLength(cdol1Data);
    return cdol1Data.subarray(this.#un[0], this.#un[0] + this.#un[1]);
  }

  #checkLength(cdol1Data: Uint8Array): void {
    if (cdol1Data.length !== this.#cdol1Length) {
      throw new CapkitError(
        "INPUT_INVALID",
        `CDOL1 data of ${cdol1Data.length} bytes for a CDOL1 of ${this.#cdol1Length}`,
      );
    }
  }
}

/** The Table 26 tags a CDOL1 does not ask for, as hex ("9F37"); empty when a cryptogram can be recomputed. */
export function missingCryptogramTags(cdol1: readonly DolEntry[]): string[] {
  const present = new Set(cdol1.map((e) => e.tag));
  return AC_TERMINAL_TAGS.filter((t) => !present.has(t)).map(tagToHex);
}
