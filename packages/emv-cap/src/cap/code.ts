import { argumentError, CapkitError, concat, expectBytes, fromHex } from "@capkit/core";
import { macAlg1 } from "../crypto/mac.js";
import type { GacResponse } from "./gac.js";

/**
 * From a GENERATE AC response to the number a CAP reader shows
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.5): the bits of
 * [PSN] ‖ CID ‖ ATC ‖ AC ‖ IAD selected by the card's Issuer Proprietary Bitmap (9F56), most significant
 * first, read as one binary number. No decimalisation table and no modulo.
 */

/**
 * IAF b7: the PSN is prepended to the data the IPB selects from (Rabobank `C0`,
 * https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.6).
 */
export const IAF_PSN_IN_IPB = 0x40;
/** IAF b8: the amount enters the cryptogram in Sign (Mode 1); b6 with it: amount only, no currency. */
export const IAF_AMOUNT = 0x80;
/** IAF b6: with b8, only the amount enters the cryptogram in Sign (no currency). */
export const IAF_AMOUNT_ONLY = 0x20;

/**
 * The widest IPB capkit reads: a code is a JavaScript number, exact up to 2^53 − 1. It stays a number on
 * purpose: the widest public IPB, a Luxembourg Maestro card's (luxembourg-maestro-vasco810-declined in
 * https://github.com/capkit/capkit/blob/main/packages/emv-cap/test/fixtures/field-recordings.json), selects exactly 53
 * bits, a 16-digit number that no reader's display
 * shows (8 digits; profiles allow up to 10, https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.6); a
 * BigInt code would only serve IPBs
 * no recording shows and numbers no one can type. An IPB selecting more is refused, naming this reason.
 */
export const MAX_IPB_BITS = 53;

/** How many bits an IPB selects (its set bits): the code's width in bits. */
export function ipbBitCount(ipb: Uint8Array): number {
  let n = 0;
  for (const b of ipb) for (let v = b; v; v >>= 1) n += v & 1;
  return n;
}

/** The data the IPB applies to, in the fixed order CID ‖ ATC ‖ AC ‖ IAD (never the TLV arrival order). */
export function ipbSourceData(r: GacResponse, options: { iaf?: number; psn?: Uint8Array } = {}): Uint8Array {
  const main = concat(Uint8Array.of(r.cid), r.atcBytes, r.ac, r.iad);
  if (((options.iaf ?? 0) & IAF_PSN_IN_IPB) === 0) return main;
  return concat(options.psn && options.psn.length > 0 ? options.psn.subarray(0, 1) : Uint8Array.of(0), main);
}

/**
 * Selects the IPB bits of `data`, MSB first. Where the IPB is longer than the data the missing bits are 0
 * (the zero-fill choice of https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.5; `truncated` tells the
 * caller to warn).
 */
export function selectIpbBits(
  data: Uint8Array,
  ipb: Uint8Array,
): { value: number; bits: number; truncated: boolean } {
  const value = ipbSelector(ipb)(data);
  const truncated = ipb.some((mask, i) => mask !== 0 && i >= data.length);
  return { value, bits: ipbBitCount(ipb), truncated };
}

/**
 * `selectIpbBits`' value with the IPB walked once, for an issuer computing a code per candidate ATC: the
 * returned function only visits the IPB's non-zero bytes.
 */
export function ipbSelector(ipb: Uint8Array): (data: Uint8Array) => number {
  const bits = ipbBitCount(ipb);
  if (bits === 0) throw new CapkitError("CARD_NOT_SUPPORTED", "the card's IPB selects no bits");
  if (bits > MAX_IPB_BITS)
    throw new CapkitError(
      "CARD_NOT_SUPPORTED",
      `the card's IPB selects ${bits} bits: capkit reads at most ${MAX_IPB_BITS} (a ${MAX_IPB_BITS}-bit code already has 16 digits, more than any reader shows)`,
      { details: { bits, max: MAX_IPB_BITS } },
    );
  const at: number[] = [];
  const masks: number[] = [];
  ipb.forEach((mask, i) => {
    if (mask !== 0) {
      at.push(i);
      masks.push(mask);
    }
  });
  return (data) => {
    let value = 0;
    for (let k = 0; k < at.length; k++) {
      const mask = masks[k]!;
      const byte = data[at[k]!] ?? 0;
      for (let b = 7; b >= 0; b--) {
        if ((mask >> b) & 1) value = value * 2 + ((byte >> b) & 1);
      }
    }
    return value;
  };
}

/**
 * Mode 2 + TDS (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.7, MISC-056 §3.9): the numbers
 * joined by an `F` nibble, an odd count padded
 * with `F`, then ISO 9797-1 padding 2; `AC' = DES-CBC-MAC(key = AC, IV = 0)`; AC' replaces AC in the IPB data.
 */
export function tdsBlock(numbers: readonly string[]): Uint8Array {
  validateTds(numbers);
  let s = numbers.join("F");
  if (s.length % 2 === 1) s += "F";
  return fromHex(s);
}

/**
 * Mode 2 + TDS's AC' (MISC-056 §3.9): DES-CBC-MAC, IV 0, keyed with the card's AC, over the numbers joined by
 * an `F` nibble and padded (ISO 9797-1 method 2). AC' replaces AC in the data the IPB selects from.
 *
 * @param ac - the 8-byte application cryptogram of the Mode 2 answer
 * @param numbers - the 1 to 10 numbers the holder typed, each of up to 10 digits
 */
export function tdsMac(ac: Uint8Array, numbers: readonly string[]): Uint8Array {
  if (expectBytes(ac, "the AC").length !== 8) throw new CapkitError("INPUT_INVALID", "the AC is 8 bytes");
  if (!Array.isArray(numbers))
    throw argumentError("INPUT_INVALID", "the TDS numbers", "an array of digit strings", numbers);
  validateTds(numbers);
  return macAlg1(ac, tdsBlock(numbers), 2);
}

/**
 * Checks Mode 2 + TDS numbers as a reader accepts them: 1 to 10 numbers of 1 to 10 digits, as strings.
 *
 * @throws `INPUT_INVALID` saying which rule the numbers break
 */
export function validateTds(numbers: readonly string[]): void {
  if (!Array.isArray(numbers))
    throw argumentError("INPUT_INVALID", "the TDS numbers", "an array of digit strings", numbers);
  if (numbers.length < 1 || numbers.length > 10) {
    throw new CapkitError("INPUT_INVALID", "TDS takes 1 to 10 numbers", { hint: "as a Vasco 810 accepts" });
  }
  for (const n of numbers) {
    if (typeof n !== "string" || !/^[0-9]{1,10}$/.test(n))
      throw new CapkitError("INPUT_INVALID", "each TDS number is 1 to 10 digits (a string of digits)");
  }
}

/** What {@link capCodeValue} makes a code from. */
export interface CapCodeInput {
  /** The parsed GENERATE AC answer. */
  readonly response: GacResponse;
  /** The Issuer Proprietary Bitmap (9F56), or the reader's fallback. */
  readonly ipb: Uint8Array;
  /** The Issuer Authentication Flags (9F55, first byte); b7 puts the PSN in front of the selected data. */
  readonly iaf?: number;
  /** The PAN Sequence Number (5F34), for an IAF with b7. */
  readonly psn?: Uint8Array;
  /** Mode 2 + TDS: the numbers the holder typed ({@link tdsMac}). */
  readonly tds?: readonly string[];
}

/** The code value and how many bits it carries; TDS applied when given. */
export function capCodeValue(input: CapCodeInput): { value: number; bits: number; truncated: boolean } {
  const r = withTds(input.response, input.tds);
  const opts =
    input.iaf === undefined
      ? {}
      : input.psn === undefined
        ? { iaf: input.iaf }
        : { iaf: input.iaf, psn: input.psn };
  return selectIpbBits(ipbSourceData(r, opts), input.ipb);
}

function withTds(r: GacResponse, tds: readonly string[] | undefined): GacResponse {
  return tds ? { ...r, ac: tdsMac(r.ac, tds) } : r;
}

/**
 * How a reader makes the number it shows from the GENERATE AC answer
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.5): the bits the
 * IPB selects, or the Belgian readers' formula for payment applications.
 */
export type CodeRule = { readonly kind: "ipb"; readonly ipb: Uint8Array } | { readonly kind: "belgian" };

/** The code value under a rule (`capCodeValue` for an IPB, `belgianCodeValue` for the Belgian formula). */
export function codeValue(
  rule: CodeRule,
  input: Omit<CapCodeInput, "ipb">,
): { value: number; bits: number; truncated: boolean } {
  if (rule.kind === "ipb") return capCodeValue({ ...input, ipb: rule.ipb });
  return {
    value: belgianCodeValue(withTds(input.response, input.tds)),
    bits: BELGIAN_BITS,
    truncated: false,
  };
}

/** The Belgian formula's number before its decimal step: 10 + 8 + 8 bits. */
const BELGIAN_BITS = 26;
const BELGIAN_MODULUS = 100_000_000;
const BELGIAN_CHECK_WEIGHT = 10_000_000;

/**
 * The Belgian readers' code for payment applications (a Vasco DIGIPASS 810 on Maestro, Bancontact and Visa;
 * doegox/EMV-CAP `generate_otp_be`, written out in
 * https://github.com/capkit/capkit/blob/main/packages/emv-cap/test/fixtures/field-codes.py): the low 10 bits of AC
 * bytes
 * 6–7 (counting from 1), the ATC's low byte and AC byte 8, read as one 26-bit number v; the reader then adds
 * v's last digit in front, (v + (v mod 10) × 10^7) mod 10^8: 8 digits.
 */
export function belgianCodeValue(r: Pick<GacResponse, "atcBytes" | "ac">): number {
  const ac = r.ac;
  const v = (((ac[5]! << 8) | ac[6]!) & 0x3ff) * 2 ** 16 + r.atcBytes[1]! * 2 ** 8 + ac[7]!;
  return (v + (v % 10) * BELGIAN_CHECK_WEIGHT) % BELGIAN_MODULUS;
}

/**
 * The 26-bit number behind a Belgian code (the formula is one to one: the last digit is v's own, so the
 * leading one can be taken off again); undefined for a number no card can give.
 */
export function belgianCodeBits(code: number): number | undefined {
  if (!Number.isSafeInteger(code) || code < 0 || code >= BELGIAN_MODULUS) return undefined;
  const v = (code - (code % 10) * BELGIAN_CHECK_WEIGHT + BELGIAN_MODULUS) % BELGIAN_MODULUS;
  return v < 2 ** BELGIAN_BITS ? v : undefined;
}

/** The digits a reader shows: zero-padded to the display width (8 on Sésame), never truncated. */
export function formatCode(value: number, digits = 8): string {
  return String(value).padStart(digits, "0");
}

/** `12345678` → `1234 5678`; longer codes are grouped by four from the right. */
export function displayCode(code: string): string {
  const groups: string[] = [];
  for (let end = code.length; end > 0; end -= 4) groups.unshift(code.slice(Math.max(0, end - 4), end));
  return groups.join(" ");
}
