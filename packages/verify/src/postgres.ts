// @capkit/verify/postgres: the PostgreSQL store, apart from the core so only applications using it need pg.
export * from "./stores/postgres.js";
