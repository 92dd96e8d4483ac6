import { CapkitError, toHex } from "@capkit/core";
import { randomBytes } from "@noble/hashes/utils.js";
import { electronicFormatIBAN, isValidIBAN } from "ibantools";
import { canonicalDigest } from "./canonical-json.js";

/**
 * Operation documents `capkit-operation/1`: what a customer approves, as one canonical, versioned document
 * (PSD2 RTS Art. 5: the authentication code is specific to the amount and the payee, and any change to
 * either invalidates it; Art. 5(3)(b): a batch binds its total and its payees). The digest is SHA-256 over the
 * canonical JSON (RFC 8785 subset, canonical-json.ts), so any change of any field — one cent, one character
 * of an IBAN or a name, the currency, the account debited, the expiry — is another digest.
 */
export const OPERATION_VERSION = "capkit-operation/1";

export type OperationType = "transfer" | "beneficiary-add" | "batch-transfer" | "link-activation";
export const OPERATION_TYPES: readonly OperationType[] = [
  "transfer",
  "beneficiary-add",
  "batch-transfer",
  "link-activation",
];

/** An amount in minor units (cents) of an ISO 4217 alphabetic currency. */
export interface Money {
  readonly minor: number;
  readonly currency: string;
}

export interface Payee {
  /** IBAN in electronic format (no spaces, upper case), checksum valid (ISO 13616). */
  readonly iban: string;
  readonly name: string;
}

export interface BatchLine extends Payee {
  readonly amount: Money;
}

/** The passerelle link being switched on (Progéliance: professional ↔ personal spaces). */
export interface LinkGrant {
  readonly from: string;
  readonly to: string;
  /** SHA-256 (hex) of the consent text the customer was shown. */
  readonly consent: string;
}

interface OperationBase {
  readonly v: typeof OPERATION_VERSION;
  /** The bank's identifier of the operation: 1–64 of `A–Z a–z 0–9 _ -`. */
  readonly id: string;
  /** The account debited or concerned: an IBAN. */
  readonly account: string;
  /** RFC 3339 UTC, whole seconds: `2026-12-05T09:30:00Z`. */
  readonly createdAt: string;
  readonly expiresAt: string;
  /** 16 random bytes, hex: two operations with the same content never share a digest. */
  readonly nonce: string;
}

export interface TransferOperation extends OperationBase {
  readonly type: "transfer";
  readonly payee: Payee;
  readonly amount: Money;
}
export interface BeneficiaryAddOperation extends OperationBase {
  readonly type: "beneficiary-add";
  readonly payee: Payee;
}
export interface BatchTransferOperation extends OperationBase {
  readonly type: "batch-transfer";
  readonly payees: readonly BatchLine[];
  /** The sum of the lines, one currency (RTS Art. 5(3)(b)). */
  readonly total: Money;
}
export interface LinkActivationOperation extends OperationBase {
  readonly type: "link-activation";
  readonly link: LinkGrant;
}
export type OperationDocument =
  | TransferOperation
  | BeneficiaryAddOperation
  | BatchTransferOperation
  | LinkActivationOperation;

/** The most lines a batch document may carry. */
export const MAX_BATCH_LINES = 100;
/** The longest an operation may stay open for approval. */
export const MAX_OPERATION_LIFETIME_S = 24 * 3600;

function refuse(field: string, message: string): CapkitError {
  return new CapkitError("OPERATION_INVALID", `${field}: ${message}`, { details: { field } });
}

type Obj = Record<string, unknown>;

function object(value: unknown, field: string, keys: readonly string[]): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw refuse(field, "must be an object");
  const have = Object.keys(value);
  for (const k of have)
    if (!keys.includes(k)) throw refuse(`${field}.${k}`, "is not a member of this object");
  for (const k of keys) if (!(k in value)) throw refuse(`${field}.${k}`, "is missing");
  return value as Obj;
}

function text(value: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof value !== "string" || !pattern.test(value)) throw refuse(field, `must be ${what}`);
  return value;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const NONCE = /^[0-9a-f]{32}$/;
const CURRENCY = /^[A-Z]{3}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SPACE_NAME = /^[a-z0-9-]{1,32}$/;
/** A payee name: 1–70 characters (SEPA's limit), no control characters, no leading or trailing space. */
const NAME = /^[^\p{Cc}\s](?:[^\p{Cc}]{0,68}[^\p{Cc}\s])?$/u;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Parses RFC 3339 UTC whole seconds; the date must exist (no 31 February). Unix seconds. */
export function parseUtcSeconds(value: unknown, field: string): number {
  const m = typeof value === "string" ? TIME.exec(value) : null;
  if (!m) throw refuse(field, "must be a UTC time like 2026-12-05T09:30:00Z");
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (new Date(ms).toISOString() !== `${m[0].slice(0, 19)}.000Z`) throw refuse(field, "is not a real time");
  return ms / 1000;
}

/** Formats Unix seconds as the document's time format. */
export function formatUtcSeconds(seconds: number): string {
  return `${new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19)}Z`;
}

function iban(value: unknown, field: string): string {
  if (typeof value !== "string" || !isValidIBAN(value))
    throw refuse(field, "must be a valid IBAN in electronic format (no spaces, checksum correct)");
  return value;
}

function money(value: unknown, field: string): Money {
  const o = object(value, field, ["minor", "currency"]);
  const minor = o["minor"];
  if (typeof minor !== "number" || !Number.isSafeInteger(minor) || minor <= 0)
    throw refuse(`${field}.minor`, "must be a whole number of minor units above 0");
  return { minor, currency: text(o["currency"], `${field}.currency`, CURRENCY, "an ISO 4217 code like EUR") };
}

function payee(value: unknown, field: string, withAmount: boolean): BatchLine | Payee {
  const o = object(value, field, withAmount ? ["iban", "name", "amount"] : ["iban", "name"]);
  const p = {
    iban: iban(o["iban"], `${field}.iban`),
    name: text(o["name"], `${field}.name`, NAME, "1 to 70 characters"),
  };
  return withAmount ? { ...p, amount: money(o["amount"], `${field}.amount`) } : p;
}

const COMMON = ["v", "type", "id", "account", "createdAt", "expiresAt", "nonce"] as const;
const MEMBERS: Record<OperationType, readonly string[]> = {
  transfer: [...COMMON, "payee", "amount"],
  "beneficiary-add": [...COMMON, "payee"],
  "batch-transfer": [...COMMON, "payees", "total"],
  "link-activation": [...COMMON, "link"],
};

/**
 * Checks a document at the door: exact members for its type, every value well-formed, times ordered and a
 * lifetime of at most 24 h, a batch's total equal to the sum of its lines in one currency. Returns a fresh
 * copy holding only the checked values; throws OPERATION_INVALID naming the field.
 */
export function parseOperation(input: unknown): OperationDocument {
  const type = (input as Obj | null)?.["type"];
  if (typeof type !== "string" || !OPERATION_TYPES.includes(type as OperationType))
    throw refuse("type", `must be one of ${OPERATION_TYPES.join(", ")}`);
  const t = type as OperationType;
  const o = object(input, "operation", MEMBERS[t]);
  if (o["v"] !== OPERATION_VERSION) throw refuse("v", `must be "${OPERATION_VERSION}"`);
  const created = parseUtcSeconds(o["createdAt"], "createdAt");
  const expires = parseUtcSeconds(o["expiresAt"], "expiresAt");
  if (expires <= created || expires - created > MAX_OPERATION_LIFETIME_S)
    throw refuse("expiresAt", "must be after createdAt, at most 24 hours later");
  const base = {
    v: OPERATION_VERSION,
    id: text(o["id"], "id", ID, "1 to 64 letters, digits, _ or -"),
    account: iban(o["account"], "account"),
    createdAt: o["createdAt"] as string,
    expiresAt: o["expiresAt"] as string,
    nonce: text(o["nonce"], "nonce", NONCE, "32 lower-case hex digits"),
  } as const;
  switch (t) {
    case "transfer":
      return {
        ...base,
        type: t,
        payee: payee(o["payee"], "payee", false),
        amount: money(o["amount"], "amount"),
      };
    case "beneficiary-add":
      return { ...base, type: t, payee: payee(o["payee"], "payee", false) };
    case "link-activation": {
      const l = object(o["link"], "link", ["from", "to", "consent"]);
      const link = {
        from: text(l["from"], "link.from", SPACE_NAME, "a space name (a–z, 0–9, -)"),
        to: text(l["to"], "link.to", SPACE_NAME, "a space name (a–z, 0–9, -)"),
        consent: text(
          l["consent"],
          "link.consent",
          SHA256_HEX,
          "the SHA-256 of the consent text, lower-case hex",
        ),
      };
      if (link.from === link.to) throw refuse("link.to", "must differ from link.from");
      return { ...base, type: t, link };
    }
    case "batch-transfer": {
      const lines = o["payees"];
      if (!Array.isArray(lines) || lines.length === 0 || lines.length > MAX_BATCH_LINES)
        throw refuse("payees", `must list 1 to ${MAX_BATCH_LINES} payees`);
      const payees = lines.map((p, i) => payee(p, `payees[${i}]`, true) as BatchLine);
      const total = money(o["total"], "total");
      let sum = 0;
      for (const [i, p] of payees.entries()) {
        if (p.amount.currency !== total.currency)
          throw refuse(`payees[${i}].amount.currency`, "must be the total's currency");
        sum += p.amount.minor;
        if (!Number.isSafeInteger(sum)) throw refuse("total", "the sum of the lines is too large");
      }
      if (sum !== total.minor) throw refuse("total.minor", "must equal the sum of the lines");
      return { ...base, type: t, payees, total };
    }
  }
}

/** SHA-256 of the canonical document: what devices sign and receipts name. */
export function operationDigest(doc: OperationDocument): Uint8Array {
  return canonicalDigest(parseOperation(doc));
}

/** What the caller gives to create an operation; the version, times and nonce are filled in. */
export type OperationFields =
  | (Omit<TransferOperation, keyof OperationBase | "type"> & { readonly type: "transfer" })
  | (Omit<BeneficiaryAddOperation, keyof OperationBase | "type"> & { readonly type: "beneficiary-add" })
  | (Omit<BatchTransferOperation, keyof OperationBase | "type"> & { readonly type: "batch-transfer" })
  | (Omit<LinkActivationOperation, keyof OperationBase | "type"> & { readonly type: "link-activation" });

export interface CreateOperationOptions {
  readonly id: string;
  readonly account: string;
  /** Unix seconds; the clock is the caller's. */
  readonly now: number;
  /** Seconds until expiry; 300 by default (RTS Art. 4(3)(d)'s 5 minutes). */
  readonly ttl?: number;
}

/**
 * Builds and checks a document: IBANs are normalised to electronic format first (a customer's `FR76 3000
 * …` is accepted), a fresh 128-bit nonce from the CSPRNG.
 */
export function createOperation(fields: OperationFields, options: CreateOperationOptions): OperationDocument {
  const norm = (s: string) => electronicFormatIBAN(s) ?? s;
  const normPayee = <P extends Payee>(p: P): P => ({ ...p, iban: norm(p.iban) });
  const body: Obj = { ...fields };
  if ("payee" in fields) body["payee"] = normPayee(fields.payee);
  if ("payees" in fields) body["payees"] = fields.payees.map(normPayee);
  return parseOperation({
    ...body,
    v: OPERATION_VERSION,
    id: options.id,
    account: norm(options.account),
    createdAt: formatUtcSeconds(options.now),
    expiresAt: formatUtcSeconds(options.now + (options.ttl ?? 300)),
    nonce: toHex(randomBytes(16)).toLowerCase(),
  });
}

/** True while the operation may still be approved at `now` (Unix seconds). */
export function operationOpen(doc: OperationDocument, now: number): boolean {
  return (
    now >= parseUtcSeconds(doc.createdAt, "createdAt") && now < parseUtcSeconds(doc.expiresAt, "expiresAt")
  );
}
