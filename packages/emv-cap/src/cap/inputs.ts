import {
  argumentError,
  CapkitError,
  digitsToBcd,
  expectOneOf,
  expectRecord,
  expectString,
  fromHex,
} from "@capkit/core";
import { TAG } from "../protocol/tags.js";
import { tagFromHex } from "../tlv.js";
import { IAF_AMOUNT, IAF_AMOUNT_ONLY, validateTds } from "./code.js";
import type { ReaderApplication, ReaderProfile } from "./profiles.js";

/**
 * The reader functions (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.3): identify = Mode 2, the
 * Sésame "Code" key (UN = 0); respond = Mode 1
 * with a challenge in the UN; sign = Mode 1 with challenge and amount (and currency when the card's IAF says
 * so). Identify with `tds` numbers is Mode 2 + TDS: the card still sees Mode 2, the reader MACs the numbers.
 */
export type CapMode = "identify" | "respond" | "sign";

/** The reader functions, as {@link CapInputs.mode} takes them. */
const CAP_MODES: readonly CapMode[] = ["identify", "respond", "sign"];

/** What the holder asks the reader for: the function and its inputs. */
export interface CapInputs {
  /** The reader function. */
  readonly mode: CapMode;
  /** Decimal digits, 1 to the profile's maximum (8): the bank's challenge or, for UK Sign, the reference. */
  readonly challenge?: string;
  /** Sign: decimal amount in major units, `1234.56` or `1234,56`, at most 2 decimals. */
  readonly amount?: string;
  /** Sign, when the card wants it: ISO 4217 numeric code, e.g. `978` for EUR. */
  readonly currency?: string;
  /** Identify only: 1–10 numbers of up to 10 digits for Mode 2 + TDS. */
  readonly tds?: readonly string[];
}

/** Checks the inputs against the mode and profile before any APDU is sent (nothing spent on bad input). */
export function validateCapInputs(inputs: CapInputs, profile: ReaderProfile): void {
  // Types first, for plain JavaScript: a number where digits go would pass a regular expression (it is turned
  // into its text) and end as a TypeError, or a wrong code, further on.
  const { mode, challenge, amount, currency, tds } = expectRecord<CapInputs>(
    inputs,
    "the inputs",
    "an object ({ mode, challenge?, amount?, currency?, tds? })",
  );
  expectOneOf(mode, "the mode", CAP_MODES);
  if (challenge !== undefined) expectString(challenge, "the challenge");
  if (amount !== undefined) expectString(amount, "the amount");
  if (currency !== undefined) expectString(currency, "the currency");
  if (tds !== undefined && !Array.isArray(tds))
    throw argumentError("INPUT_INVALID", "the TDS numbers", "an array of digit strings", tds);
  if (mode === "identify") {
    if (challenge !== undefined || amount !== undefined || currency !== undefined) {
      throw new CapkitError("INPUT_INVALID", "identify takes no challenge, amount or currency", {
        hint: "use respond for a challenge, sign for an amount",
      });
    }
  } else {
    if (challenge === undefined) throw new CapkitError("INPUT_INVALID", `${mode} needs a challenge`);
    if (!/^[0-9]+$/.test(challenge) || challenge.length > profile.challengeMaxDigits) {
      throw new CapkitError(
        "INPUT_INVALID",
        `the challenge must be 1 to ${profile.challengeMaxDigits} digits`,
      );
    }
    if (tds !== undefined)
      throw new CapkitError("INPUT_INVALID", "TDS numbers go with identify (Mode 2) only");
  }
  if (mode === "respond" && (amount !== undefined || currency !== undefined)) {
    throw new CapkitError("INPUT_INVALID", "respond takes no amount", { hint: "use sign for an amount" });
  }
  if (mode === "sign") {
    if (amount === undefined) throw new CapkitError("INPUT_INVALID", "sign needs an amount");
    amountToMinorUnits(amount);
    if (currency !== undefined && !/^[0-9]{3}$/.test(currency)) {
      throw new CapkitError(
        "INPUT_INVALID",
        "the currency is a 3-digit ISO 4217 numeric code (EUR 978, GBP 826)",
      );
    }
  }
  if (tds !== undefined) validateTds(tds);
}

/**
 * An amount as typed on a reader, in minor units as EMV's n12 amount wants: at most 12 digits.
 *
 * @example
 * ```ts
 * amountToMinorUnits("1234.56"); // "123456"
 * amountToMinorUnits("12,5"); // "1250"
 * ```
 * @throws `INPUT_INVALID` for anything but 1 to 10 digits with at most 2 decimals (`.` or `,`)
 */
export function amountToMinorUnits(amount: string): string {
  const m = /^([0-9]{1,10})(?:[.,]([0-9]{1,2}))?$/.exec(expectString(amount, "the amount").trim());
  if (!m) {
    throw new CapkitError(
      "INPUT_INVALID",
      "the amount must look like 1234.56 (at most 2 decimals, 10 integer digits)",
    );
  }
  return (m[1]! + (m[2] ?? "").padEnd(2, "0")).replace(/^0+(?=.)/, "");
}

/**
 * The values the reader fills DOLs with: the terminal data it sends to this application (its profile's
 * constants for it, https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.4), then the mode inputs. `iaf`
 * decides whether Sign puts the
 * amount (IAF b8) and the currency (b8 without b6) into the cryptogram (`unsignedInputs` says what is left out).
 */
export function cdolValues(
  application: ReaderApplication,
  inputs: CapInputs,
  iaf: number,
): Map<number, Uint8Array> {
  const values = new Map<number, Uint8Array>();
  for (const [tag, hex] of Object.entries(application.terminalData))
    values.set(tagFromHex(tag), fromHex(hex));
  values.set(TAG.UN, digitsToBcd(inputs.challenge ?? "", 4));
  if (inputs.mode === "sign") {
    if ((iaf & IAF_AMOUNT) === 0) {
      throw new CapkitError(
        "CARD_NOT_SUPPORTED",
        "this card does not sign amounts (its IAF has no amount flag)",
        {
          hint: "use respond with the challenge instead",
        },
      );
    }
    values.set(TAG.AMOUNT, digitsToBcd(amountToMinorUnits(inputs.amount ?? "0"), 6));
    if ((iaf & IAF_AMOUNT_ONLY) === 0) {
      if (inputs.currency === undefined) {
        throw new CapkitError(
          "INPUT_INVALID",
          "this card signs the amount with its currency: give a currency code",
        );
      }
      values.set(TAG.CURRENCY, digitsToBcd(inputs.currency, 2));
    }
  }
  return values;
}

/**
 * What of the holder's inputs the card leaves out of its cryptogram, as warnings: a currency given to a card
 * that signs the amount only (IAF b8 and b6). The code is the same with or without it, so it is not refused
 * — the bank accepts the code — but nobody may believe the code binds the currency.
 */
export function unsignedInputs(inputs: CapInputs, iaf: number): string[] {
  if (inputs.mode !== "sign" || inputs.currency === undefined) return [];
  if ((iaf & IAF_AMOUNT) === 0 || (iaf & IAF_AMOUNT_ONLY) === 0) return [];
  return [
    `this card signs the amount only (its IAF has b6 set): the currency ${inputs.currency} is not in the code`,
  ];
}
