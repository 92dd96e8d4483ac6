import { createHook } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { PerformanceObserver } from "node:perf_hooks";
import { CapCodeModel, testIccMasterKey } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { startPostgres } from "@capkit/test-support";
import { issuerRecordOf, newSimCardState } from "@capkit/token-sim";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { PostgresStore } from "@capkit/verify/postgres";
import pg from "pg";
import { median } from "./harness.js";

/**
 * What one verification costs the client, counted rather than timed (the machine is shared; counts are not
 * moved by the other jobs): the promises and timers it makes (async_hooks), and the bytes it allocates (the
 * heap's growth over 200 verifications between two collections, median of 15 such spans). Beside capkit's
 * PostgreSQL verification, node-postgres alone sending the same accept statement, on one connection and through
 * a pool with the store's options: what is the driver's and the pool's, and what is capkit's own.
 */
export interface Work {
  readonly promises: number;
  readonly timers: number;
  readonly bytes: number;
}

const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

async function counted(one: () => Promise<unknown>, n: number): Promise<Work> {
  for (let i = 0; i < 200; i++) await one(); // warm: statements prepared, engines cached, code optimised
  const kinds = new Map<string, number>();
  const hook = createHook({ init: (_id, type) => kinds.set(type, (kinds.get(type) ?? 0) + 1) });
  hook.enable();
  try {
    for (let i = 0; i < n; i++) await one();
  } finally {
    hook.disable();
  }
  let gcs = 0;
  const observer = new PerformanceObserver((l) => {
    gcs += l.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  const spans: number[] = [];
  try {
    for (let k = 0; k < 60 && spans.length < 15; k++) {
      await new Promise((r) => setTimeout(r, 5)); // a collection that just ran is reported by now
      const g = gcs;
      const h0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < 200; i++) await one();
      const h1 = process.memoryUsage().heapUsed;
      await new Promise((r) => setTimeout(r, 5));
      if (gcs === g && h1 > h0) spans.push((h1 - h0) / 200);
    }
  } finally {
    observer.disconnect();
  }
  return {
    promises: (kinds.get("PROMISE") ?? 0) / n,
    timers: (kinds.get("Timeout") ?? 0) / n,
    bytes: spans.length > 0 ? median(spans) : Number.NaN,
  };
}

function expectAccepted(r: { result: string }): void {
  if (r.result !== "accepted") throw new Error(`benchmark code was ${r.result}`);
}

/** A Sésame identify verification on the memory store, fresh code each time. */
async function capMemory(): Promise<Work> {
  const record = issuerRecordOf({ ...newSimCardState("sesame", "1234"), atc: 0 });
  const codeAt = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" });
  const verifier = new Verifier({ store: new MemoryStore(), keys });
  await verifier.enroll({ id: "card", kind: "cap", record, lastAtc: 0 });
  const codes = Array.from({ length: 20_000 }, (_, i) => String(codeAt(i + 1)));
  let i = 0;
  return counted(async () => expectAccepted(await verifier.verify({ id: "card", code: codes[i++]! })), 2_000);
}

/** TOTP on PostgreSQL (one connection), then node-postgres alone with the statement the store sent. */
async function postgres(): Promise<{ capkit: Work; client: Work; pool: Work }> {
  const server = await startPostgres({ under: "/dev/shm" });
  try {
    const store = await PostgresStore.connect(server.url, { poolSize: 1 });
    let step = Math.floor(T0 / 30_000);
    const verifier = new Verifier({ store, keys, now: () => step * 30_000 });
    const secret = randomBytes(20);
    await verifier.enroll({ id: "totp", kind: "totp", secret });
    const gen = new HotpGenerator(new HmacKey(secret), 6);
    const next = async () => {
      step++;
      expectAccepted(await verifier.verify({ id: "totp", code: gen.code(step) }));
    };
    await next(); // cached: the next verifications send the accept alone
    const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
    const query = proto.query;
    let seen: { text: string; values: unknown[] } | undefined;
    proto.query = function (this: unknown, ...a: unknown[]) {
      const q = a[0] as { text?: string; values?: unknown[] };
      if (typeof q?.text === "string") seen = { text: q.text, values: [...(q.values ?? [])] };
      return query.apply(this, a);
    };
    try {
      await next();
    } finally {
      proto.query = query;
    }
    const capkit = await counted(next, 2_000);
    await store.close();
    if (!seen) throw new Error("the accept statement was not seen");
    const accept = seen;
    // Each statement accepts: the counter ($2) moves on, at version 0 of a row of its own.
    const id = "bare";
    await (async () => {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      await c.query("INSERT INTO capkit_credentials (id, params, last, created_at) VALUES ($1, '{}', 0, 0)", [
        id,
      ]);
      await c.end();
    })();
    let last = 0;
    const values = () =>
      accept.values.map((v, j) => (j === 0 || j === 9 ? id : j === 1 ? ++last : j === 3 ? 0 : v));
    const check = (r: { rows: { accepted?: unknown }[] }) => {
      if (r.rows[0]?.accepted !== true) throw new Error("the bare accept statement did not accept");
    };
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const client = await counted(
      async () => check(await c.query({ name: "accept", text: accept.text, values: values() })),
      2_000,
    );
    await c.end();
    // The pool as PostgresStore makes it (src/stores/postgres.ts), one connection.
    const p = new pg.Pool({
      connectionString: server.url,
      max: 1,
      connectionTimeoutMillis: 2000,
      statement_timeout: 2000,
      lock_timeout: 1000,
      query_timeout: 3000,
    });
    const pool = await counted(async () => {
      const conn = await p.connect();
      try {
        check(await conn.query({ name: "accept", text: accept.text, values: values() }));
      } finally {
        conn.release();
      }
    }, 2_000);
    await p.end();
    return { capkit, client, pool };
  } finally {
    await server.dispose();
  }
}

/** The counted rows, as Markdown. */
export async function verificationWork(): Promise<string> {
  const cap = await capMemory();
  const pgw = await postgres();
  const row = (name: string, w: Work) =>
    `| ${name} | ${w.promises.toFixed(1)} | ${w.timers.toFixed(1)} | ${Math.round(w.bytes).toLocaleString("en-US")} B |`;
  return [
    "What one verification makes and allocates, counted (async_hooks for the promises and timers; the heap's growth",
    "over 200 verifications between two collections, median of 15 spans, for the bytes: counts the other jobs on",
    "this machine do not move; each row's count includes one promise of the harness's own step). bench/verify-work.ts.",
    "",
    "| case | promises | timers | bytes allocated |",
    "|---|---:|---:|---:|",
    row("CAP identify (sesame), memory store, `Verifier.verify()`", cap),
    row("TOTP, PostgreSQL (one connection), `Verifier.verify()`", pgw.capkit),
    row(
      "node-postgres alone: capkit's accept statement, through a `pg.Pool` with the store's options",
      pgw.pool,
    ),
    row("node-postgres alone: capkit's accept statement, on one `pg.Client`", pgw.client),
  ].join("\n");
}
