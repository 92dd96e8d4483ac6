/**
 * The applications a CAP reader looks for (docs/architecture.md §3.1): the CAP/DPA ones it tries first, and the
 * payment applications some readers fall back on when a card has none (a Vasco DIGIPASS 810 on Belgian cards, a
 * Barclays PINsentry on a UK Visa Debit card).
 */

/** Visa DPA ("VISA Auth" on French cards, "VisaRemAuthen" in Belgium, "BARCLAYS"). */
export const AID_VISA_DPA = "A0000000038002";
/** MasterCard CAP ("SecureCode Aut"). */
export const AID_MASTERCARD_CAP = "A0000000048002";
/** Bancontact, the Belgian debit scheme's payment application (doegox/EMV-CAP reads it in its "BANCONTACT" mode). */
export const AID_BANCONTACT = "D056000666111010";
/** Visa credit and debit (a UK "Visa Debit", python-emv issue 6). */
export const AID_VISA = "A0000000031010";
/** Maestro. */
export const AID_MAESTRO = "A0000000043060";

/**
 * CAP/DPA AIDs found in the wild, tried from the PSE after the profile's own: PostFinance (Switzerland), and the
 * Barclays "authentication-only" cards of python-emv issue 26. Any AID ending in 8002 is taken for one too.
 */
const KNOWN_CAP_AIDS: readonly string[] = [
  AID_VISA_DPA,
  AID_MASTERCARD_CAP,
  "A0000001118002",
  "A0000000453116",
  "A0000002040000",
];

/** Whether an AID names a CAP/DPA application (as opposed to a payment one). */
export function isCapAid(aid: string): boolean {
  return KNOWN_CAP_AIDS.includes(aid) || aid.endsWith("8002");
}
