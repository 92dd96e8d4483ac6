// @capkit/verify/postgres: the PostgreSQL stores, apart from the core so only applications using them need pg.
export * from "./stores/postgres.js";
export * from "./stores/provisioning-postgres.js";
export { PostgresSecurityStore, type PostgresSecurityStoreOptions } from "./stores/security-postgres.js";
