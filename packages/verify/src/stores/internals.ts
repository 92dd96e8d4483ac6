import type { AuditEntry, StoredCredential } from "../model.js";

/**
 * The door a state store opens to the provisioning tables that live beside its credentials
 * (src/stores/provisioning-*.ts): several writes — an activation's new state, the pending credential it binds,
 * their audit rows — in ONE transaction, through the store's own writers (its audit rows stay the store's
 * own, whatever it does to them). Keyed by a symbol no entry point exports: not part of the public API. Each
 * store declares what its door gives (`MemoryInternals` here, `SqliteInternals` and `PostgresInternals` beside
 * their stores, so the core names no database driver).
 */
export const STORE_INTERNALS: unique symbol = Symbol("capkit.storeInternals");

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
