import {
  argumentError,
  CapkitError,
  expectInteger,
  expectRecord,
  expectString,
  isRecord,
  toHex,
} from "@capkit/core";
import { randomBytes } from "@noble/hashes/utils.js";
import { electronicFormatIBAN, isValidIBAN } from "ibantools";
import { canonicalDigest } from "./canonical-json.js";
import {
  describeDisplayTextProblem,
  displayTextProblem,
  MAX_NAME_CHARS,
  normalizeDisplayText,
} from "./display-text.js";

/**
 * The document format's name and version, the `v` member of every operation: `capkit-operation/1`.
 *
 * @remarks
 * Operation documents `capkit-operation/1`: what a customer approves, as one canonical, versioned document
 * (PSD2 RTS Art. 5: the authentication code is specific to the amount and the payee, and any change to
 * either invalidates it; Art. 5(3)(b): a batch binds its total and its payees). The digest is SHA-256 over the
 * canonical JSON (RFC 8785 subset, canonical-json.ts), so any change of any field — one cent, one character
 * of an IBAN or a name, the currency, the account debited, the expiry — is another digest.
 */
export const OPERATION_VERSION = "capkit-operation/1";

/** What the customer approves: a transfer, a new beneficiary, a batch of transfers, a passerelle link. */
export type OperationType = "transfer" | "beneficiary-add" | "batch-transfer" | "link-activation";
/** Every {@link OperationType}. */
export const OPERATION_TYPES: readonly OperationType[] = [
  "transfer",
  "beneficiary-add",
  "batch-transfer",
  "link-activation",
];

/** An amount in minor units (cents) of an ISO 4217 alphabetic currency. */
export interface Money {
  /** Whole minor units, above 0. */
  readonly minor: number;
  /** ISO 4217 alphabetic code: `EUR`. */
  readonly currency: string;
}

/** Who receives the money. */
export interface Payee {
  /** IBAN in electronic format (no spaces, upper case), checksum valid (ISO 13616). */
  readonly iban: string;
  /**
   * 1 to 70 characters (code points; SEPA's limit), display-safe: NFC, no control, format, invisible,
   * private-use or unassigned character, one space between words (display-text.ts).
   */
  readonly name: string;
}

/** One transfer of a batch. */
export interface BatchLine extends Payee {
  /** This line's amount, in the batch total's currency. */
  readonly amount: Money;
}

/** The passerelle link being switched on (Progéliance: professional ↔ personal spaces). */
export interface LinkGrant {
  /** The space linked from (`a-z 0-9 -`, 1 to 32). */
  readonly from: string;
  /** The space linked to. */
  readonly to: string;
  /** SHA-256 (hex) of the consent text the customer was shown. */
  readonly consent: string;
}

/** The members every operation document carries. */
export interface OperationBase {
  /** Always {@link OPERATION_VERSION}. */
  readonly v: typeof OPERATION_VERSION;
  /** The bank's identifier of the operation: 1–64 of `A–Z a–z 0–9 _ -`. */
  readonly id: string;
  /** The account debited or concerned: an IBAN. */
  readonly account: string;
  /** RFC 3339 UTC, whole seconds: `2026-12-05T09:30:00Z`. */
  readonly createdAt: string;
  /** RFC 3339 UTC, whole seconds, after `createdAt` and at most 24 hours later. */
  readonly expiresAt: string;
  /** 16 random bytes, hex: two operations with the same content never share a digest. */
  readonly nonce: string;
}

/** A transfer: one payee, one amount. */
export interface TransferOperation extends OperationBase {
  /** The operation's type. */
  readonly type: "transfer";
  /** Who is paid. */
  readonly payee: Payee;
  /** How much. */
  readonly amount: Money;
}
/** A new beneficiary added to the customer's list. */
export interface BeneficiaryAddOperation extends OperationBase {
  /** The operation's type. */
  readonly type: "beneficiary-add";
  /** The beneficiary. */
  readonly payee: Payee;
}
/** A batch of transfers, approved at once by its total and its payees (RTS Art. 5(3)(b)). */
export interface BatchTransferOperation extends OperationBase {
  /** The operation's type. */
  readonly type: "batch-transfer";
  /** 1 to {@link MAX_BATCH_LINES} transfers. */
  readonly payees: readonly BatchLine[];
  /** The sum of the lines, one currency (RTS Art. 5(3)(b)). */
  readonly total: Money;
}
/** Switching on the passerelle between two of the customer's spaces. */
export interface LinkActivationOperation extends OperationBase {
  /** The operation's type. */
  readonly type: "link-activation";
  /** The link granted. */
  readonly link: LinkGrant;
}
/** Any operation document. */
export type OperationDocument =
  | TransferOperation
  | BeneficiaryAddOperation
  | BatchTransferOperation
  | LinkActivationOperation;

/** The most lines a batch document may carry. */
export const MAX_BATCH_LINES = 100;
/** The longest an operation may stay open for approval. */
export const MAX_OPERATION_LIFETIME_S = 24 * 3600;

/** The last Unix second of year 9999: a time in milliseconds (`Date.now()`) is past it, and refused. */
const MAX_UNIX_SECONDS = 253_402_300_799;

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
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Parses a document's time, RFC 3339 UTC in whole seconds; the date must exist (no 31 February).
 *
 * @example
 * ```ts
 * parseUtcSeconds("2026-12-05T09:30:00Z", "createdAt"); // 1796463000
 * ```
 * @param field - the field's name, for the error
 * @returns Unix seconds
 * @throws `OPERATION_INVALID` naming `field`
 */
export function parseUtcSeconds(value: unknown, field: string): number {
  expectString(field, "the field's name");
  const m = typeof value === "string" ? TIME.exec(value) : null;
  if (!m) throw refuse(field, "must be a UTC time like 2026-12-05T09:30:00Z");
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (new Date(ms).toISOString() !== `${m[0].slice(0, 19)}.000Z`) throw refuse(field, "is not a real time");
  return ms / 1000;
}

/**
 * Formats Unix seconds as a document writes a time: `2026-12-05T09:30:00Z` (a fraction is dropped).
 *
 * @throws `INPUT_INVALID` for anything but Unix seconds from 0 to the end of year 9999 (`Date.now()` is
 *   milliseconds)
 */
export function formatUtcSeconds(seconds: number): string {
  if (typeof seconds !== "number" || !(seconds >= 0 && seconds <= MAX_UNIX_SECONDS))
    throw argumentError("INPUT_INVALID", "the time", "Unix seconds from 0 to 253402300799", seconds);
  return `${new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19)}Z`;
}

/** A payee's name: a display-safe text (display-text.ts) of 1 to 70 characters, as the document holds it. */
function name(value: unknown, field: string): string {
  if (typeof value !== "string") throw refuse(field, `must be 1 to ${MAX_NAME_CHARS} characters`);
  const problem = displayTextProblem(value, MAX_NAME_CHARS);
  if (problem) throw refuse(field, describeDisplayTextProblem(problem));
  return value;
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
    name: name(o["name"], `${field}.name`),
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
 * lifetime of at most 24 h, a batch's total equal to the sum of its lines in one currency, payees' names
 * display-safe and already NFC (display-text.ts: never normalized here, a document parsed is taken as it was
 * signed). Returns a fresh copy holding only the checked values; throws OPERATION_INVALID naming the field.
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

/**
 * SHA-256 of the canonical document: what devices sign and receipts name.
 *
 * @throws `OPERATION_INVALID` for anything but a valid document (it is checked first)
 */
export function operationDigest(doc: OperationDocument): Uint8Array {
  return canonicalDigest(parseOperation(doc));
}

/** What the caller gives to create an operation; the version, times and nonce are filled in. */
export type OperationFields =
  | (Omit<TransferOperation, keyof OperationBase | "type"> & { readonly type: "transfer" })
  | (Omit<BeneficiaryAddOperation, keyof OperationBase | "type"> & { readonly type: "beneficiary-add" })
  | (Omit<BatchTransferOperation, keyof OperationBase | "type"> & { readonly type: "batch-transfer" })
  | (Omit<LinkActivationOperation, keyof OperationBase | "type"> & { readonly type: "link-activation" });

/** Who and when: the bank's id for the operation, the account, the time and the lifetime. */
export interface CreateOperationOptions {
  /** The bank's identifier: 1–64 of `A–Z a–z 0–9 _ -`. */
  readonly id: string;
  /** The account debited or concerned: an IBAN (spaces allowed, normalised). */
  readonly account: string;
  /** Unix seconds; the clock is the caller's. */
  readonly now: number;
  /** Seconds until expiry; 300 by default (RTS Art. 4(3)(d)'s 5 minutes). */
  readonly ttl?: number;
}

/**
 * Builds and checks a document: IBANs are normalised to electronic format first (a customer's
 * `FR76 3000 …` is accepted) and payees' names to NFC (display-text.ts: the same text, one spelling), a fresh
 * 128-bit nonce from the CSPRNG.
 *
 * @example
 * ```ts
 * const doc = createOperation(
 *   { type: "transfer", payee: { iban: "FR14 2004 1010 0505 0001 3M02 606", name: "Alice Martin" },
 *     amount: { minor: 12_550, currency: "EUR" } },
 *   { id: "op-1", account: "FR7630006000011234567890189", now: Math.floor(Date.now() / 1000) },
 * );
 * operationDigest(doc); // what the device signs
 * ```
 * @throws `OPERATION_INVALID` naming the field, `INPUT_INVALID` for mistyped options (a time in milliseconds)
 */
export function createOperation(fields: OperationFields, options: CreateOperationOptions): OperationDocument {
  const f = expectRecord<Obj>(fields, "the operation's fields", "an object", "OPERATION_INVALID");
  const o = expectRecord<Obj>(options, "the options", "an object (id, account, now, ttl?)");
  expectInteger(o["now"], "now (Unix seconds)", 0, MAX_UNIX_SECONDS);
  if (o["ttl"] !== undefined) expectInteger(o["ttl"], "ttl (seconds)", 1, MAX_OPERATION_LIFETIME_S);
  const norm = (s: unknown) => (typeof s === "string" ? (electronicFormatIBAN(s) ?? s) : s);
  const normName = (s: unknown) => (typeof s === "string" ? normalizeDisplayText(s) : s);
  const normPayee = (p: unknown) =>
    isRecord(p) ? { ...p, iban: norm(p["iban"]), ...("name" in p ? { name: normName(p["name"]) } : {}) } : p;
  const body: Obj = { ...f };
  if ("payee" in f) body["payee"] = normPayee(f["payee"]);
  if ("payees" in f && Array.isArray(f["payees"])) body["payees"] = f["payees"].map(normPayee);
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

/**
 * True while the operation may still be approved at `now` (Unix seconds).
 *
 * @throws `OPERATION_INVALID` for anything but a valid document, `INPUT_INVALID` for a time that is not Unix
 *   seconds (`Date.now()` is milliseconds)
 */
export function operationOpen(doc: OperationDocument, now: number): boolean {
  const d = parseOperation(doc);
  expectInteger(now, "now (Unix seconds)", 0, MAX_UNIX_SECONDS);
  return now >= parseUtcSeconds(d.createdAt, "createdAt") && now < parseUtcSeconds(d.expiresAt, "expiresAt");
}
