import { CapkitError, fromHex } from "@capkit/core";
import { cryptogramSpec } from "../crypto/cryptogram.js";
import { tagFromHex } from "../tlv.js";

/**
 * What differs between physical CAP readers (docs/architecture.md §3.4): the terminal data they put in the
 * PDOL and CDOLs (every byte enters the MAC, so one wrong constant means codes the bank rejects), whether
 * they send the second GENERATE AC, challenge and display widths. Profiles are plain JSON so users can add
 * the reader their bank ships.
 */
export interface ReaderProfile {
  readonly name: string;
  readonly description: string;
  /** AIDs tried first, in order (hex); then the PSE. */
  readonly aids: readonly string[];
  /**
   * Terminal data for PDOL/CDOL filling, tag hex → value hex. Tags the card asks for that are neither here
   * nor a mode input (9F37 challenge, 9F02 amount, 5F2A currency, 8A ARC) are zero-filled.
   */
  readonly terminalData: Readonly<Record<string, string>>;
  /** Authorisation Response Code for GENERATE AC #2 (tag 8A): "Z3" = unable to go online, declined. */
  readonly arc: string;
  /** Send GENERATE AC #2 (AAC) so the card sees no dangling transaction (MISC-056 §3.6.6). */
  readonly secondGenerateAc: boolean;
  readonly challengeMaxDigits: number;
  readonly displayDigits: number;
  /** IPB used when the card carries no 9F56 (python-emv's and EMV-CAP's static Visa IPB by default). */
  readonly fallbackIpb: string;
  /** The cryptogram version a verifier assumes for cards read with this profile (see CRYPTOGRAM_VERSIONS). */
  readonly cryptogramVersion: string;
}

export const AID_MASTERCARD_CAP = "A0000000048002";
export const AID_VISA_DPA = "A0000000038002";
/** python-emv `VISA_STATIC_IPB`, also EMV-CAP's: ATC low byte + 16 AC bits + 9 IAD bits (docs/architecture.md §3.6). */
export const STATIC_VISA_IPB = "0000FFFFFF0000000000000000000020B938";

/** EMV-CAP "CAP"/"DPA" terminal data (docs/architecture.md §3.4), shared by the profiles below but for the date. */
const CAP_TERMINAL = {
  "95": "8000000000",
  "9F35": "34",
  "9F34": "010002",
  "9F33": "208000",
} as const;

const common = {
  arc: "5A33",
  secondGenerateAc: true,
  challengeMaxDigits: 8,
  displayDigits: 8,
  fallbackIpb: STATIC_VISA_IPB,
};

export const READER_PROFILES: Readonly<Record<string, ReaderProfile>> = {
  sesame: {
    ...common,
    name: "sesame",
    description:
      "Crédit Coopératif Sésame and French DPA readers: Visa DPA first, date 010101 (the French Visa DPA trace, docs/architecture.md §3.4)",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    terminalData: { ...CAP_TERMINAL, "9A": "010101" },
    cryptogramVersion: "visa-10",
  },
  "visa-dpa": {
    ...common,
    name: "visa-dpa",
    description: "Generic Visa DPA reader: EMV-CAP's DPA constants, date 010101",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    terminalData: { ...CAP_TERMINAL, "9A": "010101" },
    cryptogramVersion: "visa-10",
  },
  "mastercard-cap": {
    ...common,
    name: "mastercard-cap",
    description: "Generic MasterCard CAP reader: EMV-CAP's CAP constants, date 000000",
    aids: [AID_MASTERCARD_CAP, AID_VISA_DPA],
    terminalData: { ...CAP_TERMINAL, "9A": "000000" },
    cryptogramVersion: "mastercard-16",
  },
  rabobank: {
    ...common,
    name: "rabobank",
    description:
      "Dutch Rabobank / ABN AMRO-style MasterCard CAP reader: EMV-CAP's CAP constants (date 000000, terminal type 34, CVM results 010002) for the 43-byte CDOL1 of the Dutch traces",
    aids: [AID_MASTERCARD_CAP, AID_VISA_DPA],
    terminalData: { ...CAP_TERMINAL, "9A": "000000" },
    cryptogramVersion: "mastercard-16",
  },
  belgian: {
    ...common,
    name: "belgian",
    description:
      "Belgian Vasco DIGIPASS 810-style reader, as the public Belgian trace (EMV-CAP, MISC-056 §3.8) shows: terminal type 34 in the PDOL, TVR 8000000000, date 000000, ICC dynamic number 0000, CVM results 010002",
    aids: [AID_MASTERCARD_CAP, AID_VISA_DPA],
    terminalData: { ...CAP_TERMINAL, "9A": "000000" },
    cryptogramVersion: "visa-18",
  },
  uk: {
    ...common,
    name: "uk",
    description:
      "UK PINsentry-style (Barclays, NatWest) as python-emv fills it: date 010101, TVR 8000000000, others zero",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    terminalData: { "95": "8000000000", "9A": "010101" },
    cryptogramVersion: "visa-10",
  },
};

export const DEFAULT_PROFILE = "sesame";

export function readerProfile(name: string): ReaderProfile {
  const p = READER_PROFILES[name];
  if (!p) {
    throw new CapkitError("PROFILE_INVALID", `unknown reader profile "${name}"`, {
      hint: `known profiles: ${Object.keys(READER_PROFILES).join(", ")}; or load your own JSON`,
    });
  }
  return p;
}

/** The keys a profile JSON may have: any other is a typo, which would otherwise silently mean "default". */
const PROFILE_KEYS = [
  "name",
  "description",
  "aids",
  "terminalData",
  "arc",
  "secondGenerateAc",
  "challengeMaxDigits",
  "displayDigits",
  "fallbackIpb",
  "cryptogramVersion",
] as const;

/**
 * Validates a user profile read from JSON. Missing optional fields take the generic defaults; an unknown key,
 * and every hex value and tag, is checked and named, so a typo fails here, not as a rejected code later.
 */
export function parseReaderProfile(input: unknown): ReaderProfile {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw bad("a profile is a JSON object");
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if ((PROFILE_KEYS as readonly string[]).includes(k)) continue;
    const near = PROFILE_KEYS.find((known) => known.toLowerCase() === k.toLowerCase().replace(/[-_ ]/g, ""));
    throw bad(`unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ""}`, {
      hint: `a profile has: ${PROFILE_KEYS.join(", ")}`,
      details: { key: k },
    });
  }
  const str = (k: string, fallback?: string): string => {
    const v = o[k] ?? fallback;
    if (typeof v !== "string") throw bad(`"${k}" must be a string`);
    return v;
  };
  const int = (k: string, fallback: number, min: number, max: number): number => {
    const v = o[k] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw bad(`"${k}" must be an integer from ${min} to ${max}`);
    }
    return v;
  };
  const hex = (what: string, v: string): string => {
    let ok = v.length > 0;
    try {
      fromHex(v, what);
    } catch {
      ok = false;
    }
    if (!ok) throw bad(`${what} must be hex (whole bytes), not "${v}"`, { details: { key: what } });
    return v.toUpperCase();
  };
  const name = str("name");
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw bad('"name" must be lowercase letters, digits and dashes');
  const aidsRaw = o["aids"] ?? [AID_VISA_DPA, AID_MASTERCARD_CAP];
  if (
    !Array.isArray(aidsRaw) ||
    aidsRaw.some((a) => typeof a !== "string" || a.length < 10 || a.length > 32)
  ) {
    throw bad('"aids" must be a list of 5–16 byte AIDs in hex');
  }
  const aids = (aidsRaw as string[]).map((a, i) => hex(`aids[${i}]`, a));
  const td = o["terminalData"] ?? {};
  if (typeof td !== "object" || td === null || Array.isArray(td))
    throw bad('"terminalData" must be an object');
  const terminalData: Record<string, string> = {};
  for (const [tag, value] of Object.entries(td as Record<string, unknown>)) {
    try {
      tagFromHex(tag);
    } catch {
      throw bad(`terminalData key "${tag}" is not a tag`);
    }
    if (typeof value !== "string") throw bad(`terminalData ${tag} must be a hex string`);
    terminalData[tag.toUpperCase()] = hex(`terminalData ${tag}`, value);
  }
  const cryptogramVersion = str("cryptogramVersion", "visa-10");
  try {
    cryptogramSpec(cryptogramVersion);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const secondGenerateAc = o["secondGenerateAc"] ?? true;
  if (typeof secondGenerateAc !== "boolean") throw bad('"secondGenerateAc" must be true or false');
  const arc = hex("arc", str("arc", common.arc));
  if (arc.length !== 4) throw bad('"arc" is 2 bytes of hex');
  return {
    name,
    description: str("description", `custom profile ${name}`),
    aids,
    terminalData,
    arc,
    secondGenerateAc,
    challengeMaxDigits: int("challengeMaxDigits", 8, 1, 8),
    displayDigits: int("displayDigits", 8, 6, 10),
    fallbackIpb: hex("fallbackIpb", str("fallbackIpb", STATIC_VISA_IPB)),
    cryptogramVersion,
  };
}

function bad(message: string, extra: { hint?: string; details?: Record<string, unknown> } = {}): CapkitError {
  return new CapkitError("PROFILE_INVALID", `reader profile: ${message}`, extra);
}
