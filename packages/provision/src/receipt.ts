import { CapkitError, fromBase64, toBase64, toHex } from "@capkit/core";
import { sha256 } from "@noble/hashes/sha2.js";
import { canonicalBytes } from "./canonical-json.js";
import { parseUtcSeconds } from "./operation.js";
import { checkKeyId, type Ed25519Signer, verifyEd25519 } from "./signer.js";

/**
 * Receipts `capkit-receipt/1`: every approval and every decline gives one, signed by the bank (Ed25519,
 * through an HSM-shaped signer) over its canonical JSON (RFC 8785 subset). Each names the previous receipt of
 * the same user by digest, so a user's receipts form a chain: removing, reordering or changing one breaks it.
 * Anyone with the bank's public key checks them offline, in Node or in a browser.
 */
export const RECEIPT_VERSION = "capkit-receipt/1";

export type ApprovalMethod = "device" | "ocra" | "cap-sign";
export type ApprovalResult = "approved" | "declined";

/** What proves the customer's decision, by method: the device signature's digest, the OATH counter, the ATC. */
export type ReceiptEvidence =
  | { readonly signatureDigest: string }
  | { readonly counter: number }
  | { readonly atc: number };

export interface Receipt {
  readonly v: typeof RECEIPT_VERSION;
  /** SHA-256 of the operation document, hex. */
  readonly operationDigest: string;
  readonly user: string;
  readonly credential: string;
  readonly method: ApprovalMethod;
  readonly evidence: ReceiptEvidence;
  readonly result: ApprovalResult;
  /** RFC 3339 UTC, whole seconds. */
  readonly time: string;
  /** The digest (hex) of the user's previous receipt, or null for the first. */
  readonly previous: string | null;
}

export interface SignedReceipt {
  readonly receipt: Receipt;
  readonly keyId: string;
  /** Ed25519 signature over the receipt's canonical bytes, base64. */
  readonly signature: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SUBJECT = /^[\x21-\x7e]{1,128}$/;
const METHODS: readonly ApprovalMethod[] = ["device", "ocra", "cap-sign"];

function refuse(field: string, message: string): CapkitError {
  return new CapkitError("RECEIPT_INVALID", `${field}: ${message}`, { details: { field } });
}

function exact(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw refuse(field, "must be an object");
  const o = value as Record<string, unknown>;
  const have = Object.keys(o);
  if (have.length !== keys.length || !keys.every((k) => k in o))
    throw refuse(field, `must have exactly ${keys.join(", ")}`);
  return o;
}

function evidence(value: unknown, method: ApprovalMethod): ReceiptEvidence {
  const key = method === "device" ? "signatureDigest" : method === "ocra" ? "counter" : "atc";
  const o = exact(value, "evidence", [key]);
  const v = o[key];
  if (key === "signatureDigest") {
    if (typeof v !== "string" || !HEX64.test(v))
      throw refuse("evidence.signatureDigest", "must be 64 hex digits");
    return { signatureDigest: v };
  }
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw refuse(`evidence.${key}`, "must be a whole number");
  return key === "counter" ? { counter: v } : { atc: v };
}

/** Checks a receipt's shape at the door; returns a copy with only the checked values. */
export function parseReceipt(value: unknown): Receipt {
  const o = exact(value, "receipt", [
    "v",
    "operationDigest",
    "user",
    "credential",
    "method",
    "evidence",
    "result",
    "time",
    "previous",
  ]);
  if (o["v"] !== RECEIPT_VERSION) throw refuse("v", `must be "${RECEIPT_VERSION}"`);
  const digest = o["operationDigest"];
  if (typeof digest !== "string" || !HEX64.test(digest))
    throw refuse("operationDigest", "must be 64 hex digits");
  for (const f of ["user", "credential"])
    if (typeof o[f] !== "string" || !SUBJECT.test(o[f] as string))
      throw refuse(f, "must be 1 to 128 printable ASCII characters");
  const method = o["method"] as ApprovalMethod;
  if (!METHODS.includes(method)) throw refuse("method", `must be one of ${METHODS.join(", ")}`);
  const result = o["result"];
  if (result !== "approved" && result !== "declined") throw refuse("result", "must be approved or declined");
  try {
    parseUtcSeconds(o["time"], "time");
  } catch {
    throw refuse("time", "must be a UTC time like 2026-12-05T09:30:00Z");
  }
  const previous = o["previous"];
  if (previous !== null && (typeof previous !== "string" || !HEX64.test(previous)))
    throw refuse("previous", "must be 64 hex digits or null");
  return {
    v: RECEIPT_VERSION,
    operationDigest: digest,
    user: o["user"] as string,
    credential: o["credential"] as string,
    method,
    evidence: evidence(o["evidence"], method),
    result,
    time: o["time"] as string,
    previous: previous as string | null,
  };
}

/** The receipt's digest (SHA-256 of its canonical bytes), hex: what the next receipt names as `previous`. */
export function receiptDigest(receipt: Receipt): string {
  return toHex(sha256(canonicalBytes(parseReceipt(receipt)))).toLowerCase();
}

/** Signs a receipt with the bank's key (the signer may be an HSM). */
export async function signReceipt(receipt: Receipt, signer: Ed25519Signer): Promise<SignedReceipt> {
  const checked = parseReceipt(receipt);
  const signature = await signer.sign(canonicalBytes(checked));
  return { receipt: checked, keyId: signer.keyId, signature: toBase64(signature) };
}

/** Why a receipt or a chain does not verify. */
export type ReceiptFailure =
  | "malformed"
  | "unknown-key"
  | "bad-signature"
  | "broken-chain"
  | "other-user"
  | "out-of-order";

export type ReceiptVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: ReceiptFailure; readonly index?: number };

/** The bank's receipt public keys by key id (a rotation keeps the old ones for old receipts). */
export type ReceiptKeys = Readonly<Record<string, Uint8Array>>;

function verifyOne(signed: unknown, keys: ReceiptKeys): ReceiptVerdict & { receipt?: Receipt } {
  let receipt: Receipt;
  let signature: Uint8Array;
  let keyId: string;
  try {
    const o = exact(signed, "signed receipt", ["receipt", "keyId", "signature"]);
    receipt = parseReceipt(o["receipt"]);
    keyId = checkKeyId(o["keyId"]);
    if (typeof o["signature"] !== "string") throw refuse("signature", "must be base64");
    signature = fromBase64(o["signature"], "signature");
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const key = Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  if (!key) return { ok: false, reason: "unknown-key" };
  if (!verifyEd25519(signature, canonicalBytes(receipt), key)) return { ok: false, reason: "bad-signature" };
  return { ok: true, receipt };
}

/** Checks one receipt offline: its shape, its key id and its Ed25519 signature. */
export function verifyReceipt(signed: unknown, keys: ReceiptKeys): ReceiptVerdict {
  const { receipt: _, ...verdict } = verifyOne(signed, keys);
  return verdict;
}

/**
 * Checks a user's chain offline, oldest first: every receipt verifies, all are the same user's, each names the
 * previous one's digest (the first names `anchor`, null for the user's first receipt ever), and time never goes
 * back. A removed, inserted, reordered or changed receipt fails with the index where the chain breaks.
 */
export function verifyReceiptChain(
  chain: readonly unknown[],
  keys: ReceiptKeys,
  anchor: string | null = null,
): ReceiptVerdict {
  let previous = anchor;
  let user: string | undefined;
  let time = Number.NEGATIVE_INFINITY;
  for (const [index, signed] of chain.entries()) {
    const one = verifyOne(signed, keys);
    if (!one.ok) return { ok: false, reason: one.reason, index };
    const r = one.receipt!;
    if (user !== undefined && r.user !== user) return { ok: false, reason: "other-user", index };
    user = r.user;
    if (r.previous !== previous) return { ok: false, reason: "broken-chain", index };
    const t = parseUtcSeconds(r.time, "time");
    if (t < time) return { ok: false, reason: "out-of-order", index };
    time = t;
    previous = receiptDigest(r);
  }
  return { ok: true };
}

/** The hex digest of a device signature, the evidence a `device` receipt carries. */
export function signatureDigest(signature: Uint8Array): string {
  return toHex(sha256(signature)).toLowerCase();
}
