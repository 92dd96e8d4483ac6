import { CapkitError } from "@capkit/core";
import { expectBytes, expectString } from "./arguments.js";

/**
 * RFC 4648 base32, the way people paste OTP secrets: lenient in (any case, spaces and dashes ignored,
 * padding optional), canonical out (uppercase, no padding — the Key URI format omits it).
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Decodes a base32 secret as people paste it (RFC 4648 §6; case, spaces, dashes and padding ignored).
 *
 * @throws `OTP_SECRET_INVALID` for an empty or impossible length, a character outside the alphabet (its
 *   position named), or anything but a string.
 *
 * @example
 * ```ts
 * base32Decode("gezd gnbv gy3t qojq"); // the bytes of "1234567890"
 * ```
 */
export function base32Decode(text: string): Uint8Array {
  const s = expectString(text, "the base32 secret", "OTP_SECRET_INVALID")
    .replace(/[\s-]+/g, "")
    .toUpperCase()
    .replace(/=+$/, "");
  if (s.length === 0) throw new CapkitError("OTP_SECRET_INVALID", "the base32 secret is empty");
  // Lengths 1, 3 and 6 mod 8 cannot come from whole bytes.
  if ([1, 3, 6].includes(s.length % 8)) {
    throw new CapkitError(
      "OTP_SECRET_INVALID",
      "the base32 secret has an impossible length (a character missing?)",
    );
  }
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const v = ALPHABET.indexOf(s[i]!);
    if (v < 0) {
      throw new CapkitError(
        "OTP_SECRET_INVALID",
        `the base32 secret has an invalid character at position ${i + 1}`,
        {
          hint: "base32 uses A–Z and 2–7 (no 0, 1, 8 or 9)",
        },
      );
    }
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 255;
    }
  }
  return out;
}

/** Encodes bytes in canonical base32: upper case, no padding (as the Key URI format writes it). */
export function base32Encode(bytes: Uint8Array): string {
  expectBytes(bytes, "the bytes to encode");
  let s = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += ALPHABET[(value >> bits) & 31];
    }
    value &= 0xff; // keep the unread low bits only
  }
  if (bits > 0) s += ALPHABET[(value << (5 - bits)) & 31];
  return s;
}
