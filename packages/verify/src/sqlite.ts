// @capkit/verify/sqlite: the SQLite stores, apart from the core so only applications using them need better-sqlite3.
export { SqliteSecurityStore, type SqliteSecurityStoreOptions } from "./stores/security-sqlite.js";
export { SqliteStore, type SqliteStoreOptions } from "./stores/sqlite.js";
