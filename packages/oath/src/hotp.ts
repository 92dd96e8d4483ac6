import { CapkitError } from "@capkit/core";
import { counterBytes, type Hmac } from "./hmac.js";

/**
 * HOTP (RFC 4226 §5.3): HMAC over the 8-byte big-endian counter, dynamic truncation to 31 bits, then the
 * last `digits` decimal digits. 6–10 digits: 10 keeps the whole 31-bit value (RFC 6287 errata 3730 notes the
 * leading digit is then biased).
 */
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 10;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

export function checkDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new CapkitError("INPUT_INVALID", `digits must be ${MIN_DIGITS} to ${MAX_DIGITS}`);
  }
}

function checkCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new CapkitError("INPUT_INVALID", "the counter must be a whole number from 0 to 2^53−1");
  }
}

/** Writes a counter (0 … 2^53−1) as 8 big-endian bytes. */
export function writeCounter(counter: number, out: Uint8Array): Uint8Array {
  checkCounter(counter);
  return counterBytes(Math.floor(counter / 0x100000000), counter >>> 0, out);
}

/**
 * Computes HOTP values for one key; the key's HMAC state is reused, so a verifier scanning a window allocates
 * nothing per candidate.
 */
export class HotpGenerator {
  readonly key: Hmac;
  readonly digits: number;
  readonly #modulus: number;

  constructor(key: Hmac, digits = 6) {
    checkDigits(digits);
    this.key = key;
    this.digits = digits;
    this.#modulus = POW10[digits]!;
  }

  /** The code as an integer (what verification compares). */
  value(counter: number): number {
    checkCounter(counter);
    return this.key.truncatedCounter(Math.floor(counter / 0x100000000), counter >>> 0) % this.#modulus;
  }

  /** The code as the zero-padded digits a token shows. */
  code(counter: number): string {
    return String(this.value(counter)).padStart(this.digits, "0");
  }
}

export function hotp(key: Hmac, counter: number, digits = 6): string {
  return new HotpGenerator(key, digits).code(counter);
}
