import { CapkitError } from "@capkit/core";
import type { Money, OperationDocument, Payee } from "./operation.js";
import { operationDigest } from "./operation.js";

/**
 * What each device binds of an operation (PSD2 RTS Art. 5, "dynamic linking"), derived in one place so the
 * bank's page (what it asks the customer to type), the device and the verifier agree. Three methods:
 *
 * | method          | the customer sees / types                     | bound by the code                           | not bound                                 |
 * | --------------- | --------------------------------------------- | ------------------------------------------- | ----------------------------------------- |
 * | device (app)    | the whole document, rendered from its signed  | the digest: every field                     | — (the app is a browser: no hardware      |
 * |                 | copy                                          |                                             | isolation, RTS Art. 9(3))                  |
 * | OCRA (keypad)   | amount, last 8 IBAN digits, an 8-digit        | amount and IBAN digits as typed; the rest   | a changed name/country/account with the   |
 * |                 | reference from the digest                     | through the reference, server-side only     | same reference (1 in 10^8)                |
 * | CAP Sign        | the amount and the last 8 IBAN digits         | the amount and those 8 digits (+ currency   | the payee's name, the other IBAN          |
 * | (Sésame reader) |                                               | when the card's IAF signs it)               | characters, the account, the expiry       |
 *
 * The typed parts protect against a man in the browser only as far as the customer checks what they type
 * against their own knowledge of the payee (an invoice, a contract); the digest-derived reference binds the
 * whole document for the server (a code for one operation never validates another) but the customer cannot
 * tell what it means.
 */

/** The digits a customer is asked to type for a payee: the last 8 digits of the IBAN (UK, Dutch banks). */
export const PAYEE_DIGITS = 8;

function bindingError(message: string): CapkitError {
  return new CapkitError("OPERATION_INVALID", message);
}

/** The payee and amount a keypad device can bind: a transfer's, or a batch's total with its first payee. */
function payeeAndAmount(doc: OperationDocument): { payee: Payee; amount: Money } {
  if (doc.type === "transfer") return { payee: doc.payee, amount: doc.amount };
  if (doc.type === "batch-transfer") return { payee: doc.payees[0]!, amount: doc.total };
  throw bindingError(`a ${doc.type} operation has no amount for a keypad device: approve it in the app`);
}

/** The last 8 digits of the IBAN (letters skipped): what a customer types for the payee. */
export function payeeDigits(iban: string): string {
  const digits = iban.replace(/[^0-9]/g, "");
  return digits.slice(-PAYEE_DIGITS).padStart(PAYEE_DIGITS, "0");
}

/** 8 decimal digits from the operation digest (big-endian, mod 10^8): the reference the bank shows. */
export function operationReference(doc: OperationDocument): string {
  const d = operationDigest(doc);
  const n = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  const m = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0;
  return String((BigInt(n) * 2n ** 32n + BigInt(m)) % 10n ** 8n).padStart(8, "0");
}

export interface OcraQuestion {
  /** The RFC 6287 QN question: amount ‖ payee digits ‖ reference, digits only. */
  readonly question: string;
  /** The fields the bank's page asks the customer to type, in order. */
  readonly fields: { readonly amount: string; readonly payee: string; readonly reference: string };
}

/** The OCRA suite the question fits: numeric questions up to 64 digits (RFC 6287 §5.1 QN64). */
export const OCRA_SIGNATURE_SUITE = "OCRA-1:HOTP-SHA256-8:QN64";

/**
 * The OCRA question for a keypad token (RFC 6287 §7.2 signature): amount in minor units, the payee's last 8
 * IBAN digits, and the 8-digit reference from the document digest, concatenated. The two fixed-length
 * suffixes make the split unambiguous, and the amount (≥ 1) has no leading zero, so the QN number (RFC 6287
 * §5.1 reads QN as a number) is one-to-one with the three fields.
 */
export function ocraQuestion(doc: OperationDocument): OcraQuestion {
  const { payee, amount } = payeeAndAmount(doc);
  const fields = {
    amount: String(amount.minor),
    payee: payeeDigits(payee.iban),
    reference: operationReference(doc),
  };
  return { question: fields.amount + fields.payee + fields.reference, fields };
}

/** ISO 4217 numeric codes of the two-decimal currencies a CAP reader's Sign amount (n12, cents) can carry. */
export const CAP_CURRENCIES: Readonly<Record<string, string>> = {
  EUR: "978",
  GBP: "826",
  CHF: "756",
  USD: "840",
};

/** A CAP Sign request as `@capkit/emv-cap` takes it (`CapInputs`, mode `sign`). */
export interface CapSignInputs {
  readonly mode: "sign";
  /** The payee's last 8 IBAN digits, the challenge the customer types (UN, ≤ 8 digits). */
  readonly challenge: string;
  /** The amount in major units with 2 decimals, as typed on the reader. */
  readonly amount: string;
  /** ISO 4217 numeric; enters the cryptogram only on cards whose IAF signs the currency. */
  readonly currency: string;
}

/**
 * The Sign inputs for a Sésame / CAP reader: challenge = the payee's last 8 IBAN digits, amount = the
 * operation's. A CAP code binds what the customer typed, nothing more: the payee name, the IBAN's other
 * characters and the account debited are not in it (see the table above).
 */
export function capSignInputs(doc: OperationDocument): CapSignInputs {
  const { payee, amount } = payeeAndAmount(doc);
  const currency = CAP_CURRENCIES[amount.currency];
  if (!currency)
    throw bindingError(
      `a CAP reader signs amounts with 2 decimals in ${Object.keys(CAP_CURRENCIES).join(", ")}`,
    );
  if (amount.minor >= 1e12) throw bindingError("a CAP amount has at most 12 digits");
  const whole = Math.floor(amount.minor / 100);
  const cents = String(amount.minor % 100).padStart(2, "0");
  return { mode: "sign", challenge: payeeDigits(payee.iban), amount: `${whole}.${cents}`, currency };
}
