// @capkit/verify/sqlite: the SQLite stores, apart from the core so only applications using them need better-sqlite3.
export * from "./provisioning/dev-outbox-sqlite.js";
export * from "./stores/provisioning-sqlite.js";
export { SqliteSecurityStore, type SqliteSecurityStoreOptions } from "./stores/security-sqlite.js";
export * from "./stores/sqlite.js";
