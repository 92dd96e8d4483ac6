import { CapkitError, toHex } from "@capkit/core";
import { tagInfo } from "./protocol/tags.js";
import { readTag, tagToHex } from "./tlv.js";

/**
 * Data Object Lists (EMV 4.3 Book 3 §5.4): a list of tag + length pairs (PDOL 9F38, CDOL1 8C, CDOL2 8D) that
 * tells the reader which values to send, concatenated without tags.
 */
export interface DolEntry {
  readonly tag: number;
  readonly length: number;
}

export function parseDol(bytes: Uint8Array): DolEntry[] {
  const out: DolEntry[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const { tag, next } = readTag(bytes, pos);
    const length = bytes[next];
    if (length === undefined)
      throw new CapkitError("TLV_MALFORMED", `DOL entry ${tagToHex(tag)} has no length`);
    out.push({ tag, length });
    pos = next + 1;
  }
  return out;
}

/**
 * Concatenates the values for a DOL, fitting each to its length by the Book 3 §5.4 rules: a missing value is
 * zeros; numeric (n) values keep their rightmost bytes or gain leading zeros; compressed numeric (cn) values
 * keep their leftmost bytes or gain trailing FF; everything else keeps its leftmost bytes or gains trailing
 * zeros.
 */
export function fillDol(entries: readonly DolEntry[], values: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const total = entries.reduce((n, e) => n + e.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const { tag, length } of entries) {
    const v = values.get(tag);
    if (v) {
      const format = tagInfo(tag)?.format ?? "b";
      if (format === "n") {
        const src = v.length > length ? v.subarray(v.length - length) : v;
        out.set(src, o + length - src.length);
      } else {
        const src = v.length > length ? v.subarray(0, length) : v;
        out.set(src, o);
        if (format === "cn") out.fill(0xff, o + src.length, o + length);
      }
    }
    o += length;
  }
  return out;
}

export function describeDol(entries: readonly DolEntry[]): string {
  return entries.map((e) => `${tagToHex(e.tag)}(${e.length})`).join(" ");
}

/** Splits filled DOL data back into tag → value, for diagnostics ("show the exact CDOL1 bytes sent"). */
export function splitDolData(
  entries: readonly DolEntry[],
  data: Uint8Array,
): { tag: string; value: string }[] {
  let o = 0;
  return entries.map((e) => {
    const value = toHex(data.subarray(o, o + e.length));
    o += e.length;
    return { tag: tagToHex(e.tag), value };
  });
}
