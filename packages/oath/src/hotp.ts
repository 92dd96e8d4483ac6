import { expectBytes, wrong } from "./arguments.js";
import { counterBytes, dynamicTruncate, type Hmac, isHmac } from "./hmac.js";

/*
 * HOTP (RFC 4226 §5.3): HMAC over the 8-byte big-endian counter, dynamic truncation to 31 bits, then the
 * last `digits` decimal digits.
 */

/** The shortest HOTP/TOTP code: 6 digits (RFC 4226 §5.3, R4). */
export const MIN_DIGITS = 6;
/** The longest: 10 digits keep the whole 31-bit value (RFC 6287 errata 3730: the leading digit is biased). */
export const MAX_DIGITS = 10;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/** Throws `INPUT_INVALID` unless `digits` is a whole number from 6 to 10 (RFC 4226 §5.3, R4). */
export function checkDigits(digits: number): void {
  if (typeof digits !== "number" || !Number.isInteger(digits) || digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw wrong("INPUT_INVALID", "digits", `a whole number from ${MIN_DIGITS} to ${MAX_DIGITS}`, digits);
  }
}

function checkCounter(counter: number): void {
  if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 0) {
    throw wrong("INPUT_INVALID", "the counter", "a whole number from 0 to 2^53−1", counter);
  }
}

/** Writes a counter (0 … 2^53−1) as 8 big-endian bytes into `out` (RFC 4226 §5.2). */
export function writeCounter(counter: number, out: Uint8Array): Uint8Array {
  checkCounter(counter);
  expectBytes(out, "the output");
  return counterBytes(Math.floor(counter / 0x100000000), counter >>> 0, out);
}

/**
 * Computes HOTP values for one key; the key's HMAC state is reused, so a verifier scanning a window allocates
 * nothing per candidate.
 *
 * @example
 * ```ts
 * const gen = new HotpGenerator(new HmacKey(secret), 6); // keep it per credential
 * gen.code(0); // "755224" for the RFC 4226 Appendix D secret
 * ```
 */
export class HotpGenerator {
  readonly key: Hmac;
  readonly digits: number;
  readonly #modulus: number;

  /**
   * @param key - an {@link HmacKey}, or another keyed {@link Hmac} (a key store's that keeps the key)
   * @param digits - 6 to 10 (default 6)
   * @throws `INPUT_INVALID` for anything else
   */
  constructor(key: Hmac, digits = 6) {
    if (!isHmac(key)) throw wrong("INPUT_INVALID", "the key", "an HmacKey", key);
    checkDigits(digits);
    this.key = key;
    this.digits = digits;
    this.#modulus = POW10[digits]!;
  }

  /** The code at `counter` (0 … 2^53−1) as an integer (what verification compares). */
  value(counter: number): number {
    checkCounter(counter);
    return this.key.truncatedCounter(Math.floor(counter / 0x100000000), counter >>> 0) % this.#modulus;
  }

  /** The code at `counter` as the zero-padded digits a token shows. */
  code(counter: number): string {
    return String(this.value(counter)).padStart(this.digits, "0");
  }
}

/** RFC 4226 §5.3: the last `digits` decimal digits of an HMAC's dynamic truncation, zero-padded. */
export function codeFromMac(mac: Uint8Array, digits: number): string {
  return String(dynamicTruncate(mac) % POW10[digits]!).padStart(digits, "0");
}

/**
 * The HOTP code of `key` at `counter` (RFC 4226 §5.3), `digits` long (6 to 10, default 6). For many codes of
 * one key, keep a {@link HotpGenerator}.
 *
 * @throws `INPUT_INVALID` when `key` is not an {@link HmacKey} (or another {@link Hmac}), `counter` not a whole number from 0 to
 *   2^53−1 or `digits` not 6 to 10.
 *
 * @example
 * ```ts
 * const key = new HmacKey(new TextEncoder().encode("12345678901234567890"));
 * hotp(key, 1); // "287082" (RFC 4226 Appendix D)
 * ```
 */
export function hotp(key: Hmac, counter: number, digits = 6): string {
  return new HotpGenerator(key, digits).code(counter);
}
