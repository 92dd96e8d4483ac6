import { type Postgres, startPostgres } from "@capkit/test-support";
import { afterAll } from "vitest";
import { PostgresSecurityStore, PostgresStore } from "../src/postgres.js";
import { approvalsConformance } from "./approvals-conformance.js";

/** A real PostgreSQL server, started here in a temporary directory (never skipped). */
let pg: Postgres | undefined;
const ready = startPostgres().then((p) => {
  pg = p;
  return p;
});
afterAll(async () => {
  await pg?.dispose();
});

approvalsConformance("PostgreSQL", async () => {
  const { url } = await ready;
  const store = await PostgresStore.connect(url);
  return { store, security: await PostgresSecurityStore.connect(url) };
});
approvalsConformance("PostgreSQL (schema bank_capkit, tablePrefix auth_)", async () => {
  const { url } = await ready;
  const where = { schema: "bank_capkit", tablePrefix: "auth_" };
  const store = await PostgresStore.connect(url, where);
  return { store, security: await PostgresSecurityStore.connect(url, where) };
});
