import { createHash, createPublicKey, verify } from "node:crypto";
import type { AuditCheckpoint } from "../model.js";

/**
 * What a checkpoint's signature covers: every field but the signature and the key id (a checkpoint given another
 * key id is checked under that key, and fails), in a fixed text form.
 */
export function checkpointText(cp: Omit<AuditCheckpoint, "signature" | "keyId">): string {
  const heads = [...cp.heads].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  return [
    "capkit-audit-checkpoint/1",
    `seq ${cp.seq}`,
    `at ${cp.at}`,
    `from ${cp.from}`,
    `to ${cp.to}`,
    `observed ${cp.observed}`,
    `pruned-before ${cp.prunedBefore ?? "-"}`,
    `prev ${cp.prev}`,
    ...heads.map((h) => `head ${h.n} ${h.hash} ${h.chain}`),
    "",
  ].join("\n");
}

/** A checkpoint's hash (hex): what the next one names as `prev`. */
export function checkpointHash(cp: AuditCheckpoint): string {
  return createHash("sha256").update(checkpointText(cp), "utf8").update(cp.signature, "utf8").digest("hex");
}

export const FIRST_PREV = "0".repeat(64);

/** SPKI DER prefix of an Ed25519 public key (RFC 8410 §4): the raw 32 bytes follow it. */
const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");

/** Whether `signature` is a valid Ed25519 signature of the checkpoint by the raw public key (hex). */
export function checkpointSignatureValid(cp: AuditCheckpoint, publicKeyHex: string): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI, Buffer.from(publicKeyHex, "hex")]),
      format: "der",
      type: "spki",
    });
    return verify(null, Buffer.from(checkpointText(cp), "utf8"), key, Buffer.from(cp.signature, "base64"));
  } catch {
    return false;
  }
}

/** The raw Ed25519 public key (hex) of an SPKI DER key (node:crypto's export). */
export function rawEd25519(spkiDer: Uint8Array): string {
  return Buffer.from(spkiDer).subarray(ED25519_SPKI.length).toString("hex");
}

/** A signing key's id (audit checkpoints, receipts): 8 hex digits of SHA-256 of its raw public key. */
export function auditKeyId(publicKeyHex: string): string {
  return createHash("sha256").update(Buffer.from(publicKeyHex, "hex")).digest("hex").slice(0, 8);
}
