import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "../src/index.js";
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

// The same suite on tables with another prefix, beside an application's tables of capkit's default names.
const prefixedDir = mkdtempSync(join(tmpdir(), "capkit-sqlite-prefixed-"));
conformance(
  "SQLite (tablePrefix auth_)",
  async () => new SqliteStore(join(prefixedDir, "state.db"), { tablePrefix: "auth_" }),
  async () => rmSync(prefixedDir, { recursive: true, force: true }),
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

describe("SQLite: the statements of a failure", () => {
  it("are as many, reads and writes, whether the id or user exists, its first failure or a later one, locked or not", async () => {
    // Every statement better-sqlite3 runs, counted as a read or a write (its text begins with SELECT or not).
    const probe = new Database(":memory:");
    const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>;
    probe.close();
    const n = { reads: 0, writes: 0 };
    const originals = Object.fromEntries(["get", "run", "all"].map((m) => [m, proto[m]]));
    for (const m of Object.keys(originals)) {
      proto[m] = function (this: { source: string }, ...a: unknown[]) {
        if (/^\s*SELECT/i.test(this.source)) n.reads++;
        else n.writes++;
        return (originals[m] as (...x: unknown[]) => unknown).apply(this, a);
      };
    }
    const store = new SqliteStore(join(attackDir, "statements.db"));
    try {
      const now = Date.UTC(2026, 11, 5, 12, 0, 0);
      const v = new Verifier({
        store,
        keys: new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial()),
        now: () => now,
      });
      const secret = Buffer.alloc(20, 7);
      const right = new HotpGenerator(new HmacKey(secret), 6).code(Math.floor(now / 30_000));
      const wrong = right === "000000" ? "111111" : "000000";
      await v.enroll({ id: "stmt-own", kind: "totp", secret });
      await v.enroll({ id: "stmt-usr", kind: "totp", secret, user: "stmt-user" });
      const of = async (req: Parameters<Verifier["verify"]>[0]) => {
        n.reads = n.writes = 0;
        const r = await v.verify(req);
        return { result: r.result, ...n };
      };
      // The same length of id and user, known and unknown (a longer one costs more hashing, not more statements).
      const pairs = [
        [{ id: "stmt-own" }, { id: "stmt-ooo" }],
        [{ user: "stmt-user" }, { user: "stmt-xxxx" }],
      ] as const;
      for (const [known, unknown] of pairs) {
        for (let i = 0; i < 7; i++) {
          const a = await of({ ...known, code: wrong });
          const b = await of({ ...unknown, code: wrong });
          expect(b, `${JSON.stringify(known)}, attempt ${i + 1}`).toEqual(a);
          expect(a.result).toBe(i < 4 ? "rejected" : "locked");
        }
        // Locked: the right code is refused with the same statements as a wrong one.
        expect(await of({ ...known, code: right })).toEqual(await of({ ...known, code: wrong }));
      }
    } finally {
      Object.assign(proto, originals);
      await store.close();
    }
  });
});

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
