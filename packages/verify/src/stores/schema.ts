import { createHmac } from "node:crypto";
import { AUDIT_FORMAT, auditTextSql, SHARED_CHAINS } from "../audit/chain.js";
import type {
  AuditEntry,
  ChainedAuditEntry,
  CredentialParams,
  FailureSubject,
  StoredCredential,
} from "../model.js";
import type { SchemaSet } from "./migrations.js";
import type { TableName, TableNames } from "./tables.js";

/**
 * The tables, for SQLite and PostgreSQL (same columns; PostgreSQL types where they differ). Challenges are
 * deleted when used or expired, so their table stays bounded; the audit trail is kept until `pruneAudit`.
 * `unknown_subjects` counts the failures of ids and users nobody enrolled, under a keyed hash of the id
 * (what people type into an id field is sometimes their password); each count carries the sequence number it
 * was made with, and those more than the bound behind the newest are deleted: the oldest go first, and the
 * table never holds more rows than the bound. `meta` holds the hash's key and the schema's version (src/stores/migrations.ts).
 */
const COMMON = (
  n: TableNames,
  t: { bool: string; big: string; serial: string; json: string; no: string },
) => `
CREATE TABLE IF NOT EXISTS ${n.t.credentials} (
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
CREATE TABLE IF NOT EXISTS ${n.t.users} (
  id TEXT PRIMARY KEY,
  failures INTEGER NOT NULL DEFAULT 0,
  locked ${t.bool} NOT NULL DEFAULT ${t.no},
  locked_at ${t.big}
);
CREATE TABLE IF NOT EXISTS ${n.t.challenges} (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  function TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS ${n.t.unknown_subjects} (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked ${t.bool} NOT NULL,
  locked_at ${t.big},
  seq ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS ${n.t.audit} (
  seq ${t.serial} PRIMARY KEY,
  at ${t.big} NOT NULL,
  credential_id TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  counter ${t.big},
  detail TEXT,
  user_id TEXT,
  actor TEXT,
  chain TEXT,
  n ${t.big},
  hash TEXT
);
CREATE TABLE IF NOT EXISTS ${n.t.audit_chains} (
  chain TEXT PRIMARY KEY,
  n ${t.big} NOT NULL,
  head TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${n.t.audit_checkpoints} (
  seq ${t.big} PRIMARY KEY,
  at ${t.big} NOT NULL,
  body TEXT NOT NULL
);
`;

/** Indexes, created after the columns a 0.1 database lacks have been added (see `COLUMNS_ADDED`). */
const INDEXES = (n: TableNames) => `
CREATE INDEX IF NOT EXISTS ${n.index("credentials_user")} ON ${n.t.credentials} (user_id, id);
CREATE INDEX IF NOT EXISTS ${n.index("challenges_expiry")} ON ${n.t.challenges} (expires_at);
CREATE INDEX IF NOT EXISTS ${n.index("challenges_credential")} ON ${n.t.challenges} (credential_id, expires_at);
CREATE INDEX IF NOT EXISTS ${n.index("audit_credential")} ON ${n.t.audit} (credential_id, seq);
CREATE INDEX IF NOT EXISTS ${n.index("audit_user")} ON ${n.t.audit} (user_id, seq);
CREATE INDEX IF NOT EXISTS ${n.index("audit_at")} ON ${n.t.audit} (at);
CREATE INDEX IF NOT EXISTS ${n.index("unknown_subjects_by_seq")} ON ${n.t.unknown_subjects} (seq);
`;

/**
 * Columns added since the first schema (0.1): a database created then is brought up to date on open. A 0.1
 * challenges table keeps its unused `used` column (challenges are now deleted when taken).
 */
export const COLUMNS_ADDED: readonly { table: TableName; column: string; definition: string }[] = [
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
  { table: "audit", column: "actor", definition: "TEXT" },
  // The entry's hash chain (src/audit/chain.ts); NULL in rows written before the trail was chained.
  { table: "audit", column: "chain", definition: "TEXT" },
  { table: "audit", column: "n", definition: "BIGINT" },
  { table: "audit", column: "hash", definition: "TEXT" },
];

/** The verifier's tables and indexes on SQLite. */
export const schemaSqlite = (n: TableNames) =>
  COMMON(n, {
    bool: "INTEGER",
    big: "INTEGER",
    serial: "INTEGER",
    json: "TEXT",
    no: "0",
  }).replace("seq INTEGER PRIMARY KEY", "seq INTEGER PRIMARY KEY AUTOINCREMENT") + INDEXES(n);

/**
 * PostgreSQL chains every audit row as it is inserted, whatever statement inserts it: a trigger picks the row's
 * chain (`chainOf` in src/audit/chain.ts, the same rule), moves the chain's head in `audit_chains` — a row only
 * the transactions on the same user or credential touch, which already queue on that row — and writes `n`,
 * `hash` and `seq` (taken once the head is locked, so a chain is in seq order even when writers of one chain
 * hold no common lock before, as the approvals' do). No verification waits on a global head.
 */
const start = (chain: string) =>
  `encode(sha256(convert_to('${AUDIT_FORMAT}', 'UTF8') || '\\x00'::bytea || convert_to(${chain}, 'UTF8')), 'hex')`;
const text = (k: string) =>
  auditTextSql({
    at: "NEW.at",
    chain: "c",
    n: k,
    credential: "NEW.credential_id",
    action: "NEW.action",
    result: "NEW.result",
    counter: "NEW.counter",
    detail: "NEW.detail",
    user: "NEW.user_id",
    actor: "NEW.actor",
  });
const auditTriggerPostgres = (n: TableNames) => `
CREATE OR REPLACE FUNCTION ${n.object("audit_chain")}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  c TEXT;
  k BIGINT;
  h TEXT;
BEGIN
  IF NEW.result = 'unknown' OR NEW.action = 'challenge' OR (NEW.credential_id = '' AND NEW.user_id IS NULL) THEN
    c := 'shared:' || (get_byte(sha256(convert_to(coalesce(NEW.user_id, NEW.credential_id), 'UTF8')), 0) % ${SHARED_CHAINS});
  ELSIF NEW.user_id IS NOT NULL THEN
    c := 'user:' || NEW.user_id;
  ELSE
    c := 'credential:' || NEW.credential_id;
  END IF;
  -- The chain's row exists but for its first entry: UPDATE first (a HOT update: no indexed column changes).
  UPDATE ${n.t.audit_chains} AS a
    SET n = a.n + 1, head = encode(sha256(decode(a.head, 'hex') || convert_to(${text("a.n + 1")}, 'UTF8')), 'hex')
    WHERE a.chain = c
    RETURNING a.n, a.head INTO k, h;
  IF NOT FOUND THEN
    INSERT INTO ${n.t.audit_chains} AS a (chain, n, head)
    VALUES (c, 1, encode(sha256(decode(${start("c")}, 'hex') || convert_to(${text("1")}, 'UTF8')), 'hex'))
    ON CONFLICT (chain) DO UPDATE
      SET n = a.n + 1, head = encode(sha256(decode(a.head, 'hex') || convert_to(${text("a.n + 1")}, 'UTF8')), 'hex')
    RETURNING a.n, a.head INTO k, h;
  END IF;
  NEW.chain := c;
  NEW.n := k;
  NEW.hash := h;
  -- The row's place in the trail is taken now, with its chain's head locked until commit: a chain's rows are in
  -- seq order whichever statements write them (a column default would be taken before the lock).
  NEW.seq := nextval('${n.object("audit_seq_seq")}');
  RETURN NEW;
END
$fn$;
ALTER TABLE ${n.t.audit_chains} SET (fillfactor = 50);
DROP TRIGGER IF EXISTS audit_chained ON ${n.t.audit};
CREATE TRIGGER audit_chained BEFORE INSERT ON ${n.t.audit} FOR EACH ROW EXECUTE FUNCTION ${n.object("audit_chain")}();
ALTER TABLE ${n.t.audit} ALTER COLUMN seq DROP DEFAULT;
`;

/** The verifier's tables, indexes, sequence and audit trigger on PostgreSQL. */
export const schemaPostgres = (n: TableNames) =>
  COMMON(n, {
    bool: "BOOLEAN",
    big: "BIGINT",
    serial: "BIGSERIAL",
    json: "JSONB",
    no: "FALSE",
  }) +
  INDEXES(n) +
  `CREATE SEQUENCE IF NOT EXISTS ${n.object("unknown_subjects_seq")};\n` +
  auditTriggerPostgres(n);

/** The verifier's tables and their migrations (src/stores/migrations.ts). */
export const VERIFIER_TABLES: SchemaSet = {
  name: "verifier",
  tables: [
    "credentials",
    "users",
    "challenges",
    "unknown_subjects",
    "audit",
    "audit_chains",
    "audit_checkpoints",
  ],
  anchor: "credentials",
  columnsAdded: COLUMNS_ADDED,
  legacyColumns: { challenges: ["used"] },
  // The first release (0.1) created these three; `users` and the others came in later versions.
  firstTables: ["credentials", "challenges", "audit"],
  legacySequences: ["unknown_subjects_seq"],
  legacy: "marker",
  ddl: (n, engine) => (engine === "sqlite" ? schemaSqlite(n) : schemaPostgres(n)),
  migrations: [
    {
      version: 1,
      name: "prefixed tables",
      why:
        "capkit lives in the application's database: its tables carry a prefix (and, on PostgreSQL, a schema) " +
        "of the application's choosing; the unprefixed tables of 0.1 and later versions are adopted",
      sql: (n, engine) => (engine === "sqlite" ? schemaSqlite(n) : schemaPostgres(n)),
    },
  ],
};

/**
 * A credential with the failure count and lock of its lockout subject (its user's, for one that belongs to a
 * user): `WHERE` and `ORDER BY` clauses follow.
 */
export const credentialSelect = (n: TableNames) =>
  `SELECT c.*, u.failures AS user_failures, u.locked AS user_locked, u.locked_at AS user_locked_at FROM ${n.t.credentials} c LEFT JOIN ${n.t.users} u ON u.id = c.user_id`;

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
    state: row["state"] === "disabled" || row["state"] === "pending" ? row["state"] : "active",
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

/** An audit row's size in bytes, roughly (SQL over its columns): what the retention's byte cap counts. */
export const ROW_BYTES =
  "64 + length(credential_id) + length(action) + length(result) + coalesce(length(detail), 0) + coalesce(length(user_id), 0) + coalesce(length(actor), 0) + coalesce(length(chain), 0) + coalesce(length(hash), 0)";

/** An unknown subject's row key: HMAC-SHA-256 of the id under the store's own key, never the id itself. */
export function unknownSubjectKey(key: Buffer, subject: FailureSubject): string {
  const name = "user" in subject ? `user\0${subject.user}` : `credential\0${subject.credential}`;
  return createHmac("sha256", key).update(name).digest("base64url");
}

/** An audit row as SQLite or PostgreSQL return it (PostgreSQL BIGINTs come back as strings). */
export function rowToAudit(row: Record<string, unknown>): AuditEntry {
  const present = (k: string) => row[k] !== null && row[k] !== undefined;
  return {
    at: Number(row["at"]),
    credentialId: String(row["credential_id"]),
    action: row["action"] as AuditEntry["action"],
    result: String(row["result"]),
    ...(present("counter") ? { counter: Number(row["counter"]) } : {}),
    ...(present("detail") ? { detail: String(row["detail"]) } : {}),
    ...(present("user_id") ? { user: String(row["user_id"]) } : {}),
    ...(present("actor") ? { actor: String(row["actor"]) } : {}),
  };
}

/** An audit row with its place in the trail (chain fields absent in rows written before the trail was chained). */
export function rowToChained(row: Record<string, unknown>): ChainedAuditEntry {
  return {
    ...rowToAudit(row),
    seq: Number(row["seq"]),
    chain: row["chain"] === null ? "" : String(row["chain"]),
    n: Number(row["n"] ?? 0),
    hash: row["hash"] === null ? "" : String(row["hash"]),
  };
}
