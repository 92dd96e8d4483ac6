import { CapkitError } from "@capkit/core";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import {
  expectBoolean,
  expectBytes,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectString,
} from "./arguments.js";
import { CounterMac } from "./counter-mac.js";

/** The HMAC hash of an OATH key (RFC 4226 uses SHA-1; RFC 6238 §1.2 adds SHA-256 and SHA-512). */
export type OathAlgorithm = "SHA1" | "SHA256" | "SHA512";

/** The three algorithms, in the spelling every capkit API takes. */
export const OATH_ALGORITHMS: readonly OathAlgorithm[] = ["SHA1", "SHA256", "SHA512"];

const HASHES = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

/**
 * Reads an algorithm name as people and files spell it: `SHA1`, `sha256`, `SHA-512`, `HMAC-SHA256` (any case,
 * one hyphen or none). Anything else is `INPUT_INVALID`.
 *
 * @example
 * ```ts
 * parseAlgorithm("sha-256"); // "SHA256"
 * ```
 */
export function parseAlgorithm(name: string): OathAlgorithm {
  expectString(name, "the algorithm");
  const m = /^(?:HMAC-?)?SHA-?(1|256|512)$/i.exec(name.trim());
  if (m) return `SHA${m[1]}` as OathAlgorithm;
  throw new CapkitError("INPUT_INVALID", `unknown algorithm "${name.slice(0, 40)}"`, {
    hint: "use SHA1, SHA256 or SHA512",
  });
}

/** Options of {@link HmacKey} (and of the classes built on it). */
export interface HmacKeyOptions {
  /**
   * RFC 4226 R6 asks for at least 128-bit secrets. Old hardware tokens ship 80-bit seeds: accept them only
   * when the caller says so.
   */
  readonly allowShortSecret?: boolean;
}

/**
 * A keyed HMAC (RFC 2104) as OATH codes use it. `HmacKey` computes it in this process; a key store that must
 * keep the key (a PKCS#11 token, through @capkit/verify's key providers) implements the same two operations,
 * so HOTP, TOTP and OCRA compute through either without seeing the key.
 */
export interface Hmac {
  readonly algorithm: OathAlgorithm;
  /** Bytes of a MAC (20, 32 or 64). */
  readonly outputLength: number;
  /** HMAC of `message` into `out` (a fresh array when omitted). */
  mac(message: Uint8Array, out?: Uint8Array): Uint8Array;
  /** RFC 4226 §5.3 dynamic truncation of the HMAC of the 8-byte big-endian counter `high ‖ low`. */
  truncatedCounter(high: number, low: number): number;
}

/** Whether `value` is an `Hmac`: an `HmacKey`, or another keyed HMAC with the same members (a key store's). */
export function isHmac(value: unknown): value is Hmac {
  if (value instanceof HmacKey) return true;
  const v = value as Partial<Hmac> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    OATH_ALGORITHMS.includes(v.algorithm as OathAlgorithm) &&
    typeof v.outputLength === "number" &&
    typeof v.mac === "function" &&
    typeof v.truncatedCounter === "function"
  );
}

/** 16 bytes = the RFC 4226 R6 minimum. */
export const MIN_SECRET_BYTES = 16;

/**
 * The door of every OATH key, the in-memory {@link HmacKey} and WebCrypto's ({@link WebCryptoHmac}): non-empty
 * bytes, a known algorithm, and at least 128 bits unless `allowShortSecret`.
 *
 * @throws `OTP_SECRET_INVALID` for anything but non-empty bytes, `OTP_SECRET_TOO_SHORT` under 128 bits
 *   without `allowShortSecret`, `INPUT_INVALID` for an unknown algorithm or malformed options.
 */
export function checkOathSecret(secret: unknown, algorithm: unknown, options: HmacKeyOptions): void {
  const bytes = expectBytes(secret, "the secret", "OTP_SECRET_INVALID");
  if (bytes.length === 0) throw new CapkitError("OTP_SECRET_INVALID", "the secret is empty");
  expectOneOf(algorithm, "the algorithm", OATH_ALGORITHMS);
  const allowShortSecret = expectBoolean(
    expectOptions<HmacKeyOptions>(options, "the key options").allowShortSecret,
    "allowShortSecret",
  );
  if (bytes.length < MIN_SECRET_BYTES && !allowShortSecret) {
    throw new CapkitError(
      "OTP_SECRET_TOO_SHORT",
      `the secret is ${bytes.length * 8} bits; RFC 4226 asks for at least 128`,
      {
        hint: "for an old hardware token with an 80-bit seed, allow short secrets explicitly",
      },
    );
  }
}

/** @noble/hashes' public incremental HMAC (`hmac.create`): update, digestInto, clone. */
type KeyedHmac = ReturnType<typeof hmac.create>;

/**
 * A secret with its HMAC state keyed once. The cost of an OATH code in JavaScript is the HMAC set-up (hashing
 * the key pads), not the hash: keying once and cloning the ready inner/outer state makes each code two
 * compression calls (RFC 2104 §4: the padded-key states "may be precomputed"). Only @noble/hashes' public API
 * is used (`hmac.create`, `clone`), so a caret range cannot break it.
 */
export class HmacKey implements Hmac {
  readonly algorithm: OathAlgorithm;
  readonly outputLength: number;
  readonly #keyed: KeyedHmac;
  /** Precomputed pad states for 8-byte counters (SHA-1/SHA-256), the HOTP/TOTP hot path. */
  readonly #counterMac: CounterMac | undefined;
  readonly #counterBytes = new Uint8Array(8);
  readonly #truncScratch: Uint8Array;

  /**
   * @param secret - the seed, as bytes (decode base32 text with {@link base32Decode} first)
   * @param algorithm - `"SHA1"` (default), `"SHA256"` or `"SHA512"`, spelt so ({@link parseAlgorithm} reads
   *   other spellings)
   * @throws `OTP_SECRET_INVALID` for anything but non-empty bytes, `OTP_SECRET_TOO_SHORT` under 128 bits
   *   without `allowShortSecret`, `INPUT_INVALID` for an unknown algorithm or malformed options.
   *
   * @example
   * ```ts
   * const key = new HmacKey(base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "SHA1");
   * ```
   */
  constructor(secret: Uint8Array, algorithm: OathAlgorithm = "SHA1", options: HmacKeyOptions = {}) {
    checkOathSecret(secret, algorithm, options);
    this.algorithm = algorithm;
    const hash = HASHES[algorithm];
    this.outputLength = hash.outputLen;
    this.#truncScratch = new Uint8Array(hash.outputLen);
    this.#keyed = hmac.create(hash, secret);
    this.#counterMac = algorithm === "SHA512" ? undefined : new CounterMac(algorithm, secret);
  }

  /** HMAC of the 8-byte big-endian counter `high ‖ low` (two 32-bit halves) into `out`. */
  macCounter(high: number, low: number, out: Uint8Array): Uint8Array {
    checkHalves(high, low);
    expectBytes(out, "the output");
    if (out.length < this.outputLength)
      throw new CapkitError("INPUT_INVALID", "the output is too short for the MAC");
    if (this.#counterMac) {
      this.#counterMac.mac(high | 0, low | 0, out);
      return out;
    }
    return this.mac(counterBytes(high, low, this.#counterBytes), out);
  }

  /**
   * RFC 4226 §5.3 dynamic truncation of the counter's HMAC: the 31-bit number HOTP reduces to digits. The
   * SHA-1/SHA-256 path reads it from the digest words without writing the MAC bytes.
   */
  truncatedCounter(high: number, low: number): number {
    checkHalves(high, low);
    if (this.#counterMac) return this.#counterMac.truncated(high | 0, low | 0);
    return dynamicTruncate(this.mac(counterBytes(high, low, this.#counterBytes), this.#truncScratch));
  }

  /** HMAC of `message` into `out` (a fresh array when omitted). */
  mac(message: Uint8Array, out: Uint8Array = new Uint8Array(this.outputLength)): Uint8Array {
    expectBytes(message, "the message");
    expectBytes(out, "the output");
    if (out.length < this.outputLength)
      throw new CapkitError("INPUT_INVALID", "the output is too short for the MAC");
    const h = this.#keyed.clone();
    h.update(message);
    h.digestInto(out);
    return out;
  }
}

/** RFC 4226 §5.4 dynamic truncation of an HMAC (20 bytes or more) to a 31-bit number. */
export function dynamicTruncate(mac: Uint8Array): number {
  if (!(mac instanceof Uint8Array) || mac.length < 20)
    throw new CapkitError("INPUT_INVALID", "dynamic truncation needs an HMAC of at least 20 bytes");
  const o = mac[mac.length - 1]! & 0x0f;
  return ((mac[o]! & 0x7f) << 24) | (mac[o + 1]! << 16) | (mac[o + 2]! << 8) | mac[o + 3]!;
}

/** The 8-byte big-endian counter `high ‖ low` (RFC 4226 §5.2: C is 8 bytes, high-order first). */
export function counterBytes(high: number, low: number, out: Uint8Array): Uint8Array {
  checkHalves(high, low);
  if (!(out instanceof Uint8Array) || out.length < 8)
    throw new CapkitError("INPUT_INVALID", "the counter is written into 8 bytes or more");
  out[0] = high >>> 24;
  out[1] = (high >>> 16) & 255;
  out[2] = (high >>> 8) & 255;
  out[3] = high & 255;
  out[4] = low >>> 24;
  out[5] = (low >>> 16) & 255;
  out[6] = (low >>> 8) & 255;
  out[7] = low & 255;
  return out;
}

/** Two unsigned 32-bit halves: `x | 0` would quietly turn "5", 1.5 or NaN into another counter. */
function checkHalves(high: number, low: number): void {
  if (high >>> 0 !== high || low >>> 0 !== low) {
    expectInteger(high, "the counter's high half", 0, 0xffffffff);
    expectInteger(low, "the counter's low half", 0, 0xffffffff);
  }
}
