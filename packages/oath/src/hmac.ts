import { CapkitError } from "@capkit/core";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { CounterMac } from "./counter-mac.js";

export type OathAlgorithm = "SHA1" | "SHA256" | "SHA512";

const HASHES = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

export function parseAlgorithm(name: string): OathAlgorithm {
  const n = name.toUpperCase().replace("-", "");
  if (n === "SHA1" || n === "SHA256" || n === "SHA512") return n;
  throw new CapkitError("INPUT_INVALID", `unknown algorithm "${name}"`, {
    hint: "use SHA1, SHA256 or SHA512",
  });
}

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

/** 16 bytes = the RFC 4226 R6 minimum. */
export const MIN_SECRET_BYTES = 16;

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

  constructor(secret: Uint8Array, algorithm: OathAlgorithm = "SHA1", options: HmacKeyOptions = {}) {
    if (!(secret instanceof Uint8Array) || secret.length === 0) {
      throw new CapkitError("OTP_SECRET_INVALID", "the secret is empty");
    }
    if (secret.length < MIN_SECRET_BYTES && !options.allowShortSecret) {
      throw new CapkitError(
        "OTP_SECRET_TOO_SHORT",
        `the secret is ${secret.length * 8} bits; RFC 4226 asks for at least 128`,
        {
          hint: "for an old hardware token with an 80-bit seed, allow short secrets explicitly",
        },
      );
    }
    this.algorithm = algorithm;
    const hash = HASHES[algorithm];
    this.outputLength = hash.outputLen;
    this.#truncScratch = new Uint8Array(hash.outputLen);
    this.#keyed = hmac.create(hash, secret);
    this.#counterMac = algorithm === "SHA512" ? undefined : new CounterMac(algorithm, secret);
  }

  /** HMAC of the 8-byte big-endian counter `high ‖ low` (two 32-bit halves) into `out`. */
  macCounter(high: number, low: number, out: Uint8Array): Uint8Array {
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
    if (this.#counterMac) return this.#counterMac.truncated(high | 0, low | 0);
    return dynamicTruncate(this.mac(counterBytes(high, low, this.#counterBytes), this.#truncScratch));
  }

  /** HMAC of `message` into `out` (a fresh array when omitted). */
  mac(message: Uint8Array, out: Uint8Array = new Uint8Array(this.outputLength)): Uint8Array {
    const h = this.#keyed.clone();
    h.update(message);
    h.digestInto(out);
    return out;
  }
}

/** RFC 4226 §5.4 dynamic truncation of an HMAC to a 31-bit number. */
export function dynamicTruncate(mac: Uint8Array): number {
  const o = mac[mac.length - 1]! & 0x0f;
  return ((mac[o]! & 0x7f) << 24) | (mac[o + 1]! << 16) | (mac[o + 2]! << 8) | mac[o + 3]!;
}

/** The 8-byte big-endian counter `high ‖ low` (RFC 4226 §5.2: C is 8 bytes, high-order first). */
export function counterBytes(high: number, low: number, out: Uint8Array): Uint8Array {
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
