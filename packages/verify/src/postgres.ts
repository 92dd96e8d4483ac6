/**
 * The PostgreSQL stores (pg, an optional peer dependency: only applications using them install it), apart from
 * the core: the verifier's state shared by many servers, and beside it the provisioning's and the approvals'
 * tables. Every table is named with a prefix (`capkit_` unless `tablePrefix` says otherwise), in the schema
 * `schema` if given, so the database may be the application's own; connecting creates or migrates the tables
 * (under an advisory lock; an earlier version's unprefixed ones adopted) and touches no other. Each store takes a
 * `postgres://` URL, a `pg.PoolConfig`, or the application's `pg.Pool`, which it then never ends.
 * [README: In your application's database](https://github.com/capkit/capkit/blob/main/packages/verify/README.md#in-your-applications-database)
 *
 * @packageDocumentation
 */

// What the stores connect with, and where their tables are.
export type {
  PostgresConnection,
  PostgresConnectOptions,
  PostgresPool,
  PostgresPoolConfig,
} from "./stores/connections.js";
// The verifier's state: one statement per decision, safe across a cluster.
export { PostgresStore, type PostgresStoreOptions } from "./stores/postgres.js";
// The provisioning's tables beside it (on the PostgresStore's pool), and the approvals' (on their own).
export {
  PostgresProvisioningStore,
  type PostgresProvisioningStoreOptions,
} from "./stores/provisioning-postgres.js";
export { PostgresSecurityStore, type PostgresSecurityStoreOptions } from "./stores/security-postgres.js";
export { DEFAULT_TABLE_PREFIX, type TableOptions } from "./stores/tables.js";
