import { bytesToPrintable, toHex } from "@capkit/core";
import { tagToHex } from "./tlv.js";

/**
 * EMV data element dictionary (EMV 4.3 Book 3 Annex A) for display and for DOL filling rules, which depend
 * on the format: n = BCD numeric, cn = compressed numeric, an/ans = text, b = binary.
 * Inside CAP/DPA applications 9F55 and 9F56 are the Issuer Authentication Flags and the Issuer Proprietary
 * Bitmap (docs/architecture.md §3.10); payment applications use the same tags for other things.
 */
export type TagFormat = "b" | "n" | "cn" | "an" | "ans";

export interface TagInfo {
  readonly name: string;
  readonly format: TagFormat;
}

/** Tags capkit reads by name (EMV 4.3 Book 3 Annex A; CAP: docs/architecture.md §3.10). */
export const TAG_TRACK1 = 0x56;
export const TAG_TRACK2 = 0x57;
export const TAG_PAN = 0x5a;
export const TAG_CARDHOLDER_NAME = 0x5f20;
export const TAG_EXPIRY = 0x5f24;
export const TAG_PSN = 0x5f34;
export const TAG_TRACK1_DISCRETIONARY = 0x9f1f;
export const TAG_PIN_TRY_COUNTER = 0x9f17;
export const TAG_ATC = 0x9f36;
export const TAG_IAF = 0x9f55;
export const TAG_IPB = 0x9f56;

const T: ReadonlyMap<number, TagInfo> = new Map([
  [0x4f, { name: "Application Identifier (AID)", format: "b" }],
  [0x50, { name: "Application Label", format: "ans" }],
  [0x57, { name: "Track 2 Equivalent Data", format: "b" }],
  [0x5a, { name: "Application PAN", format: "cn" }],
  [0x5f20, { name: "Cardholder Name", format: "ans" }],
  [0x5f24, { name: "Application Expiration Date", format: "n" }],
  [0x5f25, { name: "Application Effective Date", format: "n" }],
  [0x5f28, { name: "Issuer Country Code", format: "n" }],
  [0x5f2a, { name: "Transaction Currency Code", format: "n" }],
  [0x5f2c, { name: "Cardholder Nationality", format: "n" }],
  [0x5f2d, { name: "Language Preference", format: "an" }],
  [0x5f30, { name: "Service Code", format: "n" }],
  [0x5f34, { name: "PAN Sequence Number (PSN)", format: "n" }],
  [0x61, { name: "Application Template", format: "b" }],
  [0x6f, { name: "FCI Template", format: "b" }],
  [0x70, { name: "Record Template", format: "b" }],
  [0x77, { name: "Response Message Template Format 2", format: "b" }],
  [0x80, { name: "Response Message Template Format 1", format: "b" }],
  [0x82, { name: "Application Interchange Profile (AIP)", format: "b" }],
  [0x84, { name: "Dedicated File (DF) Name", format: "b" }],
  [0x87, { name: "Application Priority Indicator", format: "b" }],
  [0x88, { name: "Short File Identifier (SFI)", format: "b" }],
  [0x8a, { name: "Authorisation Response Code", format: "an" }],
  [0x8c, { name: "CDOL1", format: "b" }],
  [0x8d, { name: "CDOL2", format: "b" }],
  [0x8e, { name: "CVM List", format: "b" }],
  [0x8f, { name: "CA Public Key Index", format: "b" }],
  [0x90, { name: "Issuer Public Key Certificate", format: "b" }],
  [0x91, { name: "Issuer Authentication Data", format: "b" }],
  [0x92, { name: "Issuer Public Key Remainder", format: "b" }],
  [0x94, { name: "Application File Locator (AFL)", format: "b" }],
  [0x95, { name: "Terminal Verification Results (TVR)", format: "b" }],
  [0x9a, { name: "Transaction Date", format: "n" }],
  [0x9c, { name: "Transaction Type", format: "n" }],
  [0x9f02, { name: "Amount, Authorised", format: "n" }],
  [0x9f03, { name: "Amount, Other", format: "n" }],
  [0x9f07, { name: "Application Usage Control", format: "b" }],
  [0x9f08, { name: "Application Version Number", format: "b" }],
  [0x9f0d, { name: "IAC - Default", format: "b" }],
  [0x9f0e, { name: "IAC - Denial", format: "b" }],
  [0x9f0f, { name: "IAC - Online", format: "b" }],
  [0x9f10, { name: "Issuer Application Data (IAD)", format: "b" }],
  [0x9f11, { name: "Issuer Code Table Index", format: "n" }],
  [0x9f12, { name: "Application Preferred Name", format: "ans" }],
  [0x9f13, { name: "Last Online ATC Register", format: "b" }],
  [0x9f14, { name: "Lower Consecutive Offline Limit", format: "b" }],
  [0x9f15, { name: "Merchant Category Code", format: "n" }],
  [0x9f17, { name: "PIN Try Counter", format: "b" }],
  [0x9f1a, { name: "Terminal Country Code", format: "n" }],
  [0x9f1f, { name: "Track 1 Discretionary Data", format: "ans" }],
  [0x9f21, { name: "Transaction Time", format: "n" }],
  [0x9f23, { name: "Upper Consecutive Offline Limit", format: "b" }],
  [0x9f26, { name: "Application Cryptogram (AC)", format: "b" }],
  [0x9f27, { name: "Cryptogram Information Data (CID)", format: "b" }],
  [0x9f32, { name: "Issuer Public Key Exponent", format: "b" }],
  [0x9f33, { name: "Terminal Capabilities", format: "b" }],
  [0x9f34, { name: "CVM Results", format: "b" }],
  [0x9f35, { name: "Terminal Type", format: "n" }],
  [0x9f36, { name: "Application Transaction Counter (ATC)", format: "b" }],
  [0x9f37, { name: "Unpredictable Number", format: "b" }],
  [0x9f38, { name: "PDOL", format: "b" }],
  [0x9f40, { name: "Additional Terminal Capabilities", format: "b" }],
  [0x9f42, { name: "Application Currency Code", format: "n" }],
  [0x9f44, { name: "Application Currency Exponent", format: "n" }],
  [0x9f45, { name: "Data Authentication Code", format: "b" }],
  [0x9f46, { name: "ICC Public Key Certificate", format: "b" }],
  [0x9f47, { name: "ICC Public Key Exponent", format: "b" }],
  [0x9f48, { name: "ICC Public Key Remainder", format: "b" }],
  [0x9f49, { name: "DDOL", format: "b" }],
  [0x9f4a, { name: "SDA Tag List", format: "b" }],
  [0x9f4b, { name: "Signed Dynamic Application Data", format: "b" }],
  [0x9f4c, { name: "ICC Dynamic Number", format: "b" }],
  [0x9f4d, { name: "Log Entry", format: "b" }],
  [0x9f4f, { name: "Log Format", format: "b" }],
  [0x9f55, { name: "Issuer Authentication Flags (IAF, CAP)", format: "b" }],
  [0x9f56, { name: "Issuer Proprietary Bitmap (IPB, CAP)", format: "b" }],
  [0xa5, { name: "FCI Proprietary Template", format: "b" }],
  [0xbf0c, { name: "FCI Issuer Discretionary Data", format: "b" }],
  [0xdf07, { name: "Proprietary (Belgian CAP reader id)", format: "ans" }],
]);

export function tagInfo(tag: number): TagInfo | undefined {
  return T.get(tag);
}

export function tagName(tag: number): string {
  return T.get(tag)?.name ?? `Unknown tag ${tagToHex(tag)}`;
}

/** Value as a person reads it: text for an/ans, digits for n/cn (trailing F padding dropped), else hex. */
export function formatTagValue(tag: number, value: Uint8Array): string {
  const format = T.get(tag)?.format ?? "b";
  if (format === "an" || format === "ans") return bytesToPrintable(value);
  if (format === "n" || format === "cn") return toHex(value).replace(/F+$/, "");
  return toHex(value);
}
