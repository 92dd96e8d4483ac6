/**
 * The SQLite stores (better-sqlite3, an optional peer dependency: only applications using them install it), apart
 * from the core: the verifier's state, and beside it in the same file the provisioning's and the approvals'
 * tables, and the development outbox. Every table is named with a prefix (`capkit_` unless `tablePrefix` says
 * otherwise), so the file may be the application's own database; opening a store creates or migrates its tables
 * (an earlier version's unprefixed ones adopted) and touches no other. Each store takes a path, or the
 * application's open better-sqlite3 `Database`, which it then leaves open.
 * [README: In your application's database](https://github.com/capkit/capkit/blob/main/packages/verify/README.md#in-your-applications-database)
 *
 * @packageDocumentation
 */

// FOR DEVELOPMENT ONLY: the outbox several processes share (codes in clear).
export { SqliteDevOutbox, type SqliteDevOutboxOptions } from "./provisioning/dev-outbox-sqlite.js";
// Where the tables are: the prefix, and the application's own database handle.
export type { SqliteDatabase } from "./stores/connections.js";
// The provisioning's tables beside it (on the SqliteStore's connection), and the approvals' (on their own).
export {
  SqliteProvisioningStore,
  type SqliteProvisioningStoreOptions,
} from "./stores/provisioning-sqlite.js";
export { SqliteSecurityStore, type SqliteSecurityStoreOptions } from "./stores/security-sqlite.js";
// The verifier's state: one file, WAL, synchronous=FULL; several processes may share it.
export { SqliteStore, type SqliteStoreOptions } from "./stores/sqlite.js";
export { DEFAULT_TABLE_PREFIX, type TableOptions } from "./stores/tables.js";
