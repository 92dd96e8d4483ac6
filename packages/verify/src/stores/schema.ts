import type { CredentialParams, StoredCredential } from "../model.js";

/** The three tables, for SQLite and PostgreSQL (same columns; PostgreSQL types where they differ). */
export const SCHEMA_SQLITE = `
CREATE TABLE IF NOT EXISTS credentials (
  id TEXT PRIMARY KEY,
  params TEXT NOT NULL,
  sealed TEXT,
  last INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS challenges (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  function TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  credential_id TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  counter INTEGER,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_credential ON audit (credential_id, seq);
`;

export const SCHEMA_POSTGRES = `
CREATE TABLE IF NOT EXISTS credentials (
  id TEXT PRIMARY KEY,
  params JSONB NOT NULL,
  sealed TEXT,
  last BIGINT NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  locked BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS challenges (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  function TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS audit (
  seq BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  credential_id TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  counter BIGINT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_credential ON audit (credential_id, seq);
`;

export function rowToCredential(row: Record<string, unknown>): StoredCredential {
  const params =
    typeof row["params"] === "string"
      ? (JSON.parse(row["params"]) as CredentialParams)
      : (row["params"] as CredentialParams);
  return {
    id: String(row["id"]),
    params,
    sealed: (row["sealed"] as string | null) ?? undefined,
    last: Number(row["last"]),
    failures: Number(row["failures"]),
    locked: row["locked"] === true || row["locked"] === 1,
    createdAt: Number(row["created_at"]),
  };
}
