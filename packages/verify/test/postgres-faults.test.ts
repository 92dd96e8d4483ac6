import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type AddressInfo, connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { FakeClock, SgpassToken } from "@capkit/token-sim";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, Verifier } from "../src/index.js";
import { PostgresStore } from "../src/postgres.js";

/**
 * PostgreSQL faults a bank's operations team meets (issue 11): the server crashing under 4 verifier processes,
 * backends terminated by an administrator, and a row held by another session. A real server, never skipped.
 */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const material = SoftwareKeyProvider.generateMaterial();
const keys = new SoftwareKeyProvider(material);
const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
let server: Postgres;
let store: PostgresStore;
let verifier: Verifier;

beforeAll(async () => {
  server = await startPostgres();
  store = await PostgresStore.connect(`${server.url}?application_name=capkit-victim`);
  verifier = new Verifier({ store, keys, now: () => clock.now() });
}, 60_000);
afterAll(async () => {
  await store?.close();
  await server?.dispose();
}, 60_000);

const uid = (p: string) => `${p}-${randomBytes(6).toString("hex")}`;
const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
/**
 * A TCP proxy in front of PostgreSQL that can partition the network the worst way for honesty: while
 * partitioned, what a client sends on an established connection still reaches the server, and every byte the
 * server sends back is lost (and the connection is cut when the partition heals). A statement sent then
 * commits, and its client learns nothing: only its timeout.
 */
async function partitionProxy(port: number) {
  let partitioned = false;
  const cut = new Set<() => void>();
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    let started = false; // the first client message is the start-up packet: it goes through either way
    let deaf = false;
    client.on("data", (d) => {
      if (partitioned && started && !deaf) {
        deaf = true;
        cut.add(kill);
      }
      started = true;
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (!deaf) client.write(d);
    });
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", kill).on("close", kill);
    upstream.on("error", kill).on("close", kill);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    partition(on: boolean) {
      partitioned = on;
      if (on) return;
      for (const k of cut) k();
      cut.clear();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const admin = async () => {
  const c = new pg.Client({ connectionString: server.url });
  c.on("error", () => {});
  await c.connect();
  return c;
};

interface Line {
  t: string;
  counter?: number;
  code?: string;
  outcome?: string;
  phase: "before" | "outage" | "after";
}

interface Worker {
  id: string;
  secret: Buffer;
  child: ChildProcess;
  lines: Line[];
  exit: number | null | undefined;
}

/** 4 verifier processes (fixtures/pg-loop-worker.ts) on `url`, each verifying its own token's codes in a loop. */
async function startWorkers(url: string, phase: () => Line["phase"]): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let i = 0; i < 4; i++) {
    const secret = randomBytes(20);
    const id = uid("loop");
    await verifier.enroll({ id, kind: "hotp", secret });
    const child = spawn(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/pg-loop-worker.ts", import.meta.url)),
        url,
        id,
        secret.toString("hex"),
      ],
      { cwd: ROOT, env: { ...process.env, CAPKIT_KEYS: JSON.stringify(material) }, stdio: "pipe" },
    );
    const w: Worker = { id, secret, child, lines: [], exit: undefined };
    let buf = "";
    child.stdout!.on("data", (d) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        w.lines.push({ ...JSON.parse(buf.slice(0, nl)), phase: phase() });
        buf = buf.slice(nl + 1);
      }
    });
    child.on("exit", (code) => {
      w.exit = code;
    });
    workers.push(w);
  }
  return workers;
}

const count = (w: Worker, p: Line["phase"], t: string) =>
  w.lines.filter((l) => l.phase === p && l.t === t).length;

/**
 * What every worker must have seen through a fault, and how many of its accepts committed unseen: an error
 * answered, the accept committed anyway, and its retry (same request id) recognised — answered "accepted" again.
 * Honest outcomes: an accept that committed behind an error had an error saying "the outcome is unknown"; none
 * is ever answered "rejected"; no counter is accepted twice or lost.
 */
async function checkWorkers(workers: Worker[]): Promise<number> {
  let unseen = 0;
  for (const w of workers) {
    expect(w.exit).toBe(0);
    // During the fault: nothing but STORE_UNAVAILABLE (an answer already on its way may still arrive).
    const fault = w.lines.filter((l) => l.phase === "outage" && l.t !== "accepted");
    expect(new Set(fault.map((l) => `${l.t}:${l.code}`))).toEqual(new Set(["error:STORE_UNAVAILABLE"]));
    expect(w.lines.filter((l) => l.t === "rejected" || l.t === "locked")).toEqual([]);
    const accepted = w.lines.filter((l) => l.t === "accepted").map((l) => l.counter!);
    expect(accepted).toEqual(Array.from({ length: accepted.length }, (_, i) => i));
    const trail = await verifier.audit(w.id, 100_000);
    const retried = new Set(
      trail
        .filter((a) => a.result === "accepted" && /the retry of request/.test(a.detail ?? ""))
        .map((a) => a.counter),
    );
    for (const c of retried) {
      const errors = w.lines.filter((l) => l.t === "error" && l.counter === c);
      expect(
        errors.some((l) => l.outcome === "unknown"),
        `counter ${c} committed unseen`,
      ).toBe(true);
    }
    unseen += retried.size;
    // No counter lost: the state holds the last acceptance; every accepted code is refused again.
    const s = await verifier.status(w.id);
    expect(s.last).toBe(Math.max(...accepted));
    const token = new SgpassToken({ kind: "hotp", secret: w.secret, clock });
    const codes = Array.from({ length: s.last + 1 }, () => token.press().code!);
    for (const c of codes.slice(-3))
      expect((await verifier.verify({ id: w.id, code: c })).result).toBe("rejected");
    await verifier.unlock(w.id);
  }
  return unseen;
}

describe("PostgreSQL faults", () => {
  it("4 processes, server stopped with -m immediate mid-run: all live, only STORE_UNAVAILABLE during the outage, verifying again after the restart, no counter lost, every accept that committed unseen recognised on retry", async () => {
    let phase: Line["phase"] = "before";
    const workers = await startWorkers(server.url, () => phase);
    await until("each worker's first acceptances", () =>
      workers.every((w) => count(w, "before", "accepted") >= 5),
    );
    phase = "outage";
    await server.stop("immediate");
    await until("STORE_UNAVAILABLE in each worker", () =>
      workers.every((w) => count(w, "outage", "error") >= 5),
    );
    await new Promise((r) => setTimeout(r, 500));
    for (const w of workers) expect(w.exit, "a worker died during the outage").toBeUndefined();
    await server.start();
    phase = "after";
    await until("acceptances after the restart", () =>
      workers.every((w) => count(w, "after", "accepted") >= 5),
    );
    for (const w of workers) w.child.stdin!.write("stop\n");
    await until("workers to finish", () => workers.every((w) => w.exit !== undefined));
    console.log(`crash: ${await checkWorkers(workers)} accepts committed unseen, all recognised on retry`);
  }, 120_000);

  it("a 5 s network partition that lets the statements through and loses the answers: every accept that committed unseen is recognised on retry (none answered rejected), all workers live", async () => {
    let phase: Line["phase"] = "before";
    const proxy = await partitionProxy(server.port);
    try {
      const workers = await startWorkers(`postgres://capkit@127.0.0.1:${proxy.port}/postgres`, () => phase);
      await until("each worker's first acceptances", () =>
        workers.every((w) => count(w, "before", "accepted") >= 5),
      );
      phase = "outage";
      proxy.partition(true);
      await new Promise((r) => setTimeout(r, 5000));
      proxy.partition(false);
      phase = "after";
      await until("acceptances after the partition", () =>
        workers.every((w) => count(w, "after", "accepted") >= 5),
      );
      for (const w of workers) w.child.stdin!.write("stop\n");
      await until("workers to finish", () => workers.every((w) => w.exit !== undefined));
      for (const w of workers)
        expect(count(w, "outage", "error"), "errors during the partition").toBeGreaterThan(0);
      const unseen = await checkWorkers(workers);
      console.log(`partition: ${unseen} accepts committed unseen, all recognised on retry`);
      expect(unseen).toBeGreaterThanOrEqual(workers.length);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it("pg_terminate_backend on the verifier's sessions: STORE_UNAVAILABLE or an answer, never a crash; then it works", async () => {
    const secret = randomBytes(20);
    const id = uid("terminate");
    await verifier.enroll({ id, kind: "hotp", secret });
    const token = new SgpassToken({ kind: "hotp", secret, clock });
    const a = await admin();
    const outcomes: string[] = [];
    for (let round = 0; round < 5; round++) {
      // A burst in flight while an administrator terminates every session of the verifier.
      const burst = Array.from({ length: 10 }, () =>
        verifier.verify({ id, code: "000000" }).then(
          (r) => r.result,
          (e) => (e as { code: string }).code,
        ),
      );
      await a.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'capkit-victim'",
      );
      outcomes.push(...(await Promise.all(burst)));
      await verifier.unlock(id).catch(() => {});
    }
    await a.end();
    for (const o of outcomes) expect(["rejected", "locked", "STORE_UNAVAILABLE"]).toContain(o);
    await verifier.unlock(id);
    expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted");
  }, 60_000);

  it("a row held 10 s by SELECT … FOR UPDATE: that credential answers STORE_UNAVAILABLE while the lock is held; the others keep working", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const secret = randomBytes(20);
        const id = uid("lock");
        await verifier.enroll({ id, kind: "hotp", secret });
        return { id, token: new SgpassToken({ kind: "hotp", secret, clock }) };
      }),
    );
    const [stuck, ...others] = tokens as [(typeof tokens)[0], ...typeof tokens];
    const run = (latencies: number[]) =>
      others.map(async (o) => {
        const results: string[] = [];
        for (let i = 0; i < 10; i++) {
          const t = performance.now();
          results.push((await verifier.verify({ id: o.id, code: o.token.press().code! })).result);
          latencies.push(performance.now() - t);
        }
        return { results, at: Date.now() };
      });
    const p99 = (l: number[]) => l.sort((x, y) => x - y)[Math.floor(l.length * 0.99)]!.toFixed(1);
    await Promise.all(run([])); // warm-up: credentials cached, statements prepared
    const baseline: number[] = [];
    await Promise.all(run(baseline));
    const a = await admin();
    await a.query("BEGIN");
    await a.query("SELECT * FROM capkit_credentials WHERE id = $1 FOR UPDATE", [stuck.id]);
    const heldFrom = Date.now();
    let released = 0;
    const release = new Promise<void>((resolve) =>
      setTimeout(async () => {
        released = Date.now();
        await a.query("ROLLBACK");
        resolve();
      }, 10_000),
    );
    // 30 attempts on the stuck credential (more than the pool has connections) and, at the same time, 5 other
    // credentials verifying code after code.
    const stuckCode = stuck.token.press().code!;
    const onStuck = Array.from({ length: 30 }, () =>
      verifier.verify({ id: stuck.id, code: stuckCode }).then(
        (r) => ({ outcome: r.result as string, at: Date.now() }),
        (e) => ({ outcome: (e as { code: string }).code, at: Date.now() }),
      ),
    );
    const latencies: number[] = [];
    const onOthers = run(latencies);
    const stuckResults = await Promise.all(onStuck);
    const otherResults = await Promise.all(onOthers);
    for (const r of stuckResults) {
      expect(r.outcome).toBe("STORE_UNAVAILABLE");
      expect(released, "answered only after the lock was released").toBe(0);
    }
    for (const r of otherResults) expect(r.results.every((x) => x === "accepted")).toBe(true);
    expect(released, "the other credentials finished only after the lock was released").toBe(0);
    const waited = Math.max(...stuckResults.map((r) => r.at - heldFrom));
    console.log(
      `row lock: the stuck credential answered within ${waited} ms; the others' p99 ${p99(latencies)} ms during the lock, ${p99(baseline)} ms before (${latencies.length} verifications each)`,
    );
    await release;
    await a.end();
    expect((await verifier.verify({ id: stuck.id, code: stuckCode })).result).toBe("accepted");
  }, 60_000);

  it("a session holding a capkit table in an open transaction while a newer store opens: verifications go on; the opener gives up cleanly (STORE_UNAVAILABLE naming the table, nothing migrated), or opens once the lock is released", async () => {
    const secret = randomBytes(20);
    const id = uid("migrate");
    await verifier.enroll({ id, kind: "hotp", secret });
    const token = new SgpassToken({ kind: "hotp", secret, clock });
    await verifier.enroll({ id: uid("other"), kind: "hotp", secret: randomBytes(20) });
    expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted"); // cached
    const a = await admin();
    const watch = await admin();
    // The database as the version before this one left it: its version row set back, so opening a store runs the
    // step again over the existing tables (the DDL of every step is idempotent) — the locks a real upgrade takes.
    const version = async () =>
      (await watch.query("SELECT value FROM capkit_meta WHERE name = 'schema:verifier'")).rows[0].value;
    await watch.query("UPDATE capkit_meta SET value = '0' WHERE name = 'schema:verifier'");
    // An operator's transaction left open after a write to another credential's row: it holds the table's
    // ROW EXCLUSIVE lock, which every lock a migration's DDL takes on the table conflicts with.
    await a.query("BEGIN");
    await a.query("UPDATE capkit_credentials SET state = state WHERE id <> $1", [id]);
    /** Verifications on the running store while `opening` is pending; every answer, and whether the opener was seen waiting for its lock. */
    const meanwhile = async (opening: Promise<unknown>, enough?: number) => {
      let settled = false;
      void opening.then(
        () => (settled = true),
        () => (settled = true),
      );
      const answers: string[] = [];
      let waitsSeen = 0;
      while (!settled && (enough === undefined || waitsSeen === 0 || answers.length < enough)) {
        answers.push(
          await verifier.verify({ id, code: token.press().code! }).then(
            (r) => r.result as string,
            (e) => (e as { code: string }).code,
          ),
        );
        if (answers.at(-1) !== "accepted") break; // before the fix: the first verification times out
        const waiting = await watch.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'",
        );
        waitsSeen += waiting.rows[0].n;
      }
      return { answers, waitsSeen };
    };
    try {
      // Held throughout: the opener tries its attempts, then gives up; the running store answers all along.
      const opening = PostgresStore.connect(server.url);
      const held = await meanwhile(opening);
      const failure = await opening.then(
        () => undefined,
        (e) => e as { code: string; message: string; details: Record<string, unknown> },
      );
      expect(new Set(held.answers), "every verification answered while the opener waited").toEqual(
        new Set(["accepted"]),
      );
      expect(held.answers.length).toBeGreaterThan(10);
      expect(held.waitsSeen, "the opener was seen waiting for its lock").toBeGreaterThan(0);
      expect(failure).toMatchObject({
        code: "STORE_UNAVAILABLE",
        details: { outcome: "nothing done", table: "capkit_credentials", schema: "public" },
      });
      expect(failure?.message).toContain("public.capkit_credentials");
      expect(await version(), "nothing migrated").toBe("0");
      // Released while a second opener waits: it opens, the step recorded; the verifications went on meanwhile.
      const second = PostgresStore.connect(server.url);
      const during = await meanwhile(second, 5);
      await a.query("ROLLBACK");
      const opened = await second;
      await opened.close();
      expect(new Set(during.answers)).toEqual(new Set(["accepted"]));
      expect(during.waitsSeen).toBeGreaterThan(0);
      expect(await version()).toBe("1");
      console.log(
        `held lock: ${held.answers.length} verifications accepted while the opener tried and gave up, ${during.answers.length} while the second waited`,
      );
    } finally {
      await a.query("ROLLBACK").catch(() => {});
      await watch.query("UPDATE capkit_meta SET value = '1' WHERE name = 'schema:verifier'");
      await a.end();
      await watch.end();
    }
    expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted");
  }, 60_000);
});
