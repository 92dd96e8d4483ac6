import type { ApprovalMethod, OperationType } from "@capkit/provision";
import type { SecurityEventType } from "../events/revocations.js";
import type { Epochs, SubjectKind } from "../events/subjects.js";
import type {
  DeviceRecord,
  GrantKind,
  GrantRecord,
  GrantState,
  OperationRecord,
  OperationState,
  SecurityEventRecord,
  StoredReceipt,
} from "../security-model.js";
import type { Engine, SchemaSet } from "./migrations.js";
import type { TableNames } from "./tables.js";

/**
 * The approvals' tables (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12), for SQLite and PostgreSQL, beside the verifier's (whose
 * `audit` table they write into). `security_subjects` holds the epochs of the subjects some event touched or
 * some operation, grant or device was stamped for (a row per subject; none: all 0); `receipt_heads` the head
 * of each user's receipt chain, the row a decision locks first; `operations` keeps the document it was created
 * with, never changed; `receipts` their signed receipts, in chain order per user.
 */
const TABLES = (n: TableNames, t: { big: string; serial: string }) => {
  const {
    security_subjects,
    security_events,
    approval_devices,
    operations,
    receipt_heads,
    receipts,
    grants,
  } = n.t;
  return `
CREATE TABLE IF NOT EXISTS ${security_subjects} (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  device_epoch ${t.big} NOT NULL DEFAULT 0,
  session_epoch ${t.big} NOT NULL DEFAULT 0,
  grant_epoch ${t.big} NOT NULL DEFAULT 0,
  operation_epoch ${t.big} NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS ${security_events} (
  seq ${t.serial} PRIMARY KEY,
  at ${t.big} NOT NULL,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  cause TEXT NOT NULL,
  actor TEXT,
  device_epoch ${t.big} NOT NULL,
  session_epoch ${t.big} NOT NULL,
  grant_epoch ${t.big} NOT NULL,
  operation_epoch ${t.big} NOT NULL,
  operations_cancelled INTEGER NOT NULL,
  grants_revoked INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ${n.index("security_events_subject")} ON ${security_events} (kind, subject_id, seq);
CREATE TABLE IF NOT EXISTS ${approval_devices} (
  credential_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  epoch ${t.big} NOT NULL,
  registered_at ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS ${operations} (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  contract_id TEXT,
  method TEXT NOT NULL,
  credential_id TEXT NOT NULL,
  type TEXT NOT NULL,
  document TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at ${t.big} NOT NULL,
  expires_at ${t.big} NOT NULL,
  user_epoch ${t.big} NOT NULL,
  contract_epoch ${t.big},
  state TEXT NOT NULL,
  decided_at ${t.big},
  reason TEXT
);
CREATE INDEX IF NOT EXISTS ${n.index("operations_user")} ON ${operations} (user_id, state, id);
CREATE INDEX IF NOT EXISTS ${n.index("operations_contract")} ON ${operations} (contract_id, state);
CREATE TABLE IF NOT EXISTS ${receipt_heads} (
  user_id TEXT PRIMARY KEY,
  n ${t.big} NOT NULL,
  digest TEXT,
  time_s ${t.big} NOT NULL
);
CREATE TABLE IF NOT EXISTS ${receipts} (
  user_id TEXT NOT NULL,
  n ${t.big} NOT NULL,
  operation_id TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  digest TEXT NOT NULL,
  key_id TEXT,
  signature TEXT,
  PRIMARY KEY (user_id, n)
);
CREATE TABLE IF NOT EXISTS ${grants} (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  contract_id TEXT,
  state TEXT NOT NULL,
  created_at ${t.big} NOT NULL,
  activated_at ${t.big},
  ended_at ${t.big},
  reason TEXT,
  operation_id TEXT UNIQUE,
  consent TEXT,
  epoch ${t.big} NOT NULL,
  owner_epoch ${t.big} NOT NULL,
  target_epoch ${t.big} NOT NULL,
  contract_epoch ${t.big}
);
CREATE INDEX IF NOT EXISTS ${n.index("grants_owner")} ON ${grants} (owner_id);
CREATE INDEX IF NOT EXISTS ${n.index("grants_target")} ON ${grants} (target_id);
CREATE INDEX IF NOT EXISTS ${n.index("grants_contract")} ON ${grants} (contract_id);
`;
};

const ddl = (n: TableNames, engine: Engine) =>
  engine === "sqlite"
    ? TABLES(n, { big: "INTEGER", serial: "INTEGER" }).replace(
        "seq INTEGER PRIMARY KEY",
        "seq INTEGER PRIMARY KEY AUTOINCREMENT",
      )
    : TABLES(n, { big: "BIGINT", serial: "BIGSERIAL" });

/** The approvals' tables and their migrations (src/stores/migrations.ts). */
export const APPROVAL_TABLES: SchemaSet = {
  name: "approvals",
  tables: [
    "security_subjects",
    "security_events",
    "approval_devices",
    "operations",
    "receipt_heads",
    "receipts",
    "grants",
  ],
  anchor: "operations",
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

/** The epoch columns of `security_subjects` and `security_events`, by class. */
export const EPOCH_COLUMNS = {
  device: "device_epoch",
  session: "session_epoch",
  grant: "grant_epoch",
  operation: "operation_epoch",
} as const;

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);
const opt = <T>(v: unknown, f: (x: unknown) => T): T | undefined =>
  v === null || v === undefined ? undefined : f(v);

export function rowToEpochs(row: Row | undefined): Epochs {
  return {
    device: num(row?.["device_epoch"] ?? 0),
    session: num(row?.["session_epoch"] ?? 0),
    grant: num(row?.["grant_epoch"] ?? 0),
    operation: num(row?.["operation_epoch"] ?? 0),
  };
}

export function rowToOperation(row: Row): OperationRecord {
  return {
    id: String(row["id"]),
    user: String(row["user_id"]),
    contract: opt(row["contract_id"], String),
    method: row["method"] as ApprovalMethod,
    credential: String(row["credential_id"]),
    type: row["type"] as OperationType,
    document: String(row["document"]),
    digest: String(row["digest"]),
    createdAt: num(row["created_at"]),
    expiresAt: num(row["expires_at"]),
    userEpoch: num(row["user_epoch"]),
    contractEpoch: opt(row["contract_epoch"], num),
    state: row["state"] as OperationState,
    decidedAt: opt(row["decided_at"], num),
    reason: opt(row["reason"], String),
  };
}

export function rowToReceipt(row: Row): StoredReceipt {
  return {
    user: String(row["user_id"]),
    n: num(row["n"]),
    operation: String(row["operation_id"]),
    body: String(row["body"]),
    digest: String(row["digest"]),
    keyId: opt(row["key_id"], String),
    signature: opt(row["signature"], String),
  };
}

export function rowToDevice(row: Row): DeviceRecord {
  return {
    credential: String(row["credential_id"]),
    user: String(row["user_id"]),
    publicKey: String(row["public_key"]),
    epoch: num(row["epoch"]),
    registeredAt: num(row["registered_at"]),
  };
}

export function rowToEvent(row: Row): SecurityEventRecord {
  return {
    seq: num(row["seq"]),
    at: num(row["at"]),
    type: row["type"] as SecurityEventType,
    subject: { kind: row["kind"] as SubjectKind, id: String(row["subject_id"]) },
    cause: String(row["cause"]),
    actor: opt(row["actor"], String),
    epochs: rowToEpochs(row),
    operationsCancelled: num(row["operations_cancelled"]),
    grantsRevoked: num(row["grants_revoked"]),
  };
}

export function rowToGrant(row: Row): GrantRecord {
  return {
    id: String(row["id"]),
    kind: row["kind"] as GrantKind,
    owner: String(row["owner_id"]),
    target: String(row["target_id"]),
    contract: opt(row["contract_id"], String),
    state: row["state"] as GrantState,
    createdAt: num(row["created_at"]),
    activatedAt: opt(row["activated_at"], num),
    endedAt: opt(row["ended_at"], num),
    reason: opt(row["reason"], String),
    operation: opt(row["operation_id"], String),
    consent: opt(row["consent"], String),
    epoch: num(row["epoch"]),
    ownerEpoch: num(row["owner_epoch"]),
    targetEpoch: num(row["target_epoch"]),
    contractEpoch: opt(row["contract_epoch"], num),
  };
}

/** A grant row with its subjects' current `grant` epochs (now_owner, now_target, now_contract): a check in one read. */
export const grantWithEpochs = (n: TableNames) => {
  const { grants, security_subjects } = n.t;
  return `
SELECT g.*, coalesce(o.grant_epoch, 0) AS now_owner, coalesce(t.grant_epoch, 0) AS now_target,
       coalesce(c.grant_epoch, 0) AS now_contract
FROM ${grants} g
LEFT JOIN ${security_subjects} o ON o.kind = 'user' AND o.id = g.owner_id
LEFT JOIN ${security_subjects} t ON t.kind = 'user' AND t.id = g.target_id
LEFT JOIN ${security_subjects} c ON c.kind = 'contract' AND c.id = g.contract_id`;
};

/** A GRANT_WITH_EPOCHS row's current epochs, as `grantCurrent` (src/stores/security-rules.ts) takes them. */
export function grantEpochsNow(row: Row): { owner: number; target: number; contract: number } {
  return { owner: num(row["now_owner"]), target: num(row["now_target"]), contract: num(row["now_contract"]) };
}
