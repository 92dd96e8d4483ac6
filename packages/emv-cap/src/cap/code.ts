import { CapkitError, concat, fromHex } from "@capkit/core";
import { macAlg1 } from "../crypto/mac.js";
import type { GacResponse } from "./gac.js";

/**
 * From a GENERATE AC response to the number a CAP reader shows (docs/architecture.md §3.5): the bits of
 * [PSN] ‖ CID ‖ ATC ‖ AC ‖ IAD selected by the card's Issuer Proprietary Bitmap (9F56), most significant
 * first, read as one binary number. No decimalisation table and no modulo.
 */

/** IAF b7: the PSN is prepended to the data the IPB selects from (Rabobank `C0`, docs/architecture.md §3.6). */
export const IAF_PSN_IN_IPB = 0x40;
/** IAF b8: the amount enters the cryptogram in Sign (Mode 1); b6 with it: amount only, no currency. */
export const IAF_AMOUNT = 0x80;
export const IAF_AMOUNT_ONLY = 0x20;

/** More bits than this cannot be a JavaScript integer; real IPBs select 24–33. */
const MAX_IPB_BITS = 53;

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
 * (the zero-fill choice of docs/architecture.md §3.5; `truncated` tells the caller to warn).
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
    throw new CapkitError("CARD_NOT_SUPPORTED", `the card's IPB selects ${bits} bits (max ${MAX_IPB_BITS})`);
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
 * Mode 2 + TDS (docs/architecture.md §3.7, MISC-056 §3.9): the numbers joined by an `F` nibble, an odd count padded
 * with `F`, then ISO 9797-1 padding 2; `AC' = DES-CBC-MAC(key = AC, IV = 0)`; AC' replaces AC in the IPB data.
 */
export function tdsBlock(numbers: readonly string[]): Uint8Array {
  validateTds(numbers);
  let s = numbers.join("F");
  if (s.length % 2 === 1) s += "F";
  return fromHex(s);
}

export function tdsMac(ac: Uint8Array, numbers: readonly string[]): Uint8Array {
  if (ac.length !== 8) throw new CapkitError("INPUT_INVALID", "the AC is 8 bytes");
  return macAlg1(ac, tdsBlock(numbers), 2);
}

export function validateTds(numbers: readonly string[]): void {
  if (numbers.length < 1 || numbers.length > 10) {
    throw new CapkitError("INPUT_INVALID", "TDS takes 1 to 10 numbers", { hint: "as a Vasco 810 accepts" });
  }
  for (const n of numbers) {
    if (!/^[0-9]{1,10}$/.test(n)) throw new CapkitError("INPUT_INVALID", "each TDS number is 1 to 10 digits");
  }
}

export interface CapCodeInput {
  readonly response: GacResponse;
  readonly ipb: Uint8Array;
  readonly iaf?: number;
  readonly psn?: Uint8Array;
  readonly tds?: readonly string[];
}

/** The code value and how many bits it carries; TDS applied when given. */
export function capCodeValue(input: CapCodeInput): { value: number; bits: number; truncated: boolean } {
  const r = input.tds ? { ...input.response, ac: tdsMac(input.response.ac, input.tds) } : input.response;
  const opts =
    input.iaf === undefined
      ? {}
      : input.psn === undefined
        ? { iaf: input.iaf }
        : { iaf: input.iaf, psn: input.psn };
  return selectIpbBits(ipbSourceData(r, opts), input.ipb);
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
