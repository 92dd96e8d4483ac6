import { CapkitError, readUint } from "@capkit/core";
import { GAC_REFERENCE } from "../protocol/commands.js";
import { TAG } from "../protocol/tags.js";
import { decodeTlv, findTlv } from "../tlv.js";

/** The parts of a GENERATE AC response that CAP uses. */
export interface GacResponse {
  /** Cryptogram Information Data: top bits 80 ARQC, 40 TC, 00 AAC. */
  readonly cid: number;
  readonly atc: number;
  readonly atcBytes: Uint8Array;
  readonly ac: Uint8Array;
  readonly iad: Uint8Array;
  readonly format: 1 | 2;
}

/** The cryptogram types of the CID's b8–b7 (EMV 4.3 Book 3 §6.5.5.4), coded as GENERATE AC asks for them. */
export const CID_ARQC = GAC_REFERENCE.ARQC;
export const CID_TC = GAC_REFERENCE.TC;
export const CID_AAC = GAC_REFERENCE.AAC;

export function cryptogramType(cid: number): "ARQC" | "TC" | "AAC" | "RFU" {
  switch (cid & GAC_REFERENCE.TYPE_MASK) {
    case CID_ARQC:
      return "ARQC";
    case CID_TC:
      return "TC";
    case CID_AAC:
      return "AAC";
    default:
      return "RFU";
  }
}

/**
 * Both response formats (EMV 4.3 Book 3 §6.5.5.4): format 1 `80 L CID ATC(2) AC(8) IAD(rest)` — the IAD is
 * all remaining bytes, not a fixed 7 (python-emv's bug) — and format 2 `77 L` with 9F27, 9F36, 9F26 and
 * optional 9F10 in any order.
 */
export function parseGacResponse(data: Uint8Array): GacResponse {
  const top = decodeTlv(data);
  const first = top[0];
  if (!first) throw new CapkitError("CARD_ERROR", "empty GENERATE AC response");
  if (first.tag === TAG.RESPONSE_FORMAT_1) {
    const v = first.value;
    if (v.length < 11)
      throw new CapkitError("CARD_ERROR", "GENERATE AC format 1 response shorter than 11 bytes");
    return {
      cid: v[0]!,
      atc: readUint(v.subarray(1, 3)),
      atcBytes: v.slice(1, 3),
      ac: v.slice(3, 11),
      iad: v.slice(11),
      format: 1,
    };
  }
  if (first.tag === TAG.RESPONSE_FORMAT_2) {
    const get = (tag: number) => findTlv(top, tag)?.value;
    const cid = get(TAG.CID);
    const atc = get(TAG.ATC);
    const ac = get(TAG.AC);
    if (cid?.length !== 1 || atc?.length !== 2 || ac?.length !== 8) {
      throw new CapkitError("CARD_ERROR", "GENERATE AC format 2 response lacks a valid 9F27, 9F36 or 9F26");
    }
    return {
      cid: cid[0]!,
      atc: readUint(atc),
      atcBytes: atc.slice(),
      ac: ac.slice(),
      iad: (get(TAG.IAD) ?? new Uint8Array(0)).slice(),
      format: 2,
    };
  }
  throw new CapkitError("CARD_ERROR", "GENERATE AC response is neither format 1 (80) nor format 2 (77)");
}
