import { createHmac } from "node:crypto";
import type { AuditEntry, CredentialParams, FailureSubject, StoredCredential } from "../model.js";

/**
 * The tables, for SQLite and PostgreSQL (same columns; PostgreSQL types where they differ). Challenges are
 * deleted when used or expired, so their table stays bounded; the audit trail is kept until `pruneAudit`.
 * `unknown_subjects` counts the failures of ids and users nobody enrolled, under a keyed hash of the id
 * (what people type into an id field is sometimes their password); each count carries the sequence number it
 * was made with, and those more than the bound behind the newest are deleted: the oldest go first, and the
 * table never holds more rows than the bound. `meta` holds the hash's key.
 */
const COMMON = (t: { bool: string; big: string; serial: string; json: string; no: string }) => `
CREATE TABLE IF NOT EXISTS credentials (
  id TEXT PRIMARY KEY,
  params ${t.json} NOT NULL,
  sealed TEXT,
  last ${t.big} NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  locked ${t.bool} NOT NULL DEFAULT ${t.no},
  created_at ${t.big} NOT NULL,
  state TEXT NOT NULL DEFAULT 'active',
  user_id TEXT,
  drift INTEGER,
  replaces TEXT,
  version ${t.big} NOT NULL DEFAULT 0,
  accepted_at ${t.big},
  accepted_digest TEXT,
  accepted_request TEXT,
  locked_at ${t.big}
);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  failures INTEGER NOT NULL DEFAULT 0,
  locked ${t.bool} NOT NULL DEFAULT ${t.no},
  locked_at ${t.big}
);
CREATE TABLE IF NOT EXISTS challenges (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  function TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS unknown_subjects (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked ${t.bool} NOT NULL,
  locked_at ${t.big},
  seq ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq ${t.serial} PRIMARY KEY,
  at ${t.big} NOT NULL,
  credential_id TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  counter ${t.big},
  detail TEXT,
  user_id TEXT
);
`;

/** Indexes, created after the columns a 0.1 database lacks have been added (see `COLUMNS_ADDED`). */
export const INDEXES_SQL = `
CREATE INDEX IF NOT EXISTS credentials_user ON credentials (user_id, id);
CREATE INDEX IF NOT EXISTS challenges_expiry ON challenges (expires_at);
CREATE INDEX IF NOT EXISTS challenges_credential ON challenges (credential_id, expires_at);
CREATE INDEX IF NOT EXISTS audit_credential ON audit (credential_id, seq);
CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS unknown_subjects_by_seq ON unknown_subjects (seq);
`;

/**
 * Columns added since the first schema (0.1): a database created then is brought up to date on open. A 0.1
 * challenges table keeps its unused `used` column (challenges are now deleted when taken).
 */
export const COLUMNS_ADDED: readonly { table: string; column: string; definition: string }[] = [
  { table: "credentials", column: "state", definition: "TEXT NOT NULL DEFAULT 'active'" },
  { table: "credentials", column: "user_id", definition: "TEXT" },
  { table: "credentials", column: "drift", definition: "INTEGER" },
  { table: "credentials", column: "replaces", definition: "TEXT" },
  { table: "credentials", column: "version", definition: "BIGINT NOT NULL DEFAULT 0" },
  { table: "credentials", column: "accepted_at", definition: "BIGINT" },
  { table: "credentials", column: "accepted_digest", definition: "TEXT" },
  { table: "credentials", column: "accepted_request", definition: "TEXT" },
  { table: "credentials", column: "locked_at", definition: "BIGINT" },
  { table: "users", column: "locked_at", definition: "BIGINT" },
  { table: "audit", column: "user_id", definition: "TEXT" },
];

export const SCHEMA_SQLITE = COMMON({
  bool: "INTEGER",
  big: "INTEGER",
  serial: "INTEGER",
  json: "TEXT",
  no: "0",
}).replace("seq INTEGER PRIMARY KEY", "seq INTEGER PRIMARY KEY AUTOINCREMENT");

export const SCHEMA_POSTGRES =
  COMMON({
    bool: "BOOLEAN",
    big: "BIGINT",
    serial: "BIGSERIAL",
    json: "JSONB",
    no: "FALSE",
  }) +
  COLUMNS_ADDED.map(
    (c) => `ALTER TABLE ${c.table} ADD COLUMN IF NOT EXISTS ${c.column} ${c.definition};`,
  ).join("\n") +
  INDEXES_SQL +
  "CREATE SEQUENCE IF NOT EXISTS unknown_subjects_seq;\n";

/**
 * A credential with the failure count and lock of its lockout subject (its user's, for one that belongs to a
 * user): `WHERE` and `ORDER BY` clauses follow.
 */
export const CREDENTIAL_SELECT =
  "SELECT c.*, u.failures AS user_failures, u.locked AS user_locked, u.locked_at AS user_locked_at FROM credentials c LEFT JOIN users u ON u.id = c.user_id";

/** The columns a new credential's row is written with, in the order of `credentialValues`. */
export const CREDENTIAL_COLUMNS = "id, params, sealed, last, created_at, state, user_id, replaces, version";

/** A credential as the values of `CREDENTIAL_COLUMNS` (the inverse of `rowToCredential`). */
export function credentialValues(c: StoredCredential): unknown[] {
  return [
    c.id,
    JSON.stringify(c.params),
    c.sealed ?? null,
    c.last,
    c.createdAt,
    c.state,
    c.user ?? null,
    c.replaces ?? null,
    c.version,
  ];
}

export function rowToCredential(row: Record<string, unknown>): StoredCredential {
  const params =
    typeof row["params"] === "string"
      ? (JSON.parse(row["params"]) as CredentialParams)
      : (row["params"] as CredentialParams);
  const opt = (v: unknown) => (v === null || v === undefined ? undefined : v);
  const ofUser = opt(row["user_failures"]) !== undefined;
  const locked = ofUser ? row["user_locked"] : row["locked"];
  return {
    id: String(row["id"]),
    params,
    sealed: (opt(row["sealed"]) as string | undefined) ?? undefined,
    last: Number(row["last"]),
    failures: Number(ofUser ? row["user_failures"] : row["failures"]),
    locked: locked === true || locked === 1,
    lockedAt: optNumber(ofUser ? row["user_locked_at"] : row["locked_at"]),
    createdAt: Number(row["created_at"]),
    state: row["state"] === "disabled" ? "disabled" : "active",
    user: opt(row["user_id"]) as string | undefined,
    drift: opt(row["drift"]) === undefined ? undefined : Number(row["drift"]),
    replaces: opt(row["replaces"]) as string | undefined,
    acceptedAt: opt(row["accepted_at"]) === undefined ? undefined : Number(row["accepted_at"]),
    acceptedDigest: opt(row["accepted_digest"]) as string | undefined,
    acceptedRequest: opt(row["accepted_request"]) as string | undefined,
    version: Number(row["version"] ?? 0),
  };
}

function optNumber(v: unknown): number | undefined {
  return v === null || v === undefined ? undefined : Number(v);
}

/** The `meta` row holding the key of the unknown subjects' hash (random, made by the first process). */
export const UNKNOWN_KEY_NAME = "unknown-subject-key";

/** An unknown subject's row key: HMAC-SHA-256 of the id under the store's own key, never the id itself. */
export function unknownSubjectKey(key: Buffer, subject: FailureSubject): string {
  const name = "user" in subject ? `user\0${subject.user}` : `credential\0${subject.credential}`;
  return createHmac("sha256", key).update(name).digest("base64url");
}

/** An audit row as SQLite or PostgreSQL return it (PostgreSQL BIGINTs come back as strings). */
export function rowToAudit(row: Record<string, unknown>): AuditEntry {
  return {
    at: Number(row["at"]),
    credentialId: String(row["credential_id"]),
    action: row["action"] as AuditEntry["action"],
    result: String(row["result"]),
    ...(row["counter"] === null ? {} : { counter: Number(row["counter"]) }),
    ...(row["detail"] === null ? {} : { detail: String(row["detail"]) }),
    ...(row["user_id"] === null ? {} : { user: String(row["user_id"]) }),
  };
}
