import { CapkitError, fromBase64, toBase64 } from "@capkit/core";
import { canonicalBytes } from "./canonical-json.js";
import { type OperationDocument, parseOperation } from "./operation.js";
import { checkKeyId, type Ed25519Signer, verifyEd25519 } from "./signer.js";

/**
 * An operation document signed by the bank, as the app receives it: the app renders the operation only from a
 * document whose signature verifies under a key it received inside the activation's protected channel, so a
 * man in the browser cannot show the customer one payee and have another approved.
 */
export interface SignedOperation {
  readonly operation: OperationDocument;
  readonly keyId: string;
  /** Ed25519 over the document's canonical bytes, base64. */
  readonly signature: string;
}

export async function signOperation(doc: OperationDocument, signer: Ed25519Signer): Promise<SignedOperation> {
  const operation = parseOperation(doc);
  return {
    operation,
    keyId: signer.keyId,
    signature: toBase64(await signer.sign(canonicalBytes(operation))),
  };
}

function refuse(message: string): CapkitError {
  return new CapkitError("OPERATION_SIGNATURE_INVALID", message);
}

/**
 * Checks a signed operation against the bank's keys (by key id) and returns the checked document; throws
 * OPERATION_INVALID for a malformed document, OPERATION_SIGNATURE_INVALID for anything else.
 */
export function verifySignedOperation(
  signed: unknown,
  keys: Readonly<Record<string, Uint8Array>>,
): OperationDocument {
  if (typeof signed !== "object" || signed === null) throw refuse("not a signed operation");
  const s = signed as Record<string, unknown>;
  if (Object.keys(s).length !== 3)
    throw refuse("a signed operation has exactly operation, keyId and signature");
  const operation = parseOperation(s["operation"]);
  let keyId: string;
  let signature: Uint8Array;
  try {
    keyId = checkKeyId(s["keyId"]);
    signature = fromBase64(String(s["signature"]), "signature");
  } catch {
    throw refuse("malformed key id or signature");
  }
  const key = Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  if (!key) throw refuse(`unknown key "${keyId}"`);
  if (!verifyEd25519(signature, canonicalBytes(operation), key))
    throw refuse("the bank's signature does not verify");
  return operation;
}
