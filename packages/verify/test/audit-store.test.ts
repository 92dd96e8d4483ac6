import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { type Postgres, startPostgres } from "@capkit/test-support";
import Database from "better-sqlite3";
import pgDriver from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { PostgresStore } from "../src/postgres.js";
import { SqliteStore } from "../src/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "capkit-audit-"));
let pg: Postgres | undefined;
afterAll(async () => {
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A store of its own per test, and a way to run SQL on it behind the verifier's back (an attacker with the database). */
interface Opened {
  store: StateStore;
  sql?: (text: string) => Promise<void>;
}

const persistent: [string, () => Promise<Opened>][] = [
  [
    "SQLite",
    async () => {
      const path = join(dir, `${randomBytes(4).toString("hex")}.db`);
      const store = new SqliteStore(path);
      return {
        store,
        sql: async (text) => {
          const db = new Database(path);
          db.exec(text);
          db.close();
        },
      };
    },
  ],
  [
    "PostgreSQL",
    async () => {
      pg ??= await startPostgres();
      const name = `audit_${randomBytes(4).toString("hex")}`;
      const admin = new pgDriver.Client({ connectionString: pg.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = pg.url.replace(/\/postgres$/, `/${name}`);
      return {
        store: await PostgresStore.connect(url),
        sql: async (text) => {
          const c = new pgDriver.Client({ connectionString: url });
          await c.connect();
          await c.query(text);
          await c.end();
        },
      };
    },
  ],
];
const all: [string, () => Promise<Opened>][] = [
  ["the memory store", async () => ({ store: new MemoryStore() })],
  ...persistent,
];

const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());

/** Some traffic: two users' tokens (accepts, failures), a token of no user, an unknown id, admin actions. */
async function traffic(store: StateStore, t0 = Date.UTC(2026, 11, 1)) {
  let now = t0;
  const service = new Verifier({ store, keys, actor: "service:bank-login", now: () => now });
  const admin = new Verifier({ store, keys, actor: "admin:marie", now: () => now });
  const gens: Record<string, HotpGenerator> = {};
  for (const [id, user] of [
    ["alice-token", "alice"],
    ["bob-token", "bob"],
    ["lone-token", undefined],
  ] as const) {
    const secret = randomBytes(20);
    gens[id] = new HotpGenerator(new HmacKey(secret), 6);
    await admin.enroll({ id, kind: "hotp", secret, ...(user ? { user } : {}) });
  }
  for (let i = 0; i < 5; i++) {
    now += 60_000;
    await Promise.all([
      service.verify({ id: "alice-token", code: gens["alice-token"]!.code(i) }),
      service.verify({ id: "bob-token", code: "000000" }),
      service.verify({ id: "lone-token", code: gens["lone-token"]!.code(i) }),
      service.verify({ id: "nobody", code: "123456" }),
    ]);
  }
  await admin.unlockUser("bob");
  return { service, admin, now: () => now, t0 };
}

describe.each(all)("the audit trail on %s", (_name, open) => {
  it("names the actor; reads by user and by time; exports every entry", async () => {
    const { store } = await open();
    try {
      const { service, t0 } = await traffic(store);
      const trail = await service.auditTrail();
      expect(trail.filter((e) => e.action === "enroll").map((e) => e.actor)).toEqual(
        Array(3).fill("admin:marie"),
      );
      expect(trail.filter((e) => e.action === "verify").every((e) => e.actor === "service:bank-login")).toBe(
        true,
      );
      expect(trail.find((e) => e.action === "unlock")).toMatchObject({ user: "bob", actor: "admin:marie" });
      const bob = await service.auditTrail({ user: "bob" });
      expect(bob.length).toBe(1 + 5 + 1);
      expect(bob.every((e) => e.user === "bob")).toBe(true);
      const window = await service.auditTrail({ since: t0 + 120_000, until: t0 + 240_000 });
      expect(window.length).toBe(2 * 4);
      expect(window.every((e) => e.at >= t0 + 120_000 && e.at < t0 + 240_000)).toBe(true);
      const paged = [
        ...(await service.auditTrail({ limit: 10 })),
        ...(await service.auditTrail({ after: trail[9]!.seq, limit: 1000 })),
      ];
      expect(paged.map((e) => e.seq)).toEqual(trail.map((e) => e.seq));
    } finally {
      await store.close();
    }
  });
});

describe.each(persistent)("the signed, chained audit trail on %s", (_name, open) => {
  it("verifies: every row chained (concurrent writers included), checkpoints signed; two checkpoints seal what came before", async () => {
    const { store } = await open();
    try {
      const { service } = await traffic(store);
      const first = await service.verifyAudit();
      expect(first).toMatchObject({
        ok: true,
        entries: 3 + 20 + 1,
        checkpoints: 0,
        unchained: 0,
        problems: [],
      });
      // alice, bob, lone-token, the shared chain of "nobody"'s unknown attempts, and "nobody"'s own once its
      // fifth attempt locked it (an unknown id is counted and locked like a known one).
      expect(first.chains).toBe(5);
      expect(await service.checkpointAudit()).toMatchObject({ seq: 1, heads: [] });
      expect(await service.checkpointAudit()).toMatchObject({ seq: 2, from: 0, to: 24 });
      expect(await service.checkpointAudit()).toBeUndefined(); // nothing new
      expect(await service.verifyAudit()).toMatchObject({ ok: true, checkpoints: 2, unsealed: 0 });
    } finally {
      await store.close();
    }
  });

  it("detects an altered row, a deleted row, a deleted tail and a forged checkpoint (capkit verify audit --verify)", async () => {
    const { store, sql } = await open();
    try {
      const { service } = await traffic(store);
      await service.checkpointAudit();
      await service.checkpointAudit();
      const trail = await service.auditTrail();
      const bobFailure = trail.find((e) => e.user === "bob" && e.result === "rejected")!;
      await sql!(`UPDATE capkit_audit SET result = 'accepted' WHERE seq = ${bobFailure.seq}`);
      expect((await service.verifyAudit()).problems).toEqual([
        expect.stringMatching(/chain user:bob: entry \d+ \(seq \d+\) altered/),
      ]);
      await sql!(`UPDATE capkit_audit SET result = 'rejected' WHERE seq = ${bobFailure.seq}`);
      const aliceMiddle = trail.filter((e) => e.user === "alice")[2]!;
      await sql!(`DELETE FROM capkit_audit WHERE seq = ${aliceMiddle.seq}`);
      expect((await service.verifyAudit()).problems).toEqual([
        expect.stringMatching(/chain user:alice: entries 3–3 are missing/),
      ]);
      const loneTail = trail.filter((e) => e.credentialId === "lone-token").slice(-2);
      await sql!(`DELETE FROM capkit_audit WHERE seq IN (${loneTail.map((e) => e.seq).join(", ")})`);
      expect((await service.verifyAudit()).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /chain credential:lone-token: entries after 4 deleted \(checkpoint 2 has it at 6\)/,
          ),
        ]),
      );
      await sql!(
        "UPDATE capkit_audit_checkpoints SET body = replace(body, '\"to\":24', '\"to\":23') WHERE seq = 2",
      );
      expect((await service.verifyAudit()).problems).toEqual(
        expect.arrayContaining(["checkpoint 2: signature invalid"]),
      );
    } finally {
      await store.close();
    }
  });

  it("retention: by age, rows and bytes; what remains still verifies, and the cut is signed", async () => {
    const { store } = await open();
    try {
      const { service, t0 } = await traffic(store);
      await service.checkpointAudit();
      await service.checkpointAudit();
      const removed = await service.pruneAudit(new Date(t0 + 180_000));
      expect(removed).toBeGreaterThan(0);
      const v = await service.verifyAudit();
      expect(v).toMatchObject({ ok: true, problems: [] });
      expect((await store.auditCheckpoints()).at(-1)).toMatchObject({ prunedBefore: t0 + 180_000 });
      // Bounded in rows and in bytes: the oldest go, each chain's newest before the cut stays.
      await service.pruneAudit({ maxRows: 8 });
      expect((await service.auditTrail()).length).toBeLessThanOrEqual(8 + 5);
      await service.pruneAudit({ maxBytes: 1 });
      expect((await service.auditTrail()).length).toBeLessThanOrEqual(5);
      expect(await service.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  });
});

describe("the memory store's audit is bounded in bytes as well as in entries", () => {
  it("600 entries with 1 MiB details keep at most auditMaxBytes", async () => {
    const store = new MemoryStore({ auditLimit: 10_000, auditMaxBytes: 4 * 1024 * 1024 });
    const detail = "x".repeat(1024 * 1024);
    for (let i = 0; i < 600; i++)
      await store.record({ at: i, credentialId: "c", action: "verify", result: "unknown", detail });
    const kept = await store.audit(undefined, 10_000);
    expect(kept.length).toBe(1); // 2 bytes a character: one 1 MiB detail is 2 MiB
    expect(kept[0]!.at).toBe(599);
  });
});
