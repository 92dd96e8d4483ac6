import { CapkitError, constantTimeEqual, fromBase64 } from "@capkit/core";
import { cbc } from "@noble/ciphers/aes.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2, pbkdf2Async } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * The PSKC value protection of RFC 6030 §6: AES-CBC with the IV prepended to the CipherValue, PKCS#7
 * padding, and a ValueMAC = HMAC(MAC key, IV ‖ ciphertext) checked — in constant time — before decrypting,
 * so a wrong key never turns into a padding oracle.
 */
const HASH = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

export function hmacOf(alg: keyof typeof HASH, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(HASH[alg], key, data);
}

export function macMatches(
  alg: keyof typeof HASH,
  key: Uint8Array,
  data: Uint8Array,
  macB64: string,
): boolean {
  return constantTimeEqual(hmacOf(alg, key, data), fromBase64(macB64, "ValueMAC"));
}

export function aesCbcDecrypt(key: Uint8Array, cipherValue: Uint8Array): Uint8Array {
  if (cipherValue.length < 32 || cipherValue.length % 16 !== 0) {
    throw new CapkitError("PSKC_DECRYPT_FAILED", "an encrypted value is not IV + whole AES blocks");
  }
  try {
    return cbc(key, cipherValue.subarray(0, 16)).decrypt(cipherValue.subarray(16));
  } catch {
    throw new CapkitError("PSKC_DECRYPT_FAILED", "decryption failed: wrong pre-shared key or password?");
  }
}

export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  const ct = cbc(key, iv).encrypt(plain);
  const out = new Uint8Array(16 + ct.length);
  out.set(iv);
  out.set(ct, 16);
  return out;
}

/** PBKDF2 (RFC 8018 §5.2) parameters, every one checked before they reach a derivation. */
export interface Pbkdf2Parameters {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly keyLength: number;
  readonly prf: keyof typeof HASH;
}

/**
 * PBKDF2 on the calling thread, blocking it for the whole derivation (≈ 5 ms per 1,000 iterations of
 * HMAC-SHA-512 here): for the small counts the synchronous import allows.
 */
export function derivePasswordKey(password: string, p: Pbkdf2Parameters): Uint8Array {
  return pbkdf2(HASH[p.prf], utf8ToBytes(password), p.salt, { c: p.iterations, dkLen: p.keyLength });
}

/** WebCrypto's names of the PRF hashes (WebCrypto §30, PBKDF2 with HMAC-SHA-1/256/512). */
const WEBCRYPTO_HASH = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" } as const;

/** How long the portable fallback computes before it lets the event loop run (milliseconds). */
export const PBKDF2_ASYNC_TICK_MS = 10;

/**
 * PBKDF2 off the event loop. WebCrypto's `deriveBits` where the platform has it (Node, browsers in a secure
 * context, Deno, edge runtimes: the derivation runs on another thread, natively); elsewhere @noble/hashes'
 * `pbkdf2Async`, which computes in slices of {@link PBKDF2_ASYNC_TICK_MS} and yields between them, so timers,
 * sockets and the UI keep running either way.
 */
export async function derivePasswordKeyAsync(password: string, p: Pbkdf2Parameters): Promise<Uint8Array> {
  const subtle = crypto.subtle;
  if (subtle) {
    try {
      const key = await subtle.importKey("raw", utf8ToBytes(password), "PBKDF2", false, ["deriveBits"]);
      const bits = await subtle.deriveBits(
        { name: "PBKDF2", hash: WEBCRYPTO_HASH[p.prf], salt: p.salt, iterations: p.iterations },
        key,
        p.keyLength * 8,
      );
      return new Uint8Array(bits);
    } catch {
      // A runtime whose WebCrypto lacks a part of this (an empty password, a hash): the portable path below.
    }
  }
  return pbkdf2Async(HASH[p.prf], utf8ToBytes(password), p.salt, {
    c: p.iterations,
    dkLen: p.keyLength,
    asyncTick: PBKDF2_ASYNC_TICK_MS,
  });
}

/**
 * The WebCrypto this package uses, declared here because it typechecks without DOM or Node types: the CSPRNG
 * (browsers, Node ≥ 19, Deno and edge runtimes alike) and, where present, `subtle` (absent in a browser page
 * that is not a secure context).
 */
declare const crypto: {
  getRandomValues<T extends Uint8Array>(array: T): T;
  readonly subtle?: {
    importKey(
      format: "raw",
      keyData: Uint8Array,
      algorithm: "PBKDF2",
      extractable: false,
      usages: ["deriveBits"],
    ): Promise<unknown>;
    deriveBits(
      algorithm: { name: "PBKDF2"; hash: string; salt: Uint8Array; iterations: number },
      baseKey: unknown,
      length: number,
    ): Promise<ArrayBuffer>;
  };
};

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
