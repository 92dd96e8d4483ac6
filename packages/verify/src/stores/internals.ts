import type { AuditEntry, StoredCredential } from "../model.js";
import type { SchemaSet } from "./migrations.js";
import type { TableNames } from "./tables.js";

/**
 * The door a state store opens to the provisioning tables that live beside its credentials
 * (src/stores/provisioning-*.ts): several writes — an activation's new state, the pending credential it binds,
 * their audit rows — in ONE transaction, through the store's own writers (its audit rows stay the store's
 * own, whatever it does to them). Keyed by a symbol no entry point exports: not part of the public API. Each
 * store declares what its door gives (`MemoryInternals` here, `SqliteInternals` and `PostgresInternals` here too, so the core names no database driver). The published declarations name no driver either: the
 * SQLite handle is typed `unknown` here and PostgreSQL results by the members the provisioning stores read.
 */
export const STORE_INTERNALS: unique symbol = Symbol("capkit.storeInternals");

/**
 * The audit rows a door writes name `actor` (the service or administrator the provisioning store acts for, as
 * `VerifierOptions.actor` does for a Verifier) unless they name one already.
 */
export function stampActor(actor: string | undefined): (e: AuditEntry) => AuditEntry {
  return (e) => (actor === undefined || e.actor !== undefined ? e : { ...e, actor });
}

/** The store's writers, inside a transaction: a credential row (and its user), a revocation, an audit row. */
export interface StoreWriter {
  /** Inserts the credential (and its user, if new) with its audit row; CREDENTIAL_EXISTS if the id is taken. */
  insertCredential(c: StoredCredential, audit: AuditEntry): void;
  /** Deletes the credential and its challenges (as `StateStore.revoke`); false if there was none. */
  revoke(id: string, audit: AuditEntry): boolean;
  audit(entry: AuditEntry): void;
}

/**
 * The memory store's door: its writers, and the credential as stored. Every call runs to completion without an
 * await, so a provisioning operation that makes its calls without awaiting in between is atomic.
 */
export interface MemoryInternals extends StoreWriter {
  credential(id: string): StoredCredential | undefined;
}

/**
 * The SQLite store's door: its better-sqlite3 database (typed `unknown`: the provisioning store, which shares the
 * driver, gives it its type), IMMEDIATE transactions with the store's writers, and reads with the same error
 * mapping (driver errors → STORE_UNAVAILABLE).
 */
export interface SqliteInternals {
  readonly db: unknown;
  /** The store's table names (its prefix): the tables opened beside it carry the same. */
  readonly names: TableNames;
  transaction<T>(work: (w: StoreWriter) => T): Promise<T>;
  read<T>(work: () => T): Promise<T>;
}

/** What the provisioning stores read of a PostgreSQL result. */
export interface QueryRows {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

/** A PostgreSQL transaction on one pooled connection, with the store's writers as statements on it. */
export interface PostgresTransaction {
  query(sql: string, values: unknown[]): Promise<QueryRows>;
  /** Inserts the credential (and its user, if new) with its audit row; CREDENTIAL_EXISTS if the id is taken. */
  insertCredential(c: StoredCredential, audit: AuditEntry): Promise<void>;
  /** Deletes the credential and its challenges (as `StateStore.revoke`); false if there was none. */
  revoke(id: string, audit: AuditEntry): Promise<boolean>;
  audit(entry: AuditEntry): Promise<void>;
}

/**
 * The PostgreSQL store's door: single statements, and transactions (BEGIN … COMMIT on one connection, rolled back
 * when `work` throws). Database errors are STORE_UNAVAILABLE, as for every store call.
 */
export interface PostgresInternals {
  /** The store's table names (its prefix and schema): the tables opened beside it carry the same. */
  readonly names: TableNames;
  query(sql: string, values: unknown[]): Promise<QueryRows>;
  transaction<T>(work: (tx: PostgresTransaction) => Promise<T>): Promise<T>;
  /** Brings a set of tables beside the store's to this version (src/stores/migrate-postgres.ts). */
  migrate(set: SchemaSet): Promise<void>;
}
