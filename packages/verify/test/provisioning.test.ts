import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { MemoryStore } from "../src/index.js";
import { MemoryProvisioningStore } from "../src/provisioning.js";
import { SqliteProvisioningStore, SqliteStore } from "../src/sqlite.js";
import { provisioningConformance } from "./provisioning-conformance.js";

provisioningConformance("the memory store", async () => {
  const state = new MemoryStore();
  return { state, provisioning: new MemoryProvisioningStore(state), close: () => state.close() };
});

const dir = mkdtempSync(join(tmpdir(), "capkit-provisioning-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
provisioningConformance("SQLite", async () => {
  const state = new SqliteStore(join(dir, "state.db"));
  return { state, provisioning: new SqliteProvisioningStore(state), close: () => state.close() };
});
