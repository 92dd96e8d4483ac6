/** `@capkit/verify/postgres`: the PostgreSQL store; needs the optional peer dependency pg. */
export { PostgresStore } from "./stores/postgres.js";
