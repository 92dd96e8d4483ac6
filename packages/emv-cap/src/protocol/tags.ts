import { bytesToPrintable, toHex } from "@capkit/core";
import { tagToHex } from "../tlv.js";

/**
 * The EMV data elements capkit names (EMV 4.3 Book 3 Annex A; the CAP uses of 9F55 and 9F56:
 * docs/architecture.md §3.10), one table from which both the names (`TAG.PAN`) and the dictionary (`tagInfo`,
 * `tagName`, `formatTagValue`) are built, so a name and its description cannot drift apart.
 *
 * The format drives display and DOL filling (Book 3 §5.4): n = BCD numeric, cn = compressed numeric,
 * an/ans = text, b = binary. Inside CAP/DPA applications 9F55 and 9F56 are the Issuer Authentication Flags and
 * the Issuer Proprietary Bitmap; payment applications use the same tags for other things.
 */
export type TagFormat = "b" | "n" | "cn" | "an" | "ans";

export interface TagInfo {
  readonly name: string;
  readonly format: TagFormat;
}

interface Element extends TagInfo {
  readonly tag: number;
}

const ELEMENTS = {
  AID: { tag: 0x4f, name: "Application Identifier (AID)", format: "b" },
  APPLICATION_LABEL: { tag: 0x50, name: "Application Label", format: "ans" },
  TRACK1: { tag: 0x56, name: "Track 1 Data", format: "ans" },
  TRACK2_EQUIVALENT: { tag: 0x57, name: "Track 2 Equivalent Data", format: "b" },
  PAN: { tag: 0x5a, name: "Application PAN", format: "cn" },
  CARDHOLDER_NAME: { tag: 0x5f20, name: "Cardholder Name", format: "ans" },
  EXPIRY: { tag: 0x5f24, name: "Application Expiration Date", format: "n" },
  EFFECTIVE_DATE: { tag: 0x5f25, name: "Application Effective Date", format: "n" },
  ISSUER_COUNTRY: { tag: 0x5f28, name: "Issuer Country Code", format: "n" },
  CURRENCY: { tag: 0x5f2a, name: "Transaction Currency Code", format: "n" },
  CARDHOLDER_NATIONALITY: { tag: 0x5f2c, name: "Cardholder Nationality", format: "n" },
  LANGUAGE_PREFERENCE: { tag: 0x5f2d, name: "Language Preference", format: "an" },
  SERVICE_CODE: { tag: 0x5f30, name: "Service Code", format: "n" },
  PSN: { tag: 0x5f34, name: "PAN Sequence Number (PSN)", format: "n" },
  APPLICATION_TEMPLATE: { tag: 0x61, name: "Application Template", format: "b" },
  FCI_TEMPLATE: { tag: 0x6f, name: "FCI Template", format: "b" },
  RECORD_TEMPLATE: { tag: 0x70, name: "Record Template", format: "b" },
  RESPONSE_FORMAT_2: { tag: 0x77, name: "Response Message Template Format 2", format: "b" },
  RESPONSE_FORMAT_1: { tag: 0x80, name: "Response Message Template Format 1", format: "b" },
  AIP: { tag: 0x82, name: "Application Interchange Profile (AIP)", format: "b" },
  DF_NAME: { tag: 0x84, name: "Dedicated File (DF) Name", format: "b" },
  APPLICATION_PRIORITY: { tag: 0x87, name: "Application Priority Indicator", format: "b" },
  SFI: { tag: 0x88, name: "Short File Identifier (SFI)", format: "b" },
  ARC: { tag: 0x8a, name: "Authorisation Response Code", format: "an" },
  CDOL1: { tag: 0x8c, name: "CDOL1", format: "b" },
  CDOL2: { tag: 0x8d, name: "CDOL2", format: "b" },
  CVM_LIST: { tag: 0x8e, name: "CVM List", format: "b" },
  CA_PUBLIC_KEY_INDEX: { tag: 0x8f, name: "CA Public Key Index", format: "b" },
  ISSUER_PUBLIC_KEY_CERTIFICATE: { tag: 0x90, name: "Issuer Public Key Certificate", format: "b" },
  ISSUER_AUTHENTICATION_DATA: { tag: 0x91, name: "Issuer Authentication Data", format: "b" },
  ISSUER_PUBLIC_KEY_REMAINDER: { tag: 0x92, name: "Issuer Public Key Remainder", format: "b" },
  AFL: { tag: 0x94, name: "Application File Locator (AFL)", format: "b" },
  TVR: { tag: 0x95, name: "Terminal Verification Results (TVR)", format: "b" },
  TRANSACTION_DATE: { tag: 0x9a, name: "Transaction Date", format: "n" },
  TRANSACTION_TYPE: { tag: 0x9c, name: "Transaction Type", format: "n" },
  AMOUNT: { tag: 0x9f02, name: "Amount, Authorised", format: "n" },
  AMOUNT_OTHER: { tag: 0x9f03, name: "Amount, Other", format: "n" },
  APPLICATION_USAGE_CONTROL: { tag: 0x9f07, name: "Application Usage Control", format: "b" },
  APPLICATION_VERSION: { tag: 0x9f08, name: "Application Version Number", format: "b" },
  CARDHOLDER_NAME_EXTENDED: { tag: 0x9f0b, name: "Cardholder Name Extended", format: "ans" },
  IAC_DEFAULT: { tag: 0x9f0d, name: "IAC - Default", format: "b" },
  IAC_DENIAL: { tag: 0x9f0e, name: "IAC - Denial", format: "b" },
  IAC_ONLINE: { tag: 0x9f0f, name: "IAC - Online", format: "b" },
  IAD: { tag: 0x9f10, name: "Issuer Application Data (IAD)", format: "b" },
  ISSUER_CODE_TABLE_INDEX: { tag: 0x9f11, name: "Issuer Code Table Index", format: "n" },
  APPLICATION_PREFERRED_NAME: { tag: 0x9f12, name: "Application Preferred Name", format: "ans" },
  LAST_ONLINE_ATC: { tag: 0x9f13, name: "Last Online ATC Register", format: "b" },
  LOWER_CONSECUTIVE_OFFLINE_LIMIT: { tag: 0x9f14, name: "Lower Consecutive Offline Limit", format: "b" },
  MERCHANT_CATEGORY_CODE: { tag: 0x9f15, name: "Merchant Category Code", format: "n" },
  PIN_TRY_COUNTER: { tag: 0x9f17, name: "PIN Try Counter", format: "b" },
  TERMINAL_COUNTRY: { tag: 0x9f1a, name: "Terminal Country Code", format: "n" },
  TRACK1_DISCRETIONARY: { tag: 0x9f1f, name: "Track 1 Discretionary Data", format: "ans" },
  TRACK2_DISCRETIONARY: { tag: 0x9f20, name: "Track 2 Discretionary Data", format: "cn" },
  TRANSACTION_TIME: { tag: 0x9f21, name: "Transaction Time", format: "n" },
  UPPER_CONSECUTIVE_OFFLINE_LIMIT: { tag: 0x9f23, name: "Upper Consecutive Offline Limit", format: "b" },
  AC: { tag: 0x9f26, name: "Application Cryptogram (AC)", format: "b" },
  CID: { tag: 0x9f27, name: "Cryptogram Information Data (CID)", format: "b" },
  ISSUER_PUBLIC_KEY_EXPONENT: { tag: 0x9f32, name: "Issuer Public Key Exponent", format: "b" },
  TERMINAL_CAPABILITIES: { tag: 0x9f33, name: "Terminal Capabilities", format: "b" },
  CVM_RESULTS: { tag: 0x9f34, name: "CVM Results", format: "b" },
  TERMINAL_TYPE: { tag: 0x9f35, name: "Terminal Type", format: "n" },
  ATC: { tag: 0x9f36, name: "Application Transaction Counter (ATC)", format: "b" },
  UN: { tag: 0x9f37, name: "Unpredictable Number", format: "b" },
  PDOL: { tag: 0x9f38, name: "PDOL", format: "b" },
  ADDITIONAL_TERMINAL_CAPABILITIES: { tag: 0x9f40, name: "Additional Terminal Capabilities", format: "b" },
  APPLICATION_CURRENCY: { tag: 0x9f42, name: "Application Currency Code", format: "n" },
  APPLICATION_CURRENCY_EXPONENT: { tag: 0x9f44, name: "Application Currency Exponent", format: "n" },
  DATA_AUTHENTICATION_CODE: { tag: 0x9f45, name: "Data Authentication Code", format: "b" },
  ICC_PUBLIC_KEY_CERTIFICATE: { tag: 0x9f46, name: "ICC Public Key Certificate", format: "b" },
  ICC_PUBLIC_KEY_EXPONENT: { tag: 0x9f47, name: "ICC Public Key Exponent", format: "b" },
  ICC_PUBLIC_KEY_REMAINDER: { tag: 0x9f48, name: "ICC Public Key Remainder", format: "b" },
  DDOL: { tag: 0x9f49, name: "DDOL", format: "b" },
  SDA_TAG_LIST: { tag: 0x9f4a, name: "SDA Tag List", format: "b" },
  SIGNED_DYNAMIC_APPLICATION_DATA: { tag: 0x9f4b, name: "Signed Dynamic Application Data", format: "b" },
  ICC_DYNAMIC_NUMBER: { tag: 0x9f4c, name: "ICC Dynamic Number", format: "b" },
  LOG_ENTRY: { tag: 0x9f4d, name: "Log Entry", format: "b" },
  LOG_FORMAT: { tag: 0x9f4f, name: "Log Format", format: "b" },
  IAF: { tag: 0x9f55, name: "Issuer Authentication Flags (IAF, CAP)", format: "b" },
  IPB: { tag: 0x9f56, name: "Issuer Proprietary Bitmap (IPB, CAP)", format: "b" },
  /** Track 2 Data of contactless (Mastercard) applications: PAN and expiry, like 57. */
  TRACK2_DATA: { tag: 0x9f6b, name: "Track 2 Data", format: "b" },
  FCI_PROPRIETARY_TEMPLATE: { tag: 0xa5, name: "FCI Proprietary Template", format: "b" },
  FCI_ISSUER_DISCRETIONARY_DATA: { tag: 0xbf0c, name: "FCI Issuer Discretionary Data", format: "b" },
  /** In the FCI of Belgian cards: "BKS" and the country code, "BKS056…" (doegox/EMV-CAP: "Banksys ID??"). */
  BANKSYS_ID: { tag: 0xdf07, name: "Proprietary (Banksys id of Belgian cards, BKS056…)", format: "ans" },
} as const satisfies Readonly<Record<string, Element>>;

/** Tags by name: `TAG.PAN` is `0x5A`, `TAG.CDOL1` is `0x8C` (one number per tag: `9F27` → `0x9F27`). */
export const TAG: { readonly [K in keyof typeof ELEMENTS]: (typeof ELEMENTS)[K]["tag"] } = Object.freeze(
  Object.fromEntries(Object.entries(ELEMENTS).map(([key, e]) => [key, e.tag])),
) as never;

const DICTIONARY: ReadonlyMap<number, TagInfo> = new Map(
  Object.values(ELEMENTS).map((e: Element) => [e.tag, { name: e.name, format: e.format }]),
);

/** The name and format of a tag capkit knows; undefined for any other. */
export function tagInfo(tag: number): TagInfo | undefined {
  return DICTIONARY.get(tag);
}

/** The name of a tag, for people: `tagName(0x9F56)` → "Issuer Proprietary Bitmap (IPB, CAP)". */
export function tagName(tag: number): string {
  return DICTIONARY.get(tag)?.name ?? `Unknown tag ${tagToHex(tag)}`;
}

/** Value as a person reads it: text for an/ans, digits for n/cn (trailing F padding dropped), else hex. */
export function formatTagValue(tag: number, value: Uint8Array): string {
  const format = DICTIONARY.get(tag)?.format ?? "b";
  if (format === "an" || format === "ans") return bytesToPrintable(value);
  if (format === "n" || format === "cn") return toHex(value).replace(/F+$/, "");
  return toHex(value);
}
