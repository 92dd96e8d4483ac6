import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyReceiptChain } from "@capkit/provision";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { systemClock } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Approvals, type DecideRequest, type SecurityStore } from "../src/approvals.js";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { PostgresSecurityStore, PostgresStore } from "../src/postgres.js";
import { SqliteSecurityStore, SqliteStore } from "../src/sqlite.js";
import { appDevice, keypad, transfer, type World } from "./approvals-world.js";

/**
 * The approvals attacked from several processes on one database, as a cluster of bank servers: two processes on
 * one SQLite file, four on one PostgreSQL database (fixtures/approvals-worker.ts decides what it is given, all
 * at once). Exactly one decision per operation whoever sends what; one user's chain never forks; a burst of
 * forged signatures or wrong codes with the right one last in its process gets nothing approved.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const WORKER = fileURLToPath(new URL("./fixtures/approvals-worker.ts", import.meta.url));
const material = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });

/** The results (or error codes) of the worker deciding `decisions` at once on `store`. */
function decideIn(store: string, decisions: readonly DecideRequest[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@capkit/source", "--import", "tsx", WORKER], {
      cwd: ROOT,
      env: { ...process.env, CAPKIT_KEYS: JSON.stringify(material) },
      stdio: "pipe",
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
    child.stdin.end(JSON.stringify({ store, mode: "decide", decisions }));
  });
}

const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-attacks-processes-"));
const sqlitePath = join(dir, "state.db");
let pg: Postgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const targets = [
  {
    name: "SQLite, two processes on one file",
    processes: 2,
    spec: () => sqlitePath,
    open: async (): Promise<{ store: StateStore; security: SecurityStore }> => {
      const store = new SqliteStore(sqlitePath);
      return { store, security: new SqliteSecurityStore(sqlitePath) };
    },
  },
  {
    name: "PostgreSQL, four processes",
    processes: 4,
    spec: () => pg!.url,
    open: async (): Promise<{ store: StateStore; security: SecurityStore }> => {
      const store = await PostgresStore.connect(pg!.url);
      return { store, security: await PostgresSecurityStore.connect(pg!.url) };
    },
  },
];

for (const t of targets) {
  describe(`the approvals attacked across processes: ${t.name}`, () => {
    let w: World;
    beforeAll(async () => {
      const stores = await t.open();
      const keys = new SoftwareKeyProvider(material);
      const verifier = new Verifier({ store: stores.store, keys });
      w = {
        ...stores,
        keys,
        verifier,
        approvals: new Approvals({ verifier, store: stores.security, keys }),
        // The system's time (the processes share it), as a FakeClock-shaped clock that never moves by hand.
        clock: { ...systemClock, advance: () => {} } as never,
        events: undefined as never,
        grants: undefined as never,
      };
    });
    afterAll(async () => {
      await w?.security.close();
      await w?.store.close();
    });
    const procs = () => Array.from({ length: t.processes }, (_, i) => i);

    it("accept racing decline, in every process at once: one decision, one receipt", async () => {
      const app = await appDevice(w);
      for (let round = 0; round < 3; round++) {
        const op = await app.operation({ amount: 700 + round });
        const accept = await app.decide(op.digest, "accept");
        const decline = await app.decide(op.digest, "decline");
        const results = (
          await Promise.all(
            procs().map((p) =>
              decideIn(
                t.spec(),
                Array.from({ length: 8 }, (_, i) => ({ id: op.id, device: (p + i) % 2 ? decline : accept })),
              ),
            ),
          )
        ).flat();
        expect(results.filter((r) => r === "approved" || r === "declined")).toHaveLength(1);
        expect(results.filter((r) => r === "closed")).toHaveLength(results.length - 1);
      }
      const chain = await w.approvals.receipts(app.user);
      expect(chain).toHaveLength(3);
      expect(verifyReceiptChain(chain, await w.approvals.receiptKeys())).toEqual({ ok: true });
      expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
    }, 120_000);

    it("one user's operations decided from every process at once: one receipt each, one chain, never forked", async () => {
      const app = await appDevice(w);
      const ops: DecideRequest[] = [];
      for (let i = 0; i < 16; i++) {
        const op = await app.operation({ amount: 900 + i });
        ops.push({ id: op.id, device: await app.decide(op.digest) });
      }
      // Every process is given every operation, in its own order.
      const results = (
        await Promise.all(
          procs().map((p) => decideIn(t.spec(), [...ops.slice(p * 3), ...ops.slice(0, p * 3)])),
        )
      ).flat();
      // Each operation is approved once and closed for the others. On a loaded machine a decision may wait for
      // the user's row past the store's lock timeout: STORE_UNAVAILABLE, nothing decided — its operation is
      // still pending, and deciding it again (as a client retries) approves it.
      expect(results.every((r) => ["approved", "closed", "STORE_UNAVAILABLE"].includes(r))).toBe(true);
      const left: DecideRequest[] = [];
      for (const op of ops) if ((await w.approvals.state(op.id)).state === "pending") left.push(op);
      expect(results.filter((r) => r === "approved")).toHaveLength(16 - left.length);
      for (const op of left) expect((await w.approvals.decide(op)).result).toBe("approved");
      const chain = await w.approvals.receipts(app.user);
      expect(chain).toHaveLength(16);
      expect(verifyReceiptChain(chain, await w.approvals.receiptKeys())).toEqual({ ok: true });
    }, 120_000);

    it("forged signatures from every process, the right one last in one of them: none approved, all counted", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      const forged = () => ({
        id: op.id,
        device: {
          decision: "accept" as const,
          operationDigest: op.digest,
          signature: randomBytes(64).toString("base64"),
        },
      });
      const right = { id: op.id, device: await app.decide(op.digest) };
      const jobs = procs().map((p) => [...Array.from({ length: 6 }, forged), ...(p === 0 ? [right] : [])]);
      const results = (await Promise.all(jobs.map((j) => decideIn(t.spec(), j)))).flat();
      expect(results.filter((r) => r === "approved")).toHaveLength(0);
      expect(results.filter((r) => r === "rejected")).toHaveLength(4);
      expect(await w.verifier.userStatus(app.user)).toMatchObject({ locked: true });
      expect((await w.approvals.state(op.id)).state).toBe("pending");
    }, 120_000);

    it("wrong keypad codes from every process, the right one last in one of them: none approved", async () => {
      const k = await keypad(w);
      const op = await w.approvals.create({
        document: transfer(w),
        user: k.user,
        credential: k.credential,
        method: "ocra",
      });
      const right = k.code(op);
      const wrong = () => {
        const c = String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, "0");
        return c === right ? "99999999" : c;
      };
      const jobs = procs().map((p) => [
        ...Array.from({ length: 6 }, () => ({ id: op.id, decision: "approve" as const, code: wrong() })),
        ...(p === 0 ? [{ id: op.id, decision: "approve" as const, code: right }] : []),
      ]);
      const results = (await Promise.all(jobs.map((j) => decideIn(t.spec(), j)))).flat();
      expect(results.filter((r) => r === "approved")).toHaveLength(0);
      expect(await w.verifier.userStatus(k.user)).toMatchObject({ locked: true });
    }, 120_000);
  });
}
