/** `@capkit/verify/sqlite`: the SQLite store; needs the optional peer dependency better-sqlite3. */
export { SqliteStore } from "./stores/sqlite.js";
