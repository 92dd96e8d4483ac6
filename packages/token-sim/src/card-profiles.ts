/**
 * The cards the simulator can be: what each one puts in its FCI and records, and how it answers GENERATE AC.
 * Modelled on the public traces and vectors (docs/architecture.md §3.4, §3.6); the keys are the simulator's own.
 */
export interface SimCardProfile {
  readonly name: string;
  readonly description: string;
  /** The reader profile a bank would pair with this card. */
  readonly readerProfile: string;
  readonly aid: string;
  readonly label: string;
  /** PDOL in the FCI, when the card wants terminal data in GPO. */
  readonly pdol?: string;
  readonly aip: string;
  /** SFI 1, record 1 holds everything CAP needs. */
  readonly afl: string;
  readonly cdol1: string;
  readonly cdol2: string;
  /** Issuer Authentication Flags (9F55); empty for a payment application that has none. */
  readonly iaf: string;
  /** Issuer Proprietary Bitmap (9F56); empty when the card has none (its reader's formula then applies). */
  readonly ipb: string;
  /**
   * A Belgian card: its FCI carries cardholder nationality 0056 and DF07 "BKS056…", which is how a Vasco 810
   * tells one (emv-cap's `cardFactsOf`).
   */
  readonly belgian?: boolean;
  readonly cryptogramVersion: string;
  /** IAD returned with the ARQC (offline PIN verified) and with the AAC of GENERATE AC #2. */
  readonly iadArqc: string;
  readonly iadAac: string;
  readonly responseFormat: 1 | 2;
  /** First digits of generated PANs. */
  readonly panPrefix: string;
}

const CDOL1_29 = "9F02069F03069F1A0295055F2A029A039C019F3704";
/** Rabobank / ABN AMRO / Portuguese eID CAP cards: terminal type, DAC, ICC dynamic number, CVM results too. */
const CDOL1_NL = `${CDOL1_29}9F35019F45029F4C089F3403`;
/** Belgian CAP cards (the public Belgian trace, MISC-056 §3.8): ICC dynamic number and CVM results too. */
const CDOL1_BE = `${CDOL1_29}9F4C029F3403`;
/** The Belgian Maestro payment application of the Vasco 810 recording: terminal type and CVM results too. */
const CDOL1_BE_MAESTRO = `${CDOL1_29}9F35019F3403`;

export const SIM_CARD_PROFILES: Readonly<Record<string, SimCardProfile>> = {
  sesame: {
    name: "sesame",
    description:
      "French Visa DPA card for the Sésame reader (CVN 10, format-2 responses, IPB of the French trace)",
    readerProfile: "sesame",
    aid: "A0000000038002",
    label: "VISA Auth",
    aip: "1000",
    afl: "08010100",
    cdol1: CDOL1_29,
    cdol2: `8A02${CDOL1_29}`,
    iaf: "00",
    ipb: "8001FFFFFF000000000000000000000000",
    cryptogramVersion: "visa-10",
    iadArqc: "06010A03A48000",
    iadAac: "06010A03258000",
    responseFormat: 2,
    panPrefix: "497",
  },
  "mastercard-cap": {
    name: "mastercard-cap",
    description:
      "MasterCard CAP card (M/Chip CVN 16 with UN-based session keys, PDOL 9F35, format-1 responses)",
    readerProfile: "mastercard-cap",
    aid: "A0000000048002",
    label: "SecureCode Aut",
    pdol: "9F3501",
    aip: "1000",
    afl: "08010100",
    cdol1: `${CDOL1_29}9F35019F3403`,
    cdol2: `8A02${CDOL1_29}9F35019F3403910A`,
    iaf: "80",
    ipb: "00007FFFFFE0000000000000",
    cryptogramVersion: "mastercard-16",
    iadArqc: "0110A50003040000000000000000000000FF",
    iadAac: "0110250003040000000000000000000000FF",
    responseFormat: 1,
    panPrefix: "541333",
  },
  uk: {
    name: "uk",
    description:
      "UK Barclays-style DPA card (IAF A0: Sign includes the amount; IPB with the CID bit; CVN 10)",
    readerProfile: "uk",
    aid: "A0000000038002",
    label: "BARCLAYS",
    aip: "1000",
    afl: "08010100",
    cdol1: CDOL1_29,
    cdol2: `8A02${CDOL1_29}`,
    iaf: "A0",
    ipb: "8000FF000000000001FFFF00000000000000",
    cryptogramVersion: "visa-10",
    iadArqc: "06010A03A49000",
    iadAac: "06010A03259000",
    responseFormat: 1,
    panPrefix: "475129",
  },
  rabobank: {
    name: "rabobank",
    description:
      "Dutch Rabobank-style MasterCard CAP card: the 43-byte CDOL1 of the Rabobank/ABN AMRO traces (…9F35 9F45 9F4C 9F34), M/Chip CVN 16, IAF C0 (PSN in the code), the Rabobank IPB",
    readerProfile: "rabobank",
    aid: "A0000000048002",
    label: "SecureCode Aut",
    aip: "1000",
    afl: "08010100",
    cdol1: CDOL1_NL,
    cdol2: `8A02${CDOL1_NL}910A`,
    iaf: "C0",
    ipb: "0700007FFFFF000000000000",
    cryptogramVersion: "mastercard-16",
    iadArqc: "0110A50003040000000000000000000000FF",
    iadAac: "0110250003040000000000000000000000FF",
    responseFormat: 1,
    panPrefix: "541333",
  },
  belgian: {
    name: "belgian",
    description:
      "Belgian-style CAP card (Vasco DIGIPASS 810 trace): PDOL 9F35, CDOL1 …9F4C029F3403, format-2 responses, the Belgian IPB; the trace's CVN 0x56 is not public, so it MACs as Visa CVN 18 (same IAD layout)",
    readerProfile: "belgian",
    aid: "A0000000048002",
    label: "SecureCode Aut",
    pdol: "9F3501",
    aip: "1000",
    afl: "08010100",
    cdol1: CDOL1_BE,
    cdol2: `8A02${CDOL1_BE}910A`,
    iaf: "00",
    ipb: "0000FF000000000003FFFF",
    cryptogramVersion: "visa-18",
    iadArqc: "06011203A400000700030000010002",
    iadAac: "0601120325A0000701030000010002",
    responseFormat: 2,
    panPrefix: "670304",
  },
  "belgian-maestro": {
    name: "belgian-maestro",
    description:
      "Belgian debit card without a CAP application: only its Maestro payment application (A0000000043060), no IAF nor IPB, the CDOL1 of the Vasco 810 recording (belgian-vasco810-maestro-identify), M/Chip CVN 16; a Vasco 810 gives it the Belgian code formula",
    readerProfile: "belgian",
    aid: "A0000000043060",
    label: "MAESTRO",
    aip: "3800",
    afl: "08010100",
    cdol1: CDOL1_BE_MAESTRO,
    cdol2: `8A02${CDOL1_BE_MAESTRO}`,
    iaf: "",
    ipb: "",
    belgian: true,
    cryptogramVersion: "mastercard-16",
    iadArqc: "0110A50003040000000000000000000000FF",
    iadAac: "0110250003040000000000000000000000FF",
    responseFormat: 2,
    panPrefix: "670311",
  },
  "uk-visa-debit": {
    name: "uk-visa-debit",
    description:
      "UK Visa Debit card without a DPA application: only A0000000031010 (python-emv issue 6), no IAF nor IPB, Visa CVN 10; a PINsentry-style reader uses it, and the code takes the static Visa IPB",
    readerProfile: "uk",
    aid: "A0000000031010",
    label: "VISA DEBIT",
    aip: "3C00",
    afl: "08010100",
    cdol1: CDOL1_29,
    cdol2: `8A02${CDOL1_29}`,
    iaf: "",
    ipb: "",
    cryptogramVersion: "visa-10",
    iadArqc: "06010A03A00000",
    iadAac: "06010A03200000",
    responseFormat: 1,
    panPrefix: "475130",
  },
};
