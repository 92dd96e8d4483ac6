import { CapkitError, fromBase64, toBase64 } from "@capkit/core";

/**
 * The wire messages of `capkit-activation/1` (docs/architecture.md §10): JSON objects with exactly the members
 * of their type, bytes in base64 (RFC 4648 §4). The client sends a1, a2, a4; the bank answers b1, b2, b4, or
 * `refused` (which never says which element failed: PSD2 RTS Art. 4(3)(a)).
 *
 *   a1 {activationId, idempotencyKey, share}              pA
 *   b1 {activationId, share, confirmation}                pB, cB
 *   a2 {activationId, idempotencyKey, confirmation, box}  cA, AEAD(device key, client nonce, app version, password?)
 *   b2 {activationId, box}                                AEAD(serial, instance, server nonce, OTP parameters, bank keys)
 *   a4 {activationId, idempotencyKey, box}                AEAD(first OTP, device signature)
 *   b4 {activationId, box}                                AEAD(result)
 */
export const ACTIVATION_VERSION = "capkit-activation/1";
/** The longest message text accepted (bytes of UTF-16 code units): checked before parsing. */
export const MAX_MESSAGE_CHARS = 8192;

export type ActivationMessageType = "a1" | "b1" | "a2" | "b2" | "a4" | "b4" | "refused";

interface Header {
  readonly v: typeof ACTIVATION_VERSION;
  readonly activationId: string;
}
export interface A1 extends Header {
  readonly type: "a1";
  readonly idempotencyKey: string;
  readonly share: string;
}
export interface B1 extends Header {
  readonly type: "b1";
  readonly share: string;
  readonly confirmation: string;
}
export interface A2 extends Header {
  readonly type: "a2";
  readonly idempotencyKey: string;
  readonly confirmation: string;
  readonly box: string;
}
export interface B2 extends Header {
  readonly type: "b2";
  readonly box: string;
}
export interface A4 extends Header {
  readonly type: "a4";
  readonly idempotencyKey: string;
  readonly box: string;
}
export interface B4 extends Header {
  readonly type: "b4";
  readonly box: string;
}
export interface Refused extends Header {
  readonly type: "refused";
  /** True while the activation code may still be tried (a new run); false when it is dead. */
  readonly retry: boolean;
}
export type ActivationMessage = A1 | B1 | A2 | B2 | A4 | B4 | Refused;
export type MessageOf<T extends ActivationMessageType> = Extract<ActivationMessage, { type: T }>;

const MEMBERS: Record<ActivationMessageType, readonly string[]> = {
  a1: ["idempotencyKey", "share"],
  b1: ["share", "confirmation"],
  a2: ["idempotencyKey", "confirmation", "box"],
  b2: ["box"],
  a4: ["idempotencyKey", "box"],
  b4: ["box"],
  refused: ["retry"],
};

/** Activation ids, registration ids, idempotency keys: 128 random bits as 32 lower-case hex digits. */
export const ID_PATTERN = /^[0-9a-f]{32}$/;

function invalid(message: string): CapkitError {
  return new CapkitError("ACTIVATION_MESSAGE_INVALID", message);
}

/** Decodes a base64 member, with its exact or maximum decoded length. */
export function memberBytes(
  value: string,
  what: string,
  length: { exact?: number; max?: number },
): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(value, what);
  } catch {
    throw invalid(`${what} is not base64`);
  }
  // One encoding per value: unused padding bits or whitespace would let a changed text carry the same bytes.
  if (toBase64(bytes) !== value) throw invalid(`${what} is not canonical base64`);
  if (length.exact !== undefined && bytes.length !== length.exact)
    throw invalid(`${what} must be ${length.exact} bytes`);
  if (length.max !== undefined && bytes.length > length.max)
    throw invalid(`${what} is longer than ${length.max} bytes`);
  return bytes;
}

/**
 * Parses one message at the door: size, JSON, version, type among `expected`, exactly the type's members,
 * each of the right JSON type and form. Nothing is counted or stored for a message refused here.
 */
export function parseActivationMessage<T extends ActivationMessageType>(
  text: unknown,
  expected: readonly T[],
): MessageOf<T> {
  if (typeof text !== "string" || text.length > MAX_MESSAGE_CHARS)
    throw invalid(`a message is a JSON text of at most ${MAX_MESSAGE_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("a message is a JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid("a message is a JSON object");
  const o = value as Record<string, unknown>;
  if (o["v"] !== ACTIVATION_VERSION) throw invalid(`unknown version; this side speaks ${ACTIVATION_VERSION}`);
  const type = o["type"] as T;
  if (!expected.includes(type)) throw invalid(`expected a message of type ${expected.join(" or ")}`);
  const members = ["v", "type", "activationId", ...MEMBERS[type]];
  const keys = Object.keys(o);
  if (keys.length !== members.length || !members.every((m) => Object.hasOwn(o, m)))
    throw invalid(`a ${type} message has exactly ${members.join(", ")}`);
  if (typeof o["activationId"] !== "string" || !ID_PATTERN.test(o["activationId"]))
    throw invalid("activationId must be 32 hex digits");
  if (
    "idempotencyKey" in o &&
    (typeof o["idempotencyKey"] !== "string" || !ID_PATTERN.test(o["idempotencyKey"]))
  )
    throw invalid("idempotencyKey must be 32 hex digits");
  for (const m of ["share", "confirmation", "box"])
    if (m in o && (typeof o[m] !== "string" || (o[m] as string).length === 0))
      throw invalid(`${m} must be base64 text`);
  if ("retry" in o && typeof o["retry"] !== "boolean") throw invalid("retry must be true or false");
  return o as unknown as MessageOf<T>;
}

/** The message as sent: JSON text. */
export function encodeActivationMessage(message: ActivationMessage): string {
  return JSON.stringify(message);
}

/** The members an AEAD box's additional data covers: every member but the box itself. */
export function headerOf(message: A2 | B2 | A4 | B4): Record<string, string> {
  const { box: _, ...header } = message;
  return header as unknown as Record<string, string>;
}
