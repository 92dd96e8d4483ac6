import { type Postgres, startPostgres } from "@capkit/test-support";
import pg from "pg";
import { afterAll } from "vitest";
import { PostgresSecurityStore, PostgresStore } from "../src/postgres.js";
import { approvalsAttacks } from "./approvals-attacks.js";

/** A real PostgreSQL server, started here in a temporary directory (never skipped). */
let server: Postgres | undefined;
const ready = startPostgres().then((p) => {
  server = p;
  return p;
});
afterAll(async () => {
  await server?.dispose();
});

approvalsAttacks(
  "PostgreSQL",
  async () => {
    const { url } = await ready;
    const store = await PostgresStore.connect(url);
    return { store, security: await PostgresSecurityStore.connect(url) };
  },
  {
    tamperDocument: async (id, document) => {
      const client = new pg.Client({ connectionString: (await ready).url });
      await client.connect();
      await client.query("UPDATE capkit_operations SET document = $1 WHERE id = $2", [document, id]);
      await client.end();
    },
    tamperReceipt: async (operation, body) => {
      const client = new pg.Client({ connectionString: (await ready).url });
      await client.connect();
      await client.query(
        "UPDATE capkit_receipts SET body = $1, signature = NULL, key_id = NULL WHERE operation_id = $2",
        [body, operation],
      );
      await client.end();
    },
  },
);
