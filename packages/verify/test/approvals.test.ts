import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySecurityStore } from "../src/approvals.js";
import { MemoryStore } from "../src/index.js";
import { SqliteSecurityStore, SqliteStore } from "../src/sqlite.js";
import { approvalsConformance } from "./approvals-conformance.js";

approvalsConformance("the memory store", async () => {
  const store = new MemoryStore();
  return { store, security: new MemorySecurityStore(store) };
});

const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-"));
approvalsConformance(
  "SQLite",
  async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStore(path);
    return { store, security: new SqliteSecurityStore(path) };
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);
