import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CapCodeModel, testIccMasterKey } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { startPostgres } from "@capkit/test-support";
import { issuerRecordOf, newSimCardState } from "@capkit/token-sim";
import { MemoryStore, SoftwareKeyProvider, type StateStore, Verifier } from "@capkit/verify";
import { PostgresStore } from "@capkit/verify/postgres";
import { SqliteStore } from "@capkit/verify/sqlite";
import { machineLine, median, writeSection } from "./harness.js";

/**
 * Verifications per second through the whole Verifier (store included). Every verification accepts a fresh,
 * precomputed code — state moves on each time, so these are timed batches, not time-boxed loops. Median of 3.
 */
const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

async function timed(
  runs: number,
  batch: () => Promise<{ n: number; run: () => Promise<void> }>,
): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { n, run } = await batch();
    const t = performance.now();
    await run();
    rates.push(n / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

function expectAccepted(r: { result: string }): void {
  if (r.result !== "accepted") throw new Error(`benchmark code was ${r.result}`);
}

async function oathBatch(store: StateStore, kind: "totp" | "hotp", n: number) {
  let now = T0;
  const verifier = new Verifier({ store, keys, now: () => now });
  const secret = randomBytes(20);
  const id = `${kind}-${randomBytes(6).toString("hex")}`;
  await verifier.enroll({ id, kind, secret });
  const gen = new HotpGenerator(new HmacKey(secret), 6);
  const step0 = Math.floor(T0 / 30_000);
  const codes = Array.from({ length: n }, (_, i) => gen.code(kind === "totp" ? step0 + i : i));
  await verifier.verify({ id, code: "x" }); // warm the engine cache (one failure, reset by the next success)
  return {
    n,
    run: async () => {
      for (let i = 0; i < n; i++) {
        now = T0 + i * 30_000;
        expectAccepted(await verifier.verify({ id, code: codes[i]! }));
      }
    },
  };
}

async function capBatch(store: StateStore, n: number, gap: number) {
  const verifier = new Verifier({ store, keys });
  const state = newSimCardState("sesame", "1234");
  const record = issuerRecordOf({ ...state, atc: 0 });
  const id = `cap-${randomBytes(6).toString("hex")}`;
  await verifier.enroll({ id, kind: "cap", record, lastAtc: 0, atcWindow: 256 });
  const codeAt = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" });
  const atcs = Array.from({ length: n }, (_, i) => (i + 1) * gap);
  const codes = atcs.map((a) => String(codeAt(a)).padStart(8, "0"));
  return {
    n,
    run: async () => {
      for (const c of codes) expectAccepted(await verifier.verify({ id, code: c }));
    },
  };
}

async function pgClients(url: string, clients: number, perClient: number): Promise<number> {
  const stores = await Promise.all(
    Array.from({ length: clients }, () => PostgresStore.connect(url, { poolSize: 1 })),
  );
  try {
    const batches = await Promise.all(stores.map((s) => oathBatch(s, "totp", perClient)));
    const t = performance.now();
    await Promise.all(batches.map((b) => b.run()));
    return (clients * perClient) / ((performance.now() - t) / 1000);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** pgbench on the same server, 4 clients, the same two statements per verification (read, then the CTE update). */
function pgbench(bin: string, port: number, clients: number): number {
  const dir = mkdtempSync(join(tmpdir(), "capkit-pgbench-"));
  const script = join(dir, "verify.sql");
  writeFileSync(
    script,
    [
      "\\set id :client_id + 1",
      "SELECT * FROM credentials WHERE id = 'pgbench-' || :id;",
      "WITH u AS (UPDATE credentials SET last = last + 1, failures = 0 WHERE id = 'pgbench-' || :id AND last < last + 1 AND NOT locked RETURNING id), w AS (INSERT INTO audit (at, credential_id, action, result, counter, detail) SELECT 0, id, 'verify', 'accepted', 0, 'identify: ok' FROM u RETURNING 1) SELECT (SELECT count(*) FROM u)::int AS accepted, (SELECT locked FROM credentials WHERE id = 'pgbench-' || :id) AS locked;",
      "",
    ].join("\n"),
  );
  const server = ["-h", "127.0.0.1", "-p", String(port), "-U", "capkit"];
  const psql = (sql: string) =>
    execFileSync(join(bin, "psql"), [...server, "-d", "postgres", "-q", "-c", sql]);
  for (let i = 1; i <= clients; i++) {
    psql(
      `INSERT INTO credentials (id, params, last, created_at) VALUES ('pgbench-${i}', '{}', 0, 0) ON CONFLICT DO NOTHING`,
    );
  }
  const out = execFileSync(
    join(bin, "pgbench"),
    [...server, "-n", "-c", String(clients), "-j", "2", "-T", "8", "-f", script, "postgres"],
    { encoding: "utf8" },
  );
  rmSync(dir, { recursive: true, force: true });
  const m = /tps = ([0-9.]+)/.exec(out);
  if (!m) throw new Error(`pgbench output not understood: ${out}`);
  return Number(m[1]);
}

export async function verifySuite(): Promise<string> {
  const memory = new MemoryStore();
  const rows: [string, number][] = [];
  const add = (name: string, rate: number) => {
    rows.push([name, rate]);
    console.log(`${name}: ${Math.round(rate).toLocaleString("en-US")}/s`);
  };
  add("TOTP, memory store", await timed(3, () => oathBatch(memory, "totp", 100_000)));
  add("HOTP, memory store", await timed(3, () => oathBatch(memory, "hotp", 100_000)));
  add(
    "CAP identify (sesame), memory store, fresh code (ATC + 1)",
    await timed(3, () => capBatch(memory, 60_000, 1)),
  );
  add("CAP identify (sesame), memory store, 256-ATC gap", await timed(3, () => capBatch(memory, 250, 256)));
  const dir = mkdtempSync(join(tmpdir(), "capkit-bench-sqlite-"));
  const sqlite = new SqliteStore(join(dir, "state.db"));
  add("TOTP, SQLite (WAL, synchronous=FULL)", await timed(3, () => oathBatch(sqlite, "totp", 3_000)));
  add("CAP identify (sesame), SQLite", await timed(3, () => capBatch(sqlite, 3_000, 1)));
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });

  const pg = await startPostgres();
  let pgRate: number;
  let pgbenchTps: number;
  try {
    await (await PostgresStore.connect(pg.url)).close(); // schema
    pgRate = await pgClients(pg.url, 4, 2_000);
    add("TOTP, PostgreSQL, 4 concurrent clients", pgRate);
    pgbenchTps = pgbench(pg.bin, pg.port, 4);
    add("pgbench, same two statements, 4 clients", pgbenchTps);
  } finally {
    await pg.dispose();
  }

  const cap = rows.find((r) => r[0].includes("fresh"))![1];
  const md = [
    "## Verification (`@capkit/verify`)",
    "",
    machineLine(),
    "",
    "Whole `Verifier.verify()` calls, each accepting a fresh code (median of 3 timed batches; one core for the memory store).",
    "",
    "| case | verifications/s |",
    "|---|---:|",
    ...rows.map(([n, r]) => `| ${n} | ${Math.round(r).toLocaleString("en-US")} |`),
    "",
    `Targets (issue 5): ≥ 100,000 CAP verifications/s on the memory store with a fresh code — measured **${Math.round(cap).toLocaleString("en-US")}/s**;`,
    `PostgreSQL ≥ 50 % of pgbench running the same statements on the same server — measured **${((100 * pgRate) / pgbenchTps).toFixed(0)} %**.`,
    "",
    "Each PostgreSQL verification is two round trips (read the credential, then one conditional UPDATE + audit INSERT",
    "statement) and a WAL flush at commit; pgbench runs exactly those two statements, so the ratio is capkit's own cost.",
    "SQLite runs with synchronous=FULL: every accepted code is on disk before the answer, which bounds its rate.",
  ].join("\n");
  writeSection("verify", md);
  return md;
}
