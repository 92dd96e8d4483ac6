import { CapkitError, fromHex, toBase64 } from "@capkit/core";
import {
  canonicalJson,
  formatUtcSeconds,
  type OperationDocument,
  parseReceipt,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptEvidence,
  type ReceiptKeys,
  receiptDigest,
  type SignedOperation,
  type SignedReceipt,
} from "@capkit/provision";
import type { KeyProvider } from "../key-provider.js";
import type { OperationRecord, ReceiptHead, StoredReceipt } from "../security-model.js";

/**
 * Receipts `capkit-receipt/1` (@capkit/provision) made on the bank's side: built inside the decision's atomic
 * write from the user's chain head — so two decisions of one user never name the same previous receipt — and
 * signed right after it by the key provider's receipt key (an HSM-shaped call). A receipt whose signing did not
 * happen (the process died after the write) is signed when next read: its content is fixed by then.
 */

/** The receipt of a decision, at the head of the user's chain: canonical JSON, its digest, its time (s). */
export function buildReceipt(
  o: OperationRecord,
  result: "approved" | "declined",
  evidence: ReceiptEvidence,
  head: ReceiptHead,
  at: number,
): { body: string; digest: string; time: number } {
  // Never before the previous receipt's time: servers' clocks differ, and a chain's time never goes back.
  const time = Math.max(Math.floor(at / 1000), head.time);
  const receipt: Receipt = parseReceipt({
    v: RECEIPT_VERSION,
    operationDigest: o.digest,
    user: o.user,
    credential: o.credential,
    method: o.method,
    evidence,
    result,
    time: formatUtcSeconds(time),
    previous: head.digest,
  });
  return { body: canonicalJson(receipt), digest: receiptDigest(receipt), time };
}

/**
 * The stored receipt with the bank's signature, signing it now (and storing that) if it had none — only if its
 * body is still the one its digest names (the digest the user's next receipt chains to): the bank never signs
 * a receipt changed in the database while it waited for its signature.
 */
export async function signedReceipt(
  stored: StoredReceipt,
  keys: KeyProvider,
  store: { signReceipt(operation: string, keyId: string, signature: string): Promise<void> },
): Promise<SignedReceipt> {
  let receipt: Receipt;
  try {
    receipt = parseReceipt(JSON.parse(stored.body));
  } catch {
    throw changed(stored);
  }
  if (receiptDigest(receipt) !== stored.digest || canonicalJson(receipt) !== stored.body)
    throw changed(stored);
  if (stored.keyId !== undefined && stored.signature !== undefined)
    return { receipt, keyId: stored.keyId, signature: stored.signature };
  const { keyId, signature } = await keys.signReceipt(utf8(stored.body));
  const text = toBase64(signature);
  await store.signReceipt(stored.operation, keyId, text);
  return { receipt, keyId, signature: text };
}

function changed(stored: StoredReceipt): CapkitError {
  return new CapkitError(
    "RECEIPT_INVALID",
    `the receipt of operation ${stored.operation} no longer matches its digest`,
    {
      hint: "the stored receipt was changed outside capkit: it is not signed or shown; compare it with the audit trail",
      details: { operation: stored.operation },
    },
  );
}

/** The operation document signed by the bank's receipt key: what the app verifies before it shows anything. */
export async function signedOperation(doc: OperationDocument, keys: KeyProvider): Promise<SignedOperation> {
  const { keyId, signature } = await keys.signReceipt(utf8(canonicalJson(doc)));
  return { operation: doc, keyId, signature: toBase64(signature) };
}

/** The key provider's receipt public keys as `verifyReceipt` and `verifySignedOperation` take them. */
export async function receiptKeysOf(keys: KeyProvider): Promise<ReceiptKeys> {
  return Object.fromEntries(
    Object.entries(await keys.receiptPublicKeys()).map(([id, hex]) => [id, fromHex(hex)]),
  );
}

const encoder = new TextEncoder();
function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
