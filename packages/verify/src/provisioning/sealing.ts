import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { CapkitError, fromBase64, toBase64 } from "@capkit/core";
import type { KeyProvider } from "../key-provider.js";

/**
 * An activation's secrets at rest: the SPAKE2 w, then the run's keys (Ke, the transcript hash, the confirmation
 * expected) and a web-session code while it may still be used — never an SMS or letter code, never a seed.
 * Each activation has its own random 32-byte key, sealed by the KeyProvider as an HMAC key bound to the
 * activation (a provider never hands a key back: it computes with it); the secrets are AES-256-GCM under
 * HMAC-SHA-256(that key, "capkit-activation secrets/1"), with the activation id as associated data (a box copied
 * onto another activation does not open). A database alone opens nothing; with a PKCS#11 provider the
 * activation key is in the token, which computes the HMAC.
 */
export interface ActivationSecretsAtRest {
  /** The SPAKE2 secret w (hex), "" once consumed or dead. */
  readonly w: string;
  readonly run?: { readonly ke: string; readonly th: string; readonly confirmA?: string };
  /** The web-session code, for a retried start to show the same QR (while w is alive). */
  readonly webSession?: string;
}

const LABEL = "capkit-activation secrets/1";
const binding = (activationId: string) => `activation:${activationId}`;

function boxKey(activationKey: Uint8Array): Buffer {
  return createHmac("sha256", activationKey).update(LABEL).digest();
}

/** A new activation's key: sealed for the row, and the box key derived from it while it is in memory. */
export async function newActivationKey(
  keys: KeyProvider,
  activationId: string,
): Promise<{ sealed: string; key: Buffer }> {
  const k = randomBytes(32);
  try {
    return { sealed: await keys.seal(binding(activationId), "hmac", k), key: boxKey(k) };
  } finally {
    k.fill(0);
  }
}

/** The box key of a stored activation, computed by the provider (KEY_INVALID when it cannot open the key). */
export async function activationKey(
  keys: KeyProvider,
  activationId: string,
  sealed: string,
): Promise<Buffer> {
  const hmac = await keys.hmac(binding(activationId), sealed, "SHA256");
  return Buffer.from(hmac.mac(new TextEncoder().encode(LABEL)));
}

/** Seals the secrets; undefined when there is nothing left to keep (then the row holds none). */
export function sealSecrets(
  key: Buffer,
  activationId: string,
  secrets: ActivationSecretsAtRest,
): string | undefined {
  if (secrets.w === "" && secrets.run === undefined) return undefined;
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(binding(activationId), "utf8"));
  const ct = Buffer.concat([c.update(JSON.stringify(secrets), "utf8"), c.final()]);
  return toBase64(Buffer.concat([iv, ct, c.getAuthTag()]));
}

export function openSecrets(key: Buffer, activationId: string, box: string): ActivationSecretsAtRest {
  const raw = fromBase64(box);
  try {
    const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(binding(activationId), "utf8"));
    d.setAuthTag(raw.subarray(raw.length - 16));
    const text = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString("utf8");
    return JSON.parse(text) as ActivationSecretsAtRest;
  } catch {
    throw new CapkitError("KEY_INVALID", `activation ${activationId}: its secrets do not open with this key`);
  }
}
