import { type Postgres, startPostgres } from "@capkit/test-support";
import { afterAll } from "vitest";
import { PostgresProvisioningStore, PostgresStore } from "../src/postgres.js";
import { provisioningConformance } from "./provisioning-conformance.js";

/** A real PostgreSQL server, started here in a temporary directory (never skipped). */
let pg: Postgres | undefined;
const ready = startPostgres().then((p) => {
  pg = p;
  return p;
});
afterAll(async () => {
  await pg?.dispose();
}, 60_000);

provisioningConformance("PostgreSQL", async () => {
  const state = await PostgresStore.connect((await ready).url);
  return { state, provisioning: await PostgresProvisioningStore.open(state), close: () => state.close() };
});
provisioningConformance("PostgreSQL (schema bank_capkit, tablePrefix auth_)", async () => {
  const state = await PostgresStore.connect((await ready).url, {
    schema: "bank_capkit",
    tablePrefix: "auth_",
  });
  return { state, provisioning: await PostgresProvisioningStore.open(state), close: () => state.close() };
});
