import { toHex } from "@capkit/core";
import { p256 } from "@noble/curves/nist.js";
import { canonicalBytes } from "./canonical-json.js";

/**
 * What an in-app device key (ECDSA P-256, WebCrypto, non-extractable) signs besides its codes, and how the
 * bank checks it. Each message is the canonical JSON of a typed object whose `v` names its purpose, so a
 * signature for one purpose is never valid for another (a login proof is not an approval, an approval of one
 * operation not of another, an accept not a decline). Approvals are over the operation digest, never over a
 * free text (LinOTP and privacyIDEA sign what they display only in part: docs in the design notes).
 */

/** A device's key as the protocol needs it: its public key and an ECDSA P-256/SHA-256 signing call. */
export interface DeviceKey {
  /** SEC1 uncompressed P-256 public key, 65 bytes (WebCrypto's "raw" export). */
  readonly publicKey: Uint8Array;
  /** ECDSA P-256 with SHA-256 over `message`; 64 bytes r ‖ s (WebCrypto's IEEE P1363 form). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export const DEVICE_PUBLIC_KEY_BYTES = 65;

/** Checks an ECDSA P-256/SHA-256 signature in WebCrypto's r ‖ s form; high-S accepted, as WebCrypto makes them. */
export function verifyDeviceSignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return p256.verify(signature, message, publicKey, { prehash: true, lowS: false, format: "compact" });
  } catch {
    return false;
  }
}

/** True when the bytes are a valid uncompressed P-256 public key. */
export function validDevicePublicKey(publicKey: Uint8Array): boolean {
  if (
    !(publicKey instanceof Uint8Array) ||
    publicKey.length !== DEVICE_PUBLIC_KEY_BYTES ||
    publicKey[0] !== 4
  )
    return false;
  try {
    p256.Point.fromBytes(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}

export type ApprovalDecision = "accept" | "decline";

/** `capkit-approval/1`: the device accepts or declines the operation with this digest. */
export function approvalMessage(operationDigest: Uint8Array, decision: ApprovalDecision): Uint8Array {
  return canonicalBytes({
    v: "capkit-approval/1",
    operationDigest: toHex(operationDigest).toLowerCase(),
    decision,
  });
}

export interface LoginProof {
  readonly serial: string;
  readonly instance: number;
  /** The bank's login challenge (single use, from its CSPRNG). */
  readonly challenge: string;
  readonly otp: string;
}

/** `capkit-login/1`: possession of the device for a login, bound to the bank's challenge and the code. */
export function loginMessage(proof: LoginProof): Uint8Array {
  return canonicalBytes({ v: "capkit-login/1", ...proof });
}
