import { CapkitError, fromHex } from "@capkit/core";
import { tagFromHex } from "../tlv.js";
import { AID_BANCONTACT, AID_MAESTRO, AID_MASTERCARD_CAP, AID_VISA, AID_VISA_DPA } from "./aids.js";
import type { CapMode } from "./inputs.js";

/**
 * What differs between physical CAP readers (docs/architecture.md §3.4): the terminal data they put in the PDOL
 * and CDOLs — every byte enters the MAC, so one wrong constant means codes the bank rejects —, per application,
 * because one reader fills them differently for each (a Vasco DIGIPASS 810 sends date 010101 to Visa DPA and
 * 000000 to MasterCard CAP); which applications it tries and in what order; whether it sends the second
 * GENERATE AC; challenge and display widths. Profiles are plain JSON so users can add the reader their bank
 * ships.
 */
export interface ReaderProfile {
  readonly name: string;
  readonly description: string;
  /**
   * The CAP/DPA AIDs tried first, in order (hex); then the CAP applications the PSE lists; then, when none
   * answered, the AIDs of the profile's payment applications, in the order of `applications`.
   */
  readonly aids: readonly string[];
  /** The constants the reader sends, per application; the first entry that fits the card's application wins. */
  readonly applications: readonly ReaderApplication[];
  /** Send GENERATE AC #2 (AAC) so the card sees no dangling transaction (MISC-056 §3.6.6). */
  readonly secondGenerateAc: boolean;
  readonly challengeMaxDigits: number;
  readonly displayDigits: number;
  /** IPB used when the card carries no 9F56 (python-emv's and EMV-CAP's static Visa IPB by default). */
  readonly fallbackIpb: string;
  /** What the physical reader does that capkit does not reproduce, said as a warning in those modes. */
  readonly unsupported?: readonly { readonly modes: readonly CapMode[]; readonly text: string }[];
}

/**
 * How a reader turns the GENERATE AC answer into the number it shows (docs/architecture.md §3.5):
 * - `ipb`: the bits the card's IPB (9F56) selects; without one, the profile's fallback IPB, with a warning;
 * - `belgian`: the Belgian readers' formula for payment applications, whatever the card holds (§3.5);
 * - `ipb-else-belgian`: the card's IPB when it has one, else the Belgian formula.
 */
export type CodeFormula = "ipb" | "belgian" | "ipb-else-belgian";

/** Which cards a set of constants is for: `belgian` as a Vasco 810 tells (§3.4: FCI 5F2C = 0056, DF07 "BKS056…"). */
export type CardCondition = "belgian";

/** The constants a reader sends to one kind of application. */
export interface ReaderApplication {
  /** Unique in its profile: what `CapResult.readerApplication` and an issuer record name. */
  readonly id: string;
  /** For people: "Visa DPA", "Maestro (Belgian card)". */
  readonly name: string;
  /** The applications these constants are for (hex AIDs). */
  readonly aids: readonly string[];
  /** A payment application: used only when no CAP/DPA application answers, and said so. */
  readonly payment: boolean;
  /** Only for these cards; absent: any card with one of the AIDs. */
  readonly cards?: CardCondition;
  /**
   * Terminal data for PDOL/CDOL filling, tag hex → value hex. Tags the card asks for that are neither here
   * nor a mode input (9F37 challenge, 9F02 amount, 5F2A currency, 8A ARC) are zero-filled.
   */
  readonly terminalData: Readonly<Record<string, string>>;
  /** Authorisation Response Code for GENERATE AC #2 (tag 8A): "Z3" (5A33) unable to go online, "Z1" (5A31) declined. */
  readonly arc: string;
  readonly code: CodeFormula;
  /** Where the constants come from: the public recording that shows them, or what they are assumed from. */
  readonly source: string;
  /** No public recording shows this reader with this application: the constants are assumed, and a warning says so. */
  readonly assumed: boolean;
}

/** python-emv `VISA_STATIC_IPB`, also EMV-CAP's: ATC low byte + 16 AC bits + 9 IAD bits (docs/architecture.md §3.6). */
export const STATIC_VISA_IPB = "0000FFFFFF0000000000000000000020B938";

/** Z3 (unable to go online, declined offline): what CAP readers send in GENERATE AC #2. */
const ARC_Z3 = "5A33";
/** Z1 (declined offline): a Vasco 810's ARC for the payment applications of Belgian cards. */
const ARC_Z1 = "5A31";

/**
 * doegox/EMV-CAP's "CAP" constants (EMVCAPcore.py `dol_filling`), which the recordings of a Vasco DIGIPASS 810
 * and of an ABN AMRO e.dentifier2 show byte for byte: TVR "offline data authentication not performed",
 * terminal type 34, CVM results "plaintext PIN verified by the ICC", terminal capabilities 208000, date 000000.
 */
const CAP_TERMINAL = {
  "95": "8000000000",
  "9A": "000000",
  "9F35": "34",
  "9F34": "010002",
  "9F33": "208000",
} as const;
/** The same reader sends date 010101 to a Visa DPA application (EMV-CAP's "DPA" mode; the recordings below). */
const DPA_TERMINAL = { ...CAP_TERMINAL, "9A": "010101" } as const;

/** Where the recordings are listed, with their sources and licences. */
const RECORDINGS = "packages/emv-cap/test/fixtures/field-recordings.json";

const visaDpa = (source: string): ReaderApplication => ({
  id: "visa-dpa",
  name: "Visa DPA",
  aids: [AID_VISA_DPA],
  payment: false,
  terminalData: DPA_TERMINAL,
  arc: ARC_Z3,
  code: "ipb",
  source,
  assumed: false,
});

const mastercardCap = (source: string): ReaderApplication => ({
  id: "mastercard-cap",
  name: "MasterCard CAP",
  aids: [AID_MASTERCARD_CAP],
  payment: false,
  terminalData: CAP_TERMINAL,
  arc: ARC_Z3,
  code: "ipb",
  source,
  assumed: false,
});

/**
 * A Vasco DIGIPASS 810 on the payment applications of a Belgian card (its recordings with a Maestro, a
 * Bancontact and a Visa application; doegox/EMV-CAP's country "BE"): TVR 8000000800 ("merchant forced
 * transaction online" too), terminal type 37, CVM results 000000, date 000000, ARC Z1.
 */
const BELGIAN_PAYMENT_TERMINAL = {
  "95": "8000000800",
  "9A": "000000",
  "9F35": "37",
  "9F34": "000000",
  "9F33": "208000",
} as const;

const common = {
  secondGenerateAc: true,
  challengeMaxDigits: 8,
  displayDigits: 8,
  fallbackIpb: STATIC_VISA_IPB,
};

export const READER_PROFILES: Readonly<Record<string, ReaderProfile>> = Object.freeze({
  sesame: {
    ...common,
    name: "sesame",
    description:
      "Crédit Coopératif Sésame and French DPA readers: the Visa DPA constants (date 010101) that a Vasco DIGIPASS 810 sends to a French Visa DPA card; no recording of a Sésame reader itself is public",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    applications: [
      visaDpa(
        `the French Visa DPA recording (french-visa-dpa-vasco810-identify, ${RECORDINGS}): a Vasco DIGIPASS 810 reading the card a Sésame reads`,
      ),
    ],
  },
  "visa-dpa": {
    ...common,
    name: "visa-dpa",
    description: "Generic Visa DPA reader: doegox/EMV-CAP's DPA constants (date 010101)",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    applications: [
      visaDpa(
        `doegox/EMV-CAP's "DPA" mode, as the Visa DPA recordings show it (belgian-vasco810-visa-dpa-identify, french-visa-dpa-vasco810-identify, ${RECORDINGS})`,
      ),
    ],
  },
  "mastercard-cap": {
    ...common,
    name: "mastercard-cap",
    description: "Generic MasterCard CAP reader: doegox/EMV-CAP's CAP constants (date 000000)",
    aids: [AID_MASTERCARD_CAP, AID_VISA_DPA],
    applications: [
      mastercardCap(
        `doegox/EMV-CAP's "CAP" mode, as the MasterCard CAP recordings show it (natwest-respond-12345678, belgian-vasco810-cap-respond-1234, portuguese-eid-vasco810-identify, ${RECORDINGS})`,
      ),
    ],
  },
  rabobank: {
    ...common,
    name: "rabobank",
    description:
      "Dutch MasterCard CAP reader for the 43-byte CDOL1 of Rabobank-style cards: doegox/EMV-CAP's CAP constants, which the ABN AMRO e.dentifier2 recording shows too. Not ABN AMRO's Respond or Sign: the e.dentifier2 transforms the challenge by a method no public source gives, which capkit does not reproduce",
    aids: [AID_MASTERCARD_CAP, AID_VISA_DPA],
    applications: [
      mastercardCap(
        `the ABN AMRO e.dentifier2 recording (abnamro-edentifier2-respond-24661140, ${RECORDINGS}): every constant byte for byte; doegox/EMV-CAP's "CAP" mode`,
      ),
    ],
    unsupported: [
      {
        modes: ["respond", "sign"],
        text: "no public recording shows what a Rabobank reader sends for a challenge, and the one recorded Dutch reader, ABN AMRO's e.dentifier2, sends another number than the one typed (challenge 24661140, UN 661D7D59; an empty UN in the second GENERATE AC) by a method that is not public: capkit sends the challenge as typed, so a reader that transforms it shows another code",
      },
    ],
  },
  belgian: {
    ...common,
    name: "belgian",
    description:
      "Belgian Vasco DIGIPASS 810, as its public recordings show it (doegox/EMV-CAP, MISC-056 §3.8): Visa DPA with date 010101, MasterCard CAP with date 000000, and for a card with neither its Bancontact, Visa or Maestro payment application, with the reader's own constants and, on Belgian cards, its own code formula",
    // The order a Vasco 810 selects in (doegox/EMV-CAP's ApplicationsList, "from attempts by a Fortis Vasco810").
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    applications: [
      visaDpa(
        `the Vasco 810 recordings with Visa DPA cards (belgian-vasco810-visa-dpa-identify, french-visa-dpa-vasco810-identify, ${RECORDINGS})`,
      ),
      mastercardCap(
        `the Vasco 810 recordings with MasterCard CAP cards (belgian-vasco810-cap-respond-1234, belgian-vasco810-cap-identify-tds-1234, portuguese-eid-vasco810-identify, ${RECORDINGS})`,
      ),
      {
        id: "bancontact-belgian",
        name: "Bancontact (Belgian card)",
        aids: [AID_BANCONTACT],
        payment: true,
        cards: "belgian",
        terminalData: BELGIAN_PAYMENT_TERMINAL,
        arc: ARC_Z1,
        code: "belgian",
        source: `the Vasco 810 recording with a Bancontact application (belgian-vasco810-bancontact-identify, ${RECORDINGS}): the Belgian formula although the card has an IPB`,
        assumed: false,
      },
      {
        id: "payment-belgian",
        name: "Visa or Maestro (Belgian card)",
        aids: [AID_VISA, AID_MAESTRO],
        payment: true,
        cards: "belgian",
        terminalData: BELGIAN_PAYMENT_TERMINAL,
        arc: ARC_Z1,
        code: "ipb-else-belgian",
        source: `the Vasco 810 recordings with Belgian Maestro and Visa applications (belgian-vasco810-maestro-identify, belgian-vasco810-visa-payment-identify, ${RECORDINGS}); neither card has an IPB, so the Belgian formula (doegox/EMV-CAP uses an IPB when there is one)`,
        assumed: false,
      },
      {
        id: "visa-payment",
        name: "Visa (not a Belgian card)",
        aids: [AID_VISA],
        payment: true,
        terminalData: {
          "95": "8000000000",
          "9A": "010101",
          "9F35": "37",
          "9F34": "000000",
          "9F33": "208000",
        },
        arc: ARC_Z3,
        code: "ipb",
        source: `the Vasco 810 recording with a French Visa card without DPA (french-visa-payment-vasco810-identify, ${RECORDINGS}): date 010101, terminal type 37, no IPB so the static Visa IPB`,
        assumed: false,
      },
      {
        id: "maestro-payment",
        name: "Maestro (not a Belgian card)",
        aids: [AID_MAESTRO],
        payment: true,
        terminalData: {
          "95": "8000000000",
          "9A": "000000",
          "9F35": "34",
          "9F34": "000000",
          "9F33": "208000",
        },
        arc: ARC_Z3,
        code: "ipb",
        source: `the Vasco 810 recording with a Luxembourg Maestro card (luxembourg-maestro-vasco810-declined, ${RECORDINGS}): its GET PROCESSING OPTIONS and GENERATE AC; the card declined, so no code is recorded`,
        assumed: false,
      },
    ],
  },
  uk: {
    ...common,
    name: "uk",
    description:
      "UK Barclays PINsentry, as barclays-pinsentry.c emulates it: date 010101, TVR 8000000000, other terminal data zero; a UK Visa Debit card's payment application when the card has no DPA application",
    aids: [AID_VISA_DPA, AID_MASTERCARD_CAP],
    applications: [
      {
        ...visaDpa(
          `barclays-pinsentry.c's two GENERATE ACs (barclays-pinsentry-identify in ${RECORDINGS}) and python-emv's CDOL1 vectors`,
        ),
        terminalData: { "95": "8000000000", "9A": "010101" },
      },
      {
        id: "visa-debit",
        name: "Visa Debit (UK card without DPA)",
        aids: [AID_VISA],
        payment: true,
        terminalData: { "95": "8000000000", "9A": "010101" },
        arc: ARC_Z3,
        code: "ipb",
        source:
          "python-emv issue 6: a PINsentry gives a UK Visa Debit card's A0000000031010 application codes its bank accepts; no command or code of such a session is public, so the constants are the PINsentry's Visa DPA ones, assumed",
        assumed: true,
      },
    ],
  },
});

export const DEFAULT_PROFILE = "sesame";

/** A built-in profile by name (a table's own names only: `constructor` is no profile). */
export function readerProfile(name: string): ReaderProfile {
  if (!Object.hasOwn(READER_PROFILES, name)) {
    throw new CapkitError("PROFILE_INVALID", `unknown reader profile "${name}"`, {
      hint: `known profiles: ${Object.keys(READER_PROFILES).join(", ")}; or load your own JSON`,
    });
  }
  return READER_PROFILES[name]!;
}

/** The keys a profile JSON may have: any other is a typo, which would otherwise silently mean "default". */
const PROFILE_KEYS = [
  "name",
  "description",
  "aids",
  "applications",
  "secondGenerateAc",
  "challengeMaxDigits",
  "displayDigits",
  "fallbackIpb",
] as const;
const APPLICATION_KEYS = [
  "id",
  "name",
  "aids",
  "payment",
  "cards",
  "terminalData",
  "arc",
  "code",
  "source",
  "assumed",
] as const;
/** Keys of profiles written before constants were per application: refused with the way to write them now. */
const MOVED_KEYS = ["terminalData", "arc"];
const CODE_FORMULAS: readonly CodeFormula[] = ["ipb", "belgian", "ipb-else-belgian"];
const ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Validates a user profile read from JSON. Missing optional fields take the generic defaults; an unknown key,
 * and every hex value and tag, is checked and named, so a typo fails here, not as a rejected code later.
 */
export function parseReaderProfile(input: unknown): ReaderProfile {
  const o = object(input, "a profile");
  for (const k of Object.keys(o)) {
    if (MOVED_KEYS.includes(k))
      throw bad(`"${k}" belongs to an application now`, {
        hint: 'constants are per application: { "applications": [{ "id": "visa-dpa", "aids": ["A0000000038002"], "terminalData": {…}, "arc": "5A33" }] }',
        details: { key: k },
      });
  }
  onlyKeys(o, PROFILE_KEYS, "a profile");
  const name = str(o, "name");
  if (!ID.test(name)) throw bad('"name" must be lowercase letters, digits and dashes');
  const appsRaw = o["applications"];
  if (!Array.isArray(appsRaw) || appsRaw.length === 0)
    throw bad('"applications" must be a non-empty list of the constants per application');
  const applications = appsRaw.map((a, i) => parseApplication(a, i));
  const ids = new Set<string>();
  for (const a of applications) {
    if (ids.has(a.id)) throw bad(`two applications have the id "${a.id}"`);
    ids.add(a.id);
  }
  const capAids = applications.filter((a) => !a.payment).flatMap((a) => a.aids);
  const aids = aidList(o["aids"] ?? [...new Set(capAids)], '"aids"', true);
  const secondGenerateAc = o["secondGenerateAc"] ?? true;
  if (typeof secondGenerateAc !== "boolean") throw bad('"secondGenerateAc" must be true or false');
  return {
    name,
    description: str(o, "description", `custom profile ${name}`),
    aids,
    applications,
    secondGenerateAc,
    challengeMaxDigits: int(o, "challengeMaxDigits", 8, 1, 8),
    displayDigits: int(o, "displayDigits", 8, 6, 10),
    fallbackIpb: hex("fallbackIpb", str(o, "fallbackIpb", STATIC_VISA_IPB)),
  };
}

function parseApplication(input: unknown, i: number): ReaderApplication {
  const what = `applications[${i}]`;
  const o = object(input, what);
  onlyKeys(o, APPLICATION_KEYS, what);
  const id = str(o, "id");
  if (!ID.test(id)) throw bad(`${what}: "id" must be lowercase letters, digits and dashes`);
  const td = o["terminalData"] ?? {};
  if (typeof td !== "object" || td === null || Array.isArray(td))
    throw bad(`${what}: "terminalData" must be an object`);
  const terminalData: Record<string, string> = {};
  for (const [tag, value] of Object.entries(td as Record<string, unknown>)) {
    try {
      tagFromHex(tag);
    } catch {
      throw bad(`${what}: terminalData key "${tag}" is not a tag`);
    }
    if (typeof value !== "string") throw bad(`${what}: terminalData ${tag} must be a hex string`);
    terminalData[tag.toUpperCase()] = hex(`${what} terminalData ${tag}`, value);
  }
  const arc = hex(`${what} arc`, str(o, "arc", ARC_Z3));
  if (arc.length !== 4) throw bad(`${what}: "arc" is 2 bytes of hex`);
  const code = str(o, "code", "ipb") as CodeFormula;
  if (!CODE_FORMULAS.includes(code)) throw bad(`${what}: "code" must be one of ${CODE_FORMULAS.join(", ")}`);
  const cards = o["cards"];
  if (cards !== undefined && cards !== "belgian") throw bad(`${what}: "cards" can only be "belgian"`);
  const flag = (k: string): boolean => {
    const v = o[k] ?? false;
    if (typeof v !== "boolean") throw bad(`${what}: "${k}" must be true or false`);
    return v;
  };
  return {
    id,
    name: str(o, "name", id),
    aids: aidList(o["aids"], `${what} "aids"`),
    payment: flag("payment"),
    ...(cards === undefined ? {} : { cards }),
    terminalData,
    arc,
    code,
    source: str(o, "source", "a custom profile"),
    assumed: flag("assumed"),
  };
}

function object(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw bad(`${what} is a JSON object`);
  return input as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = known.find((x) => x.toLowerCase() === k.toLowerCase().replace(/[-_ ]/g, ""));
    throw bad(`unknown key "${k}" in ${what}${near ? ` (did you mean "${near}"?)` : ""}`, {
      hint: `${what} has: ${known.join(", ")}`,
      details: { key: k },
    });
  }
}

function str(o: Record<string, unknown>, k: string, fallback?: string): string {
  const v = o[k] ?? fallback;
  if (typeof v !== "string") throw bad(`"${k}" must be a string`);
  return v;
}

function int(o: Record<string, unknown>, k: string, fallback: number, min: number, max: number): number {
  const v = o[k] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`"${k}" must be an integer from ${min} to ${max}`);
  }
  return v;
}

function hex(what: string, v: string): string {
  let ok = v.length > 0;
  try {
    fromHex(v, what);
  } catch {
    ok = false;
  }
  if (!ok) throw bad(`${what} must be hex (whole bytes), not "${v}"`, { details: { key: what } });
  return v.toUpperCase();
}

function aidList(raw: unknown, what: string, mayBeEmpty = false): string[] {
  if (
    !Array.isArray(raw) ||
    (raw.length === 0 && !mayBeEmpty) ||
    raw.some((a) => typeof a !== "string" || a.length < 10 || a.length > 32)
  ) {
    throw bad(`${what} must be a ${mayBeEmpty ? "" : "non-empty "}list of 5–16 byte AIDs in hex`);
  }
  return (raw as string[]).map((a, i) => hex(`${what}[${i}]`, a));
}

function bad(message: string, extra: { hint?: string; details?: Record<string, unknown> } = {}): CapkitError {
  return new CapkitError("PROFILE_INVALID", `reader profile: ${message}`, extra);
}
