import { CapkitError, concat, toHex } from "@capkit/core";

/**
 * BER-TLV as EMV uses it (EMV 4.3 Book 3 Annex B): tags of 1–4 bytes (low 5 bits all set → more tag bytes,
 * b8 of each further byte → another one), definite lengths only (short form or 81–84), bit 6 of the first tag
 * byte marks a constructed object whose value is itself TLV. `00` and `FF` bytes between objects are padding
 * left by erased records (Annex B1) and are skipped.
 */
export interface Tlv {
  /** The tag bytes as one unsigned number: `9F27` → 0x9F27. */
  readonly tag: number;
  /** Whether its value is itself TLV (b6 of the first tag byte). */
  readonly constructed: boolean;
  /** The value bytes (for a constructed object, its children encoded). */
  readonly value: Uint8Array;
  /** Parsed children of a constructed object. */
  readonly children?: readonly Tlv[];
}

/** Bounds on a decode, against hostile input (defaults fit every real card answer). */
export interface TlvLimits {
  /** Nesting depth of constructed objects (a FCI is 3 deep; 16 is generous). */
  maxDepth?: number;
  /** Objects in the whole input, against inputs built to exhaust memory. */
  maxObjects?: number;
  /** Largest single value; card responses are at most 65,536 bytes (extended APDU). */
  maxLength?: number;
}

const DEFAULTS: Required<TlvLimits> = { maxDepth: 16, maxObjects: 4096, maxLength: 65536 };

/** A tag number as hex, 2 digits per byte: `0x9F27` → `"9F27"`. */
export function tagToHex(tag: number): string {
  return tag
    .toString(16)
    .toUpperCase()
    .padStart(tag > 0xffffff ? 8 : tag > 0xffff ? 6 : tag > 0xff ? 4 : 2, "0");
}

/**
 * A tag written in hex as its number: `"9F27"` → `0x9F27`.
 *
 * @throws `HEX_INVALID` for something that is not 1 to 4 bytes of hex
 */
export function tagFromHex(hex: string): number {
  if (!/^([0-9A-Fa-f]{2}){1,4}$/.test(hex)) throw new CapkitError("INPUT_INVALID", `not a tag: ${hex}`);
  return Number.parseInt(hex, 16) >>> 0;
}

export function isConstructedTag(tag: number): boolean {
  let first = tag;
  while (first > 0xff) first >>>= 8;
  return (first & 0x20) !== 0;
}

function tagBytes(tag: number): Uint8Array {
  const hex = tagToHex(tag);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Reads a tag at `pos`; returns the tag and the position after it. Shared with DOL parsing. */
export function readTag(bytes: Uint8Array, pos: number): { tag: number; next: number } {
  const first = bytes[pos];
  if (first === undefined) throw new CapkitError("TLV_MALFORMED", `tag expected at offset ${pos}`);
  let tag = first;
  let p = pos + 1;
  if ((first & 0x1f) === 0x1f) {
    for (;;) {
      const b = bytes[p];
      if (b === undefined) throw new CapkitError("TLV_MALFORMED", `tag truncated at offset ${pos}`);
      if (p - pos >= 4) throw new CapkitError("TLV_LIMIT", `tag longer than 4 bytes at offset ${pos}`);
      tag = (tag * 256 + b) >>> 0;
      p++;
      if ((b & 0x80) === 0) break;
    }
  }
  return { tag, next: p };
}

/** Reads a definite BER length at `pos` (at most `max`); returns it and the position after it. */
export function readLength(
  bytes: Uint8Array,
  pos: number,
  max: number = DEFAULTS.maxLength,
): { length: number; next: number } {
  const first = bytes[pos];
  if (first === undefined) throw new CapkitError("TLV_MALFORMED", `length expected at offset ${pos}`);
  if (first < 0x80) return { length: first, next: pos + 1 };
  const n = first & 0x7f;
  if (n === 0)
    throw new CapkitError("TLV_MALFORMED", `indefinite length at offset ${pos} (not allowed in EMV)`);
  if (n > 4) throw new CapkitError("TLV_LIMIT", `length field of ${n} bytes at offset ${pos}`);
  if (pos + 1 + n > bytes.length) throw new CapkitError("TLV_MALFORMED", `length truncated at offset ${pos}`);
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + bytes[pos + 1 + i]!;
  if (length > max)
    throw new CapkitError("TLV_LIMIT", `value of ${length} bytes exceeds the ${max}-byte limit`);
  return { length, next: pos + 1 + n };
}

/** Decodes a sequence of TLV objects; constructed ones are decoded recursively into `children`. */
export function decodeTlv(bytes: Uint8Array, limits: TlvLimits = {}): Tlv[] {
  const lim = { ...DEFAULTS, ...limits };
  const counter = { objects: 0 };
  return decodeLevel(bytes, 0, lim, counter);
}

function decodeLevel(
  bytes: Uint8Array,
  depth: number,
  lim: Required<TlvLimits>,
  counter: { objects: number },
): Tlv[] {
  if (depth >= lim.maxDepth) throw new CapkitError("TLV_LIMIT", `TLV nested deeper than ${lim.maxDepth}`);
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const b = bytes[pos]!;
    if (b === 0x00 || b === 0xff) {
      pos++;
      continue;
    }
    const { tag, next } = readTag(bytes, pos);
    const { length, next: valueStart } = readLength(bytes, next, lim.maxLength);
    const end = valueStart + length;
    if (end > bytes.length) {
      throw new CapkitError("TLV_MALFORMED", `value of tag ${tagToHex(tag)} runs past the end of the data`, {
        details: { tag: tagToHex(tag), offset: pos },
      });
    }
    if (++counter.objects > lim.maxObjects) {
      throw new CapkitError("TLV_LIMIT", `more than ${lim.maxObjects} TLV objects`);
    }
    const value = bytes.subarray(valueStart, end);
    const constructed = isConstructedTag(tag);
    out.push(
      constructed
        ? { tag, constructed, value, children: decodeLevel(value, depth + 1, lim, counter) }
        : { tag, constructed, value },
    );
    pos = end;
  }
  return out;
}

function lengthBytes(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  if (length <= 0xffffff) return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
  throw new CapkitError("TLV_LIMIT", "value too long to encode");
}

/** Encodes objects with minimal lengths; a constructed object with `children` is encoded from them. */
export function encodeTlv(objects: Tlv | readonly Tlv[]): Uint8Array {
  const list = Array.isArray(objects) ? (objects as readonly Tlv[]) : [objects as Tlv];
  const parts: Uint8Array[] = [];
  for (const o of list) {
    const value = o.children ? encodeTlv(o.children) : o.value;
    parts.push(tagBytes(o.tag), lengthBytes(value.length), value);
  }
  return concat(...parts);
}

/** Convenience constructor: primitive from bytes, constructed from children. */
export function tlv(tag: number, content: Uint8Array | readonly Tlv[]): Tlv {
  if (content instanceof Uint8Array) return { tag, constructed: isConstructedTag(tag), value: content };
  const value = encodeTlv(content);
  return { tag, constructed: true, value, children: content };
}

/** First object with `tag`, searched depth-first through constructed objects. */
export function findTlv(objects: readonly Tlv[], tag: number): Tlv | undefined {
  for (const o of objects) {
    if (o.tag === tag) return o;
    if (o.children) {
      const found = findTlv(o.children, tag);
      if (found) return found;
    }
  }
  return undefined;
}

/** Every primitive object, depth-first, in order (what a reader collects from records into its data store). */
export function flattenTlv(objects: readonly Tlv[]): Tlv[] {
  const out: Tlv[] = [];
  for (const o of objects) {
    if (o.children) out.push(...flattenTlv(o.children));
    else out.push(o);
  }
  return out;
}

/** For messages and debugging: `9F27=80`. */
export function describeTlv(o: Tlv): string {
  return `${tagToHex(o.tag)}=${toHex(o.value)}`;
}
