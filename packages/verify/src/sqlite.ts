// @capkit/verify/sqlite: the SQLite store, apart from the core so only applications using it need better-sqlite3.
export * from "./stores/sqlite.js";
