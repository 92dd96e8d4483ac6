import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyReceiptChain } from "@capkit/provision";
import { type Postgres, startPostgres } from "@capkit/test-support";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Approvals,
  type DeviceDecision,
  type SecurityEventRecord,
  SecurityEvents,
  type SecurityStore,
} from "../src/approvals.js";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { PostgresSecurityStore, PostgresStore } from "../src/postgres.js";
import { SqliteSecurityStore, SqliteStore } from "../src/sqlite.js";
import { appDevice, uid, type World } from "./approvals-world.js";

/**
 * The approvals across processes, as a bank cluster runs them: one operation decided from 4 processes at once,
 * events recorded by one process while another approves, and processes killed (SIGKILL) at random points while
 * they create and approve — on SQLite (one file, its writers queue) and on PostgreSQL (one statement per event,
 * a locked transaction per decision).
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const WORKER = fileURLToPath(new URL("./fixtures/approvals-worker.ts", import.meta.url));
const material = SoftwareKeyProvider.generateMaterial();
const env = { ...process.env, CAPKIT_KEYS: JSON.stringify(material) };

function start(job: object): { child: ChildProcess; lines: unknown[]; done: Promise<number | null> } {
  const child = spawn(process.execPath, ["--conditions=@capkit/source", "--import", "tsx", WORKER], {
    cwd: ROOT,
    env,
    stdio: "pipe",
  });
  const lines: unknown[] = [];
  let buffer = "";
  let err = "";
  child.stdout!.on("data", (d) => {
    buffer += d;
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      lines.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr!.on("data", (d) => (err += d));
  const done = new Promise<number | null>((resolve) =>
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") process.stderr.write(err);
      resolve(code);
    }),
  );
  child.stdin!.end(JSON.stringify(job));
  return { child, lines, done };
}

async function run(job: object): Promise<unknown> {
  const w = start(job);
  expect(await w.done).toBe(0);
  return w.lines.at(-1);
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 600 && !f(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!f()) throw new Error("the worker never got ready");
};

interface Target {
  readonly name: string;
  readonly spec: () => string;
  readonly open: () => Promise<{ store: StateStore; security: SecurityStore }>;
  /** After a kill: the database file is whole (SQLite). */
  readonly intact?: () => void;
}

const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-faults-"));
const sqlitePath = join(dir, "state.db");
let pg: Postgres | undefined;

const targets: Target[] = [
  {
    name: "SQLite",
    spec: () => sqlitePath,
    open: async () => {
      const store = new SqliteStore(sqlitePath);
      return { store, security: new SqliteSecurityStore(sqlitePath) };
    },
    intact: () => {
      const db = new Database(sqlitePath);
      expect(db.pragma("integrity_check")).toEqual([{ integrity_check: "ok" }]);
      db.close();
    },
  },
  {
    name: "PostgreSQL",
    spec: () => pg!.url,
    open: async () => {
      const store = await PostgresStore.connect(pg!.url);
      return { store, security: await PostgresSecurityStore.connect(pg!.url) };
    },
  },
];

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

for (const t of targets) {
  describe(`approvals across processes on ${t.name}`, () => {
    let w: World & { close(): Promise<void> };
    beforeAll(async () => {
      const stores = await t.open();
      const keys = new SoftwareKeyProvider(material);
      const verifier = new Verifier({ store: stores.store, keys });
      w = {
        ...stores,
        keys,
        verifier,
        approvals: new Approvals({ verifier, store: stores.security, keys }),
        events: new SecurityEvents({ store: stores.security }),
        clock: { now: () => Date.now() } as never,
        grants: undefined as never,
        close: async () => {
          await stores.security.close();
          await stores.store.close();
        },
      };
    });
    afterAll(async () => w?.close());

    it("one operation decided by 4 processes at once, 10 valid decisions each: exactly one approval, one receipt", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      const device: DeviceDecision = await app.decide(op.digest);
      const decisions = Array.from({ length: 10 }, () => ({ id: op.id, device }));
      const results = (
        (await Promise.all(
          [0, 1, 2, 3].map(() => run({ store: t.spec(), mode: "decide", decisions })),
        )) as string[][]
      ).flat();
      expect(results.filter((r) => r === "approved")).toHaveLength(1);
      expect(results.filter((r) => r === "closed")).toHaveLength(39);
      expect(await w.approvals.receipts(app.user)).toHaveLength(1);
      expect((await w.approvals.state(op.id)).state).toBe("approved");
    }, 120_000);

    it("a password reset from another process while approvals are decided: each is either before the reset, or refused", async () => {
      const app = await appDevice(w);
      const ops = [];
      for (let i = 0; i < 8; i++) {
        const op = await app.operation({ amount: 100 + i });
        ops.push({ id: op.id, device: await app.decide(op.digest) });
      }
      const [results, event] = (await Promise.all([
        run({ store: t.spec(), mode: "decide", decisions: ops }),
        run({
          store: t.spec(),
          mode: "event",
          type: "password-reset",
          subject: { kind: "user", id: app.user },
          cause: "race",
        }),
      ])) as [string[], SecurityEventRecord];
      const approved = results.filter((r) => r === "approved").length;
      expect(approved + event.operationsCancelled).toBe(8);
      expect(results.filter((r) => r !== "approved").every((r) => r === "closed")).toBe(true);
      const states = await Promise.all(ops.map((o) => w.approvals.state(o.id)));
      expect(states.filter((s) => s.state === "approved")).toHaveLength(approved);
      expect(states.filter((s) => s.state === "cancelled" && s.reason === "password-reset")).toHaveLength(
        event.operationsCancelled,
      );
      expect(
        verifyReceiptChain(await w.approvals.receipts(app.user), await w.approvals.receiptKeys()),
      ).toEqual({ ok: true });
    }, 120_000);

    it("SIGKILL at random points of two processes creating, approving and recording events: nothing acknowledged lost, nothing half-written", async () => {
      const user = uid("killed");
      const credential = uid("app");
      await w.verifier.enroll({ id: credential, user, kind: "totp", secret: Buffer.alloc(20, 9) });
      const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
      const y = Buffer.from(publicKey.export({ format: "jwk" }).y!, "base64url");
      await w.approvals.registerDevice({
        credential,
        publicKey: new Uint8Array(Buffer.concat([Buffer.of(4), raw, y])),
      });
      const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
      const acknowledged = { created: new Set<string>(), approved: new Set<string>(), events: 0 };
      const rounds = t.name === "SQLite" ? 20 : 10;
      for (let round = 0; round < rounds; round++) {
        const workers = [0, 1].map(() =>
          start({ store: t.spec(), mode: "loop", user, credential, pkcs8, events: 3 }),
        );
        await until(() => workers.every((x) => x.lines.includes("ready")));
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
        for (const x of workers) x.child.kill("SIGKILL");
        await Promise.all(workers.map((x) => x.done));
        for (const line of workers.flatMap((x) => x.lines) as Record<string, unknown>[]) {
          if (typeof line !== "object") continue;
          if (line["created"]) acknowledged.created.add(String(line["created"]));
          if (line["result"] === "approved") acknowledged.approved.add(String(line["decided"]));
          if (line["event"]) acknowledged.events++;
        }
        t.intact?.();
        // Every acknowledged step is stored; every decided operation has exactly one receipt, in one chain.
        // Every page: a fast machine creates more than one page's worth over the rounds.
        const ops = new Map<string, Awaited<ReturnType<typeof w.approvals.list>>[number]>();
        for (let page = await w.approvals.list(user, { limit: 1000 }); page.length > 0; ) {
          for (const o of page) ops.set(o.id, o);
          page = await w.approvals.list(user, { limit: 1000, after: page.at(-1)!.id });
        }
        for (const id of acknowledged.created)
          expect(ops.has(id), `${id}: ${acknowledged.created.size} acknowledged, ${ops.size} stored`).toBe(
            true,
          );
        for (const id of acknowledged.approved) expect(ops.get(id)?.state).toBe("approved");
        const receipts: Awaited<ReturnType<typeof w.approvals.receipts>> = [];
        for (let page = await w.approvals.receipts(user, { limit: 1000 }); page.length > 0; ) {
          receipts.push(...page);
          page = await w.approvals.receipts(user, { limit: 1000, after: receipts.length });
        }
        expect(verifyReceiptChain(receipts, await w.approvals.receiptKeys())).toEqual({ ok: true });
        const decided = [...ops.values()].filter((o) => o.state === "approved" || o.state === "declined");
        expect(receipts.map((r) => r.receipt.operationDigest).sort()).toEqual(
          decided.map((o) => o.digest).sort(),
        );
        const events = await w.events.list({ subject: { kind: "user", id: user }, limit: 1000 });
        expect(events.length).toBeGreaterThanOrEqual(acknowledged.events);
        expect(await w.events.epochs({ kind: "user", id: user })).toMatchObject({
          session: events.length,
          grant: events.length,
          device: 0,
        });
      }
      expect((await w.verifier.verifyAudit()).problems).toEqual([]);
      expect(acknowledged.approved.size).toBeGreaterThan(0);
    }, 600_000);
  });
}
