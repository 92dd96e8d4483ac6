import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../src/index.js";
import { SqliteStore } from "../src/sqlite.js";
import { attackConformance } from "./attack.js";
import { conformance } from "./conformance.js";
import { fuzzConformance } from "./fuzz.js";

conformance("the memory store", async () => new MemoryStore());

const dir = mkdtempSync(join(tmpdir(), "capkit-sqlite-"));
conformance(
  "SQLite",
  async () => new SqliteStore(join(dir, "state.db")),
  async () => rmSync(dir, { recursive: true, force: true }),
);

attackConformance("the memory store", async (o) => new MemoryStore(o));
const attackDir = mkdtempSync(join(tmpdir(), "capkit-sqlite-attack-"));
afterAll(() => rmSync(attackDir, { recursive: true, force: true }));
let files = 0;
attackConformance("SQLite", async (o) => new SqliteStore(join(attackDir, `state-${files++}.db`), o));

fuzzConformance("the memory store", async () => new MemoryStore(), Number(process.env["FUZZ_RUNS"] ?? 300));
fuzzConformance(
  "SQLite",
  async () => new SqliteStore(join(attackDir, "fuzz.db")),
  Number(process.env["FUZZ_RUNS"] ?? 200),
);

describe("the memory store's audit ring", () => {
  const entry = (i: number) =>
    ({
      at: 1000 + i,
      credentialId: `c${i % 2}`,
      action: "verify",
      result: "accepted",
      ...(i % 3 === 0 ? { counter: i } : {}),
      ...(i % 2 === 0 ? { detail: `d${i}` } : {}),
    }) as const;

  it("keeps the newest auditLimit entries in order, through wrap-arounds, and prunes by time", async () => {
    const store = new MemoryStore({ auditLimit: 3 });
    for (let i = 0; i < 8; i++) await store.record(entry(i));
    expect(await store.audit()).toEqual([entry(5), entry(6), entry(7)]);
    expect(await store.audit("c1")).toEqual([entry(5), entry(7)]);
    expect(await store.audit(undefined, 2)).toEqual([entry(6), entry(7)]);
    expect(await store.pruneAudit(1007)).toBe(2);
    expect(await store.audit()).toEqual([entry(7)]);
    for (let i = 8; i < 12; i++) await store.record(entry(i));
    expect(await store.audit()).toEqual([entry(9), entry(10), entry(11)]);
  });
});
