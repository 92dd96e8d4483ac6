import type {
  ActivationRecord,
  InstanceRecord,
  InstanceStatus,
  ProvisioningUserRecord,
} from "../provisioning/model.js";
import type { Engine, SchemaSet } from "./migrations.js";
import type { TableNames } from "./tables.js";

/**
 * The provisioning tables (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11), beside the verifier's in the same database, for SQLite and
 * PostgreSQL (same columns; PostgreSQL types where they differ). Times in milliseconds since the epoch.
 *
 * - `provisioning_users`: one row per identifiant that started an activation, known or not — its serial and next
 *   instance number (known users only), the times of its recent starts (the rate rule), its grace period. Every
 *   provisioning transaction of a user locks this row first, so a user's starts, steps and resets are decided
 *   one after the other. Unknown identifiants' rows go a day after their last start.
 * - `provisioning_activations`: the protocol's public state (JSON), its rev and phase as columns (the
 *   compare-and-set and the supersession read them), the activation's sealed key and sealed secrets.
 *   Deleted a day after they expire.
 * - `provisioning_instances`: each device bound, its public key and app version; the credential is in
 *   `credentials` (its state decides the instance's).
 * - `provisioning_login_challenges`: single use, deleted when taken or expired.
 */
const TABLES = (n: TableNames, t: { bool: string; big: string }) => {
  const {
    provisioning_users,
    provisioning_activations,
    provisioning_instances,
    provisioning_login_challenges,
  } = n.t;
  return `
CREATE TABLE IF NOT EXISTS ${provisioning_users} (
  user_id TEXT PRIMARY KEY,
  serial TEXT,
  next_instance INTEGER NOT NULL DEFAULT 1,
  sends TEXT NOT NULL DEFAULT '[]',
  last_at ${t.big} NOT NULL DEFAULT 0,
  grace_from ${t.big},
  grace_until ${t.big}
);
CREATE TABLE IF NOT EXISTS ${provisioning_activations} (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  credential_id TEXT NOT NULL,
  known ${t.bool} NOT NULL,
  start_key TEXT,
  rev ${t.big} NOT NULL,
  phase TEXT NOT NULL,
  created_at ${t.big} NOT NULL,
  expires_at ${t.big} NOT NULL,
  state TEXT NOT NULL,
  secret_key TEXT NOT NULL,
  secrets TEXT,
  ended TEXT
);
CREATE TABLE IF NOT EXISTS ${provisioning_instances} (
  credential_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  instance INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  activation_id TEXT NOT NULL,
  device_key TEXT NOT NULL,
  app_version TEXT NOT NULL,
  created_at ${t.big} NOT NULL,
  ended TEXT,
  ended_at ${t.big}
);
CREATE TABLE IF NOT EXISTS ${provisioning_login_challenges} (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  expires_at ${t.big} NOT NULL
);
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_users_unknown")} ON ${provisioning_users} (last_at) WHERE serial IS NULL;
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_activations_user")} ON ${provisioning_activations} (user_id, slot);
CREATE UNIQUE INDEX IF NOT EXISTS ${n.index("provisioning_activations_start_key")}
  ON ${provisioning_activations} (user_id, start_key) WHERE start_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_activations_expiry")} ON ${provisioning_activations} (expires_at);
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_instances_user")} ON ${provisioning_instances} (user_id, slot);
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_login_challenges_credential")}
  ON ${provisioning_login_challenges} (credential_id, expires_at);
CREATE INDEX IF NOT EXISTS ${n.index("provisioning_login_challenges_expiry")} ON ${provisioning_login_challenges} (expires_at);
`;
};

const ddl = (n: TableNames, engine: Engine) =>
  engine === "sqlite"
    ? TABLES(n, { bool: "INTEGER", big: "INTEGER" })
    : TABLES(n, { bool: "BOOLEAN", big: "BIGINT" });

/** The provisioning tables and their migrations (src/stores/migrations.ts). */
export const PROVISIONING_TABLES: SchemaSet = {
  name: "provisioning",
  tables: [
    "provisioning_users",
    "provisioning_activations",
    "provisioning_instances",
    "provisioning_login_challenges",
  ],
  anchor: "provisioning_activations",
  legacy: "adopted",
  ddl,
  migrations: [
    {
      version: 1,
      name: "prefixed tables",
      why: "capkit's tables carry the application's prefix (and schema); the unprefixed ones of earlier versions are adopted",
      sql: ddl,
    },
  ],
};

/** A day, in ms: how long expired activations and unknown identifiants' rows are kept. */
export const KEEP_MS = 86_400_000;

/** The phases in which an activation is unfinished (a new start of its slot supersedes it). */
export const UNFINISHED_PHASES = "('awaiting-a1', 'awaiting-a2', 'awaiting-a4')";

const opt = <T>(v: unknown, f: (v: unknown) => T): T | undefined =>
  v === null || v === undefined ? undefined : f(v);

export function rowToActivation(row: Record<string, unknown>): ActivationRecord {
  return {
    id: String(row["id"]),
    user: String(row["user_id"]),
    slot: Number(row["slot"]),
    credentialId: String(row["credential_id"]),
    known: row["known"] === true || row["known"] === 1,
    startKey: opt(row["start_key"], String),
    createdAt: Number(row["created_at"]),
    state: JSON.parse(String(row["state"])),
    secretKey: String(row["secret_key"]),
    secrets: opt(row["secrets"], String),
    ended: opt(row["ended"], String),
  };
}

/** `INSERT INTO table (columns) VALUES (…)`, each value marked as the driver wants (`?` or `$1`, `$2`, …); `table` as TableNames gives it. */
export function insertSql(table: string, columns: string, mark: (i: number) => string): string {
  return `INSERT INTO ${table} (${columns}) VALUES (${columns
    .split(",")
    .map((_, i) => mark(i))
    .join(", ")})`;
}

/** The values of an activation row, in the order of `ACTIVATION_COLUMNS`. */
export const ACTIVATION_COLUMNS =
  "id, user_id, slot, credential_id, known, start_key, rev, phase, created_at, expires_at, state, secret_key, secrets, ended";

export function activationValues(a: ActivationRecord, bool: (b: boolean) => unknown): unknown[] {
  return [
    a.id,
    a.user,
    a.slot,
    a.credentialId,
    bool(a.known),
    a.startKey ?? null,
    a.state.rev,
    a.state.phase,
    a.createdAt,
    a.state.expiresAt * 1000,
    JSON.stringify(a.state),
    a.secretKey,
    a.secrets ?? null,
    a.ended ?? null,
  ];
}

export const INSTANCE_COLUMNS =
  "credential_id, user_id, serial, instance, slot, activation_id, device_key, app_version, created_at, ended, ended_at";

export function instanceValues(i: InstanceRecord): unknown[] {
  return [
    i.credentialId,
    i.user,
    i.serial,
    i.instance,
    i.slot,
    i.activationId,
    i.devicePublicKey,
    i.appVersion,
    i.createdAt,
    i.ended ?? null,
    i.endedAt ?? null,
  ];
}

/** An instance with its credential's state: `SELECT i.*, c.state AS credential_state … LEFT JOIN credentials`. */
export const instanceSelect = (n: TableNames) =>
  `SELECT i.*, c.state AS credential_state FROM ${n.t.provisioning_instances} i LEFT JOIN ${n.t.credentials} c ON c.id = i.credential_id`;

export function rowToInstance(row: Record<string, unknown>): InstanceStatus {
  const state = row["credential_state"];
  return {
    credentialId: String(row["credential_id"]),
    user: String(row["user_id"]),
    serial: String(row["serial"]),
    instance: Number(row["instance"]),
    slot: Number(row["slot"]),
    activationId: String(row["activation_id"]),
    devicePublicKey: String(row["device_key"]),
    appVersion: String(row["app_version"]),
    createdAt: Number(row["created_at"]),
    ended: opt(row["ended"], String),
    endedAt: opt(row["ended_at"], Number),
    state: state === "pending" || state === "active" || state === "disabled" ? state : "ended",
  };
}

export function rowToUser(row: Record<string, unknown>): ProvisioningUserRecord {
  return {
    user: String(row["user_id"]),
    serial: opt(row["serial"], String),
    nextInstance: Number(row["next_instance"]),
    sends: JSON.parse(String(row["sends"])) as number[],
    graceFrom: opt(row["grace_from"], Number),
    graceUntil: opt(row["grace_until"], Number),
  };
}
