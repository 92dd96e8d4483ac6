import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore, SqliteStore } from "../src/index.js";
import { conformance } from "./conformance.js";

conformance("the memory store", async () => new MemoryStore());

const dir = mkdtempSync(join(tmpdir(), "capkit-sqlite-"));
conformance(
  "SQLite",
  async () => new SqliteStore(join(dir, "state.db")),
  async () => rmSync(dir, { recursive: true, force: true }),
);
