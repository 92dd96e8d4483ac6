import { CapkitError } from "@capkit/core";
import type { SealedUse } from "../key-provider.js";

/**
 * A sealed value as stored: `<scheme>:<key id>:<body>` — the scheme says which provider sealed it and how, the
 * key id which of its keys (rotation), the body is the provider's. The 0.1 format `v1:<body>` had no key id.
 */
export interface SealedParts {
  readonly scheme: string;
  readonly keyId: string;
  readonly body: string;
}

export function sealedParts(sealed: unknown): SealedParts | undefined {
  if (typeof sealed !== "string") return undefined;
  const parts = sealed.split(":");
  if (parts.length === 2 && parts[0] === "v1" && parts[1])
    return { scheme: "v1", keyId: "v1", body: parts[1] };
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined;
  return { scheme: parts[0], keyId: parts[1], body: parts[2] };
}

/**
 * What a seal is bound to (AES-GCM associated data, or the MAC input of a wrapped key): the format, the use and
 * the credential id, NUL-separated (ids have no NUL: https://github.com/capkit/capkit/blob/main/docs/architecture.md §6).
 */
export function sealBinding(use: SealedUse, credentialId: string): Buffer {
  return Buffer.from(`capkit-seal/2\0${use}\0${credentialId}`, "utf8");
}

/** A card's PAN: opened from its seal, or as stored in clear by a database written before PANs were sealed. */
export function openedPan(
  pan: { readonly sealed: string } | string,
  open: (sealed: string) => Uint8Array,
): string {
  if (typeof pan === "string") return pan;
  const bytes = open(pan.sealed);
  const text = Buffer.from(bytes).toString("ascii");
  bytes.fill(0);
  if (!/^[0-9]{8,19}$/.test(text)) throw new CapkitError("KEY_INVALID", "a sealed PAN did not open to a PAN");
  return text;
}

/** Simulated cards' test issuer keys are a test set-up: refused unless the provider was told to allow them. */
export function checkTestKeysAllowed(allowed: boolean): void {
  if (!allowed)
    throw new CapkitError(
      "KEY_INVALID",
      "this CAP record carries a test key in clear; allowTestKeys is off",
      {
        hint: "production records reference an issuer key the key provider holds",
      },
    );
}
