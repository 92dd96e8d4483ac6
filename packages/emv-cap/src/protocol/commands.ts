import type { CommandApdu } from "../apdu.js";

/**
 * The commands a CAP reader sends and a CAP card answers, one builder per command, each with its section of
 * EMV 4.3 (Book 1 for the application-independent SELECT, READ RECORD and the T=0 GET RESPONSE; Book 3 §6.5
 * for the payment commands). The reader (cap/engine.ts), the simulated card (token-sim), the Sésame reader and
 * `capkit apdu` all build and recognise commands here, so both ends of the protocol speak one vocabulary.
 */

/** Class bytes (EMV 4.3 Book 3 §6.3.2): inter-industry `00`, and `80` for the EMV-proprietary commands. */
export const CLA = { ISO: 0x00, EMV: 0x80 } as const;

/** Instruction bytes (EMV 4.3 Book 3 §6.3.2; ISO/IEC 7816-4 for GET RESPONSE). */
export const INS = {
  VERIFY: 0x20,
  /** PIN CHANGE/UNBLOCK (Book 3 §6.5.10): its data is a PIN block too, masked like VERIFY's. */
  PIN_CHANGE_UNBLOCK: 0x24,
  SELECT: 0xa4,
  GET_PROCESSING_OPTIONS: 0xa8,
  GENERATE_AC: 0xae,
  READ_RECORD: 0xb2,
  GET_RESPONSE: 0xc0,
  GET_DATA: 0xca,
} as const;

/** The class each instruction is sent with: the EMV-proprietary ones carry `80` (Book 3 §6.3.2). */
export const INS_CLASS: Readonly<Record<number, number>> = {
  [INS.VERIFY]: CLA.ISO,
  [INS.SELECT]: CLA.ISO,
  [INS.GET_PROCESSING_OPTIONS]: CLA.EMV,
  [INS.GENERATE_AC]: CLA.EMV,
  [INS.READ_RECORD]: CLA.ISO,
  [INS.GET_RESPONSE]: CLA.ISO,
  [INS.GET_DATA]: CLA.EMV,
};

/** Le = 256, written `00`: "give me whatever you have" (every case-2 and case-4 command here). */
const ANY_LENGTH = 256;

/** SELECT P1: select by DF name (the AID or the PSE name); P2: first or only occurrence (Book 1 §11.3.2). */
export const SELECT_BY_NAME = 0x04;
export const FIRST_OCCURRENCE = 0x00;

/** SELECT by name (EMV 4.3 Book 1 §11.3): an application by its AID, or the PSE `1PAY.SYS.DDF01`. */
export function selectByName(name: Uint8Array): CommandApdu {
  return {
    cla: CLA.ISO,
    ins: INS.SELECT,
    p1: SELECT_BY_NAME,
    p2: FIRST_OCCURRENCE,
    data: name,
    le: ANY_LENGTH,
  };
}

/** The command template tag of GET PROCESSING OPTIONS' data (Book 3 §6.5.8.2). */
export const COMMAND_TEMPLATE = 0x83;

/**
 * GET PROCESSING OPTIONS (EMV 4.3 Book 3 §6.5.8): starts the transaction — the card increments its ATC — with
 * the PDOL data in the command template `83`.
 */
export function getProcessingOptions(pdolData: Uint8Array): CommandApdu {
  return {
    cla: CLA.EMV,
    ins: INS.GET_PROCESSING_OPTIONS,
    p1: 0,
    p2: 0,
    data: Uint8Array.of(COMMAND_TEMPLATE, pdolData.length, ...pdolData),
    le: ANY_LENGTH,
  };
}

/** READ RECORD P2's low 3 bits: P1 is a record number (Book 1 §11.2.2); the SFI sits in the 5 bits above. */
export const P2_RECORD_NUMBER = 0x04;

/** READ RECORD (EMV 4.3 Book 1 §11.2): record `record` of the file with short identifier `sfi`. */
export function readRecord(sfi: number, record: number): CommandApdu {
  return {
    cla: CLA.ISO,
    ins: INS.READ_RECORD,
    p1: record,
    p2: (sfi << 3) | P2_RECORD_NUMBER,
    le: ANY_LENGTH,
  };
}

/** The SFI and record a READ RECORD asks for; undefined when P2 does not say "P1 is a record number". */
export function readRecordTarget(c: CommandApdu): { sfi: number; record: number } | undefined {
  if ((c.p2 & 0x07) !== P2_RECORD_NUMBER) return undefined;
  return { sfi: c.p2 >> 3, record: c.p1 };
}

/** GET DATA (EMV 4.3 Book 3 §6.5.7): a primitive data object by its 2-byte tag, e.g. the PIN Try Counter. */
export function getData(tag: number): CommandApdu {
  return { cla: CLA.EMV, ins: INS.GET_DATA, p1: tag >> 8, p2: tag & 0xff, le: ANY_LENGTH };
}

/** The tag a GET DATA asks for (P1 P2). */
export function getDataTag(c: CommandApdu): number {
  return (c.p1 << 8) | c.p2;
}

/** VERIFY P2: the PIN is the plaintext offline PIN (Book 3 §6.5.12.2). */
export const PLAINTEXT_PIN = 0x80;

/**
 * VERIFY (EMV 4.3 Book 3 §6.5.12) of a plaintext offline PIN block (format 2, `pin.ts`). No Le: cards reject a
 * VERIFY with one (python-emv 4943ba9).
 */
export function verifyPlaintextPin(pinBlock: Uint8Array): CommandApdu {
  return { cla: CLA.ISO, ins: INS.VERIFY, p1: 0x00, p2: PLAINTEXT_PIN, data: pinBlock };
}

/**
 * GENERATE AC P1, the reference control parameter (EMV 4.3 Book 3 §6.5.5.2, Table 12): the cryptogram type
 * asked for in b8–b7, and b5 for a CDA signature.
 */
export const GAC_REFERENCE = { AAC: 0x00, TC: 0x40, ARQC: 0x80, TYPE_MASK: 0xc0, CDA: 0x10 } as const;

/** GENERATE AC (EMV 4.3 Book 3 §6.5.5): a cryptogram of the type `reference` asks for, over the CDOL data. */
export function generateAc(reference: number, cdolData: Uint8Array): CommandApdu {
  return { cla: CLA.EMV, ins: INS.GENERATE_AC, p1: reference, p2: 0x00, data: cdolData, le: ANY_LENGTH };
}

/**
 * GET RESPONSE (ISO/IEC 7816-4 §5.3.4; the T=0 transport of EMV 4.3 Book 1 §9.3.1): fetches the `le` bytes
 * a `61xx` answer announced.
 */
export function getResponse(le: number): CommandApdu {
  return { cla: CLA.ISO, ins: INS.GET_RESPONSE, p1: 0, p2: 0, le };
}

/** Whether a command carries a PIN block in its data (VERIFY, PIN CHANGE/UNBLOCK): what traces must mask. */
export function carriesPin(ins: number | undefined): boolean {
  return ins === INS.VERIFY || ins === INS.PIN_CHANGE_UNBLOCK;
}
