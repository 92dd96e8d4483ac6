import type { CryptogramMac, MasterKeyDerivation } from "@capkit/emv-cap";
import type { Hmac, OathAlgorithm } from "@capkit/oath";

/**
 * What a sealed value protects, bound into the seal with the credential id: a value sealed for one use or one
 * credential never opens as another (a row copied onto another credential does not verify its codes).
 * - `hmac`: an OATH secret (HOTP, TOTP, OCRA), used only as an HMAC key;
 * - `issuer-key`: a simulated card's test issuer master key, used only to derive its ICC master key;
 * - `pan`: a card number (PCI DSS Req. 3.5: rendered unreadable at rest), read only by the provider itself.
 */
export type SealedUse = "hmac" | "issuer-key" | "pan";

/** A CAP card as its cryptogram engine is made from the stored credential (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6). */
export interface CapCardKey {
  /** The PAN sealed with use `pan`, or in clear in a database written before PANs were sealed. */
  readonly pan: { readonly sealed: string } | string;
  /** The PAN sequence number (EMV tag 5F34), two digits: enters the ICC master key derivation. */
  readonly psn: string;
  /** The CVN (emv-cap's `CRYPTOGRAM_VERSIONS`): which session key and padding the AC uses. */
  readonly cryptogramVersion: string;
  /** An issuer master key the provider holds by reference, or a simulated card's test key sealed with it. */
  readonly issuerKey:
    | { readonly kind: "reference"; readonly id: string }
    | { readonly kind: "sealed-test-imk"; readonly sealed: string; readonly derivation: MasterKeyDerivation };
}

/**
 * Where keys live and are used. A provider never hands a key to the verifier: it seals secrets for storage and
 * returns keyed engines that compute — an HMAC for OATH codes, the cryptogram MAC for CAP codes (the ICC master
 * key derived from the issuer's). The verifier builds an engine once per credential version and keeps it, so a
 * provider computing in this process (`SoftwareKeyProvider`) keeps its speed, and one backed by a token
 * (`Pkcs11KeyProvider`, `@capkit/verify/pkcs11`) keeps the keys in it.
 *
 * Sealed values name the key that sealed them (`keyIdOf`): a rotation (`Verifier.rekey`) re-seals every value
 * under the provider's current key while the previous one still opens them, and afterwards the old key is
 * refused.
 */
export interface KeyProvider {
  /** The key new values are sealed under (a fingerprint or a label, never key material). */
  readonly currentKeyId: string;
  /** Seals `value` for storage, bound to the credential id and its use. */
  seal(credentialId: string, use: SealedUse, value: Uint8Array): Promise<string>;
  /** The same value sealed under the current key (rotation); KEY_INVALID when no key this provider has opens it. */
  reseal(credentialId: string, use: SealedUse, sealed: string): Promise<string>;
  /** The key a sealed value is under; undefined for a format this provider does not know. */
  keyIdOf(sealed: string): string | undefined;
  /** The keyed HMAC of a sealed OATH secret (computes; the secret never leaves the provider). */
  hmac(credentialId: string, sealed: string, algorithm: OathAlgorithm): Promise<Hmac>;
  /** A CAP card's cryptogram engine: the ICC master key derived from the issuer's (EMV Book 2 A1.4), and the AC MAC. */
  cryptogram(credentialId: string, card: CapCardKey): Promise<CryptogramMac>;
  /** Signs an audit checkpoint's text with the current audit key (Ed25519, RFC 8032); `keyId` names its public key. */
  signAudit(message: Uint8Array): Promise<{ readonly keyId: string; readonly signature: Uint8Array }>;
  /** The audit public keys (raw Ed25519, hex) by key id — current and previous: what an offline verifier needs. */
  auditPublicKeys(): Promise<Readonly<Record<string, string>>>;
  /**
   * Signs with the current receipt key (Ed25519, RFC 8032), a key apart from the audit key: the bank's signature
   * on the documents customers and their devices keep — `capkit-receipt/1` receipts, and the `capkit-operation/1`
   * documents the app shows before an approval (each names its format in `v`, so neither verifies as the
   * other). `keyId` names its public key.
   */
  signReceipt(message: Uint8Array): Promise<{ readonly keyId: string; readonly signature: Uint8Array }>;
  /** The receipt public keys (raw Ed25519, hex) by key id — current and previous: what a customer's verifier needs. */
  receiptPublicKeys(): Promise<Readonly<Record<string, string>>>;
}
