import { expectBytes, expectInteger, expectString } from "./arguments.js";
import { CapkitError } from "./errors.js";

// Byte helpers shared by every module. Uint8Array everywhere: no Buffer, so the core runs in browsers.

const HEX_DIGITS = "0123456789ABCDEF";
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE[HEX_DIGITS.charCodeAt(i)] = i;
  HEX_VALUE[HEX_DIGITS.toLowerCase().charCodeAt(i)] = i;
}

/**
 * Parses hex; spaces are allowed (people paste `9F 17 01 03`), anything else that is not a hex digit is an
 * error.
 *
 * @param what - names the value in the error message, never the value itself (it may be a key)
 * @throws `HEX_INVALID` for an odd number of digits or a non-hex character, `INPUT_INVALID` for a non-string
 *
 * @example
 * ```ts
 * fromHex("9F 17 01 03"); // Uint8Array [0x9f, 0x17, 0x01, 0x03]
 * ```
 */
export function fromHex(hex: string, what = "hex value"): Uint8Array {
  expectString(hex, what);
  const clean = hex.includes(" ") || hex.includes("\n") || hex.includes("\t") ? hex.replace(/\s+/g, "") : hex;
  if (clean.length % 2 !== 0) {
    throw new CapkitError("HEX_INVALID", `${what}: odd number of hex digits`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX_VALUE[clean.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUE[clean.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0)
      throw new CapkitError("HEX_INVALID", `${what}: not a hex digit at position ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Uppercase hex, no separators (the transcript and vector format). */
export function toHex(bytes: Uint8Array): string {
  expectBytes(bytes, "the bytes to write as hex");
  let s = "";
  for (const b of bytes) s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return s;
}

/** The parts one after the other, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += expectBytes(parts[i], `part ${i + 1} to concatenate`).length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Byte-wise exclusive or of two arrays of the same length, in a new array.
 *
 * @throws `INPUT_INVALID` when the lengths differ
 */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  expectBytes(a, "the first bytes to xor");
  expectBytes(b, "the second bytes to xor");
  if (a.length !== b.length) throw new CapkitError("INPUT_INVALID", "xor: lengths differ");
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Whether two arrays hold the same bytes. Not for secrets: use {@link constantTimeEqual}. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  expectBytes(a, "the first bytes to compare");
  expectBytes(b, "the second bytes to compare");
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Constant-time comparison for secrets and codes: the time depends on the length only, never on where the
 * first difference is.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  expectBytes(a, "the first bytes to compare");
  expectBytes(b, "the second bytes to compare");
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Big-endian unsigned integer of up to 6 bytes (EMV counters, ATC).
 *
 * @throws `INPUT_INVALID` for more than 6 bytes (past 2^48 a number loses integers)
 */
export function readUint(bytes: Uint8Array): number {
  expectBytes(bytes, "the integer's bytes");
  if (bytes.length > 6) throw new CapkitError("INPUT_INVALID", "integer wider than 48 bits");
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}

/**
 * `value` as a big-endian unsigned integer of `length` bytes.
 *
 * @throws `INPUT_INVALID` when it is not a safe non-negative integer that fits, or the length is not a whole
 * number from 0 to 8
 */
export function writeUint(value: number, length: number): Uint8Array {
  expectInteger(value, "the integer", 0, Number.MAX_SAFE_INTEGER);
  expectInteger(length, "the integer's length", 0, 8);
  if (!Number.isSafeInteger(value) || value < 0 || value >= 256 ** length) {
    throw new CapkitError("INPUT_INVALID", `integer ${value} does not fit in ${length} bytes`);
  }
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return out;
}

/**
 * Packs a decimal digit string into BCD, right-aligned in `length` bytes and left-padded with zeros
 * (EMV format "n", Book 3 §4.3): `1234` in 4 bytes → `00 00 12 34`.
 *
 * @throws `INPUT_INVALID` for a non-digit or more digits than fit, a non-string, or a length that is not a
 * whole number
 */
export function digitsToBcd(digits: string, length: number): Uint8Array {
  expectString(digits, "the digits");
  expectInteger(length, "the BCD length", 0, 255);
  if (!/^[0-9]*$/.test(digits)) throw new CapkitError("INPUT_INVALID", "expected decimal digits only");
  if (digits.length > 2 * length) {
    throw new CapkitError("INPUT_INVALID", `${digits.length} digits do not fit in ${length} BCD bytes`);
  }
  const padded = digits.padStart(2 * length, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = ((padded.charCodeAt(2 * i) - 48) << 4) | (padded.charCodeAt(2 * i + 1) - 48);
  }
  return out;
}

/** ASCII/Latin-1 text of a card field (application labels are `ans`), non-printables shown as `.`. */
export function bytesToPrintable(bytes: Uint8Array): string {
  expectBytes(bytes, "the field's bytes");
  let s = "";
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  return s;
}

/**
 * The bytes of ASCII text (a label, an OCRA question), one per character.
 *
 * @throws `INPUT_INVALID` for a character past U+007F
 */
export function asciiToBytes(text: string): Uint8Array {
  expectString(text, "the ASCII text");
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new CapkitError("INPUT_INVALID", "expected ASCII text");
    out[i] = c;
  }
  return out;
}
