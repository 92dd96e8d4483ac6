import { CapkitError, constantTimeEqual, fromBase64 } from "@capkit/core";
import { cbc } from "@noble/ciphers/aes.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
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

export function derivePasswordKey(
  password: string,
  salt: Uint8Array,
  iterations: number,
  keyLength: number,
  prf: keyof typeof HASH,
): Uint8Array {
  return pbkdf2(HASH[prf], utf8ToBytes(password), salt, { c: iterations, dkLen: keyLength });
}

/** WebCrypto's CSPRNG exists in browsers, Node ≥ 19, Deno and edge runtimes alike. */
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
