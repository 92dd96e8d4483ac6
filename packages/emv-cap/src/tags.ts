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

const T: Record<number, TagInfo> = {
  79: { name: "Application Identifier (AID)", format: "b" },
  80: { name: "Application Label", format: "ans" },
  87: { name: "Track 2 Equivalent Data", format: "b" },
  90: { name: "Application PAN", format: "cn" },
  24352: { name: "Cardholder Name", format: "ans" },
  24356: { name: "Application Expiration Date", format: "n" },
  24357: { name: "Application Effective Date", format: "n" },
  24360: { name: "Issuer Country Code", format: "n" },
  24362: { name: "Transaction Currency Code", format: "n" },
  24364: { name: "Cardholder Nationality", format: "n" },
  24365: { name: "Language Preference", format: "an" },
  24368: { name: "Service Code", format: "n" },
  24372: { name: "PAN Sequence Number (PSN)", format: "n" },
  97: { name: "Application Template", format: "b" },
  111: { name: "FCI Template", format: "b" },
  112: { name: "Record Template", format: "b" },
  119: { name: "Response Message Template Format 2", format: "b" },
  128: { name: "Response Message Template Format 1", format: "b" },
  130: { name: "Application Interchange Profile (AIP)", format: "b" },
  132: { name: "Dedicated File (DF) Name", format: "b" },
  135: { name: "Application Priority Indicator", format: "b" },
  136: { name: "Short File Identifier (SFI)", format: "b" },
  138: { name: "Authorisation Response Code", format: "an" },
  140: { name: "CDOL1", format: "b" },
  141: { name: "CDOL2", format: "b" },
  142: { name: "CVM List", format: "b" },
  143: { name: "CA Public Key Index", format: "b" },
  144: { name: "Issuer Public Key Certificate", format: "b" },
  145: { name: "Issuer Authentication Data", format: "b" },
  146: { name: "Issuer Public Key Remainder", format: "b" },
  148: { name: "Application File Locator (AFL)", format: "b" },
  149: { name: "Terminal Verification Results (TVR)", format: "b" },
  154: { name: "Transaction Date", format: "n" },
  156: { name: "Transaction Type", format: "n" },
  40706: { name: "Amount, Authorised", format: "n" },
  40707: { name: "Amount, Other", format: "n" },
  40711: { name: "Application Usage Control", format: "b" },
  40712: { name: "Application Version Number", format: "b" },
  40717: { name: "IAC - Default", format: "b" },
  40718: { name: "IAC - Denial", format: "b" },
  40719: { name: "IAC - Online", format: "b" },
  40720: { name: "Issuer Application Data (IAD)", format: "b" },
  40721: { name: "Issuer Code Table Index", format: "n" },
  40722: { name: "Application Preferred Name", format: "ans" },
  40723: { name: "Last Online ATC Register", format: "b" },
  40724: { name: "Lower Consecutive Offline Limit", format: "b" },
  40725: { name: "Merchant Category Code", format: "n" },
  40727: { name: "PIN Try Counter", format: "b" },
  40730: { name: "Terminal Country Code", format: "n" },
  40735: { name: "Track 1 Discretionary Data", format: "ans" },
  40737: { name: "Transaction Time", format: "n" },
  40739: { name: "Upper Consecutive Offline Limit", format: "b" },
  40742: { name: "Application Cryptogram (AC)", format: "b" },
  40743: { name: "Cryptogram Information Data (CID)", format: "b" },
  40754: { name: "Issuer Public Key Exponent", format: "b" },
  40755: { name: "Terminal Capabilities", format: "b" },
  40756: { name: "CVM Results", format: "b" },
  40757: { name: "Terminal Type", format: "n" },
  40758: { name: "Application Transaction Counter (ATC)", format: "b" },
  40759: { name: "Unpredictable Number", format: "b" },
  40760: { name: "PDOL", format: "b" },
  40768: { name: "Additional Terminal Capabilities", format: "b" },
  40770: { name: "Application Currency Code", format: "n" },
  40772: { name: "Application Currency Exponent", format: "n" },
  40773: { name: "Data Authentication Code", format: "b" },
  40774: { name: "ICC Public Key Certificate", format: "b" },
  40775: { name: "ICC Public Key Exponent", format: "b" },
  40776: { name: "ICC Public Key Remainder", format: "b" },
  40777: { name: "DDOL", format: "b" },
  40778: { name: "SDA Tag List", format: "b" },
  40779: { name: "Signed Dynamic Application Data", format: "b" },
  40780: { name: "ICC Dynamic Number", format: "b" },
  40781: { name: "Log Entry", format: "b" },
  40783: { name: "Log Format", format: "b" },
  40789: { name: "Issuer Authentication Flags (IAF, CAP)", format: "b" },
  40790: { name: "Issuer Proprietary Bitmap (IPB, CAP)", format: "b" },
  165: { name: "FCI Proprietary Template", format: "b" },
  48908: { name: "FCI Issuer Discretionary Data", format: "b" },
  57095: { name: "Proprietary (Belgian CAP reader id)", format: "ans" },
};

export function tagInfo(tag: number): TagInfo | undefined {
  return T[tag];
}

export function tagName(tag: number): string {
  return T[tag]?.name ?? `Unknown tag ${tagToHex(tag)}`;
}

/** Value as a person reads it: text for an/ans, digits for n/cn (trailing F padding dropped), else hex. */
export function formatTagValue(tag: number, value: Uint8Array): string {
  const format = T[tag]?.format ?? "b";
  if (format === "an" || format === "ans") return bytesToPrintable(value);
  if (format === "n" || format === "cn") return toHex(value).replace(/F+$/, "");
  return toHex(value);
}
