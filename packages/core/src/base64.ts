import { expectBytes, expectString } from "./arguments.js";
import { CapkitError } from "./errors.js";

// Strict RFC 4648 base64 (standard alphabet). No atob/Buffer: the core runs everywhere.
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Parses strict RFC 4648 §4 base64: whitespace is skipped (XML wraps CipherValues), padding is required to a
 * multiple of 4, and anything else is an error.
 *
 * @param what - names the value in the error message, never the value itself
 * @throws `INPUT_INVALID` for a length, character or padding that is not base64, or a non-string
 */
export function fromBase64(text: string, what = "base64 value"): Uint8Array {
  expectString(text, what);
  const s = text.replace(/[ \t\r\n]+/g, "");
  if (s.length % 4 !== 0)
    throw new CapkitError("INPUT_INVALID", `${what}: base64 length is not a multiple of 4`);
  const padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const isPad = c === 61 && i + 4 === s.length && j >= 4 - padding;
      const d = isPad ? 0 : (VALUE[c] ?? -1);
      if (d < 0) throw new CapkitError("INPUT_INVALID", `${what}: not base64 at position ${i + j}`);
      v = (v << 6) | d;
    }
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/** RFC 4648 §4 base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  expectBytes(bytes, "the bytes to write as base64");
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.length - i;
    const v = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
    s += n > 1 ? ALPHABET[(v >> 6) & 63]! : "=";
    s += n > 2 ? ALPHABET[v & 63]! : "=";
  }
  return s;
}
