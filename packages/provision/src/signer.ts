import { CapkitError } from "@capkit/core";
import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * The bank's signing key, shaped like an HSM call: the library hands over the bytes to sign and gets the
 * signature back, so the private key never needs to be in the library (a PKCS #11 token, a cloud KMS or the
 * verifier's KeyProvider can stand behind `sign`). Ed25519 (RFC 8032): small keys and signatures, verifiable
 * in any browser through @noble/curves. Used for operation documents and receipts.
 */
export interface Ed25519Signer {
  /** Names the key in signed envelopes, so verifiers pick the right public key across rotations. */
  readonly keyId: string;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Returns the 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Checks a key id (1–64 of `A–Z a–z 0–9 . _ : -`). */
export function checkKeyId(keyId: unknown): string {
  if (typeof keyId !== "string" || !KEY_ID.test(keyId))
    throw new CapkitError("INPUT_INVALID", "a key id is 1 to 64 letters, digits, . _ : or -");
  return keyId;
}

/** A signer holding its secret key in memory: tests, examples, and a bank without an HSM. */
export function softwareSigner(secretKey: Uint8Array, keyId: string): Ed25519Signer {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32)
    throw new CapkitError("KEY_INVALID", "an Ed25519 secret key is 32 bytes");
  const key = secretKey.slice();
  return {
    keyId: checkKeyId(keyId),
    publicKey: ed25519.getPublicKey(key),
    sign: async (message) => ed25519.sign(message, key),
  };
}

/** A fresh Ed25519 secret key from the CSPRNG. */
export function generateSigningKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

/** Verifies an Ed25519 signature (RFC 8032 strict encoding, not ZIP-215); never throws on bad input. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
