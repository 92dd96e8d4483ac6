import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore } from "../src/index.js";
import { SqliteStore } from "../src/sqlite.js";
import { conformance } from "./conformance.js";

conformance("the memory store", async () => new MemoryStore());

const dir = mkdtempSync(join(tmpdir(), "capkit-sqlite-"));
conformance(
  "SQLite",
  async () => new SqliteStore(join(dir, "state.db")),
  async () => rmSync(dir, { recursive: true, force: true }),
);
