import { spawnSync } from "node:child_process";
import { createHash, hash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { PostgresStore } from "@capkit/verify/postgres";
import pg from "pg";
import postgres from "postgres";
import { machineLine, median, runSuite, writeSection } from "./harness.js";

/**
 * PostgreSQL at the limit (issue 25): capkit's Verifier against what the server and the drivers can do with the
 * same clients, on three disks (`diskKinds`): one whose fsync is slow (emulated, the same on every machine), the
 * VM's own and a tmpfs (where an fsync costs nothing: the "fast disk").
 *
 * Every case runs 4 clients, each with one connection and one statement in flight, for CASE_MS, on credentials
 * of their own (no lock waits between clients): pgbench (`-M prepared`), node-postgres (`pg`) and porsager's
 * `postgres`, each sending named prepared statements, and capkit's Verifier (4 PostgresStores of one
 * connection each). The accept statement the drivers and pgbench send is the one capkit sends, captured at the
 * driver from a real verification (text and values), so the comparison follows the store's code as it changes.
 * The cases of both servers run in rounds, in a rotating order, so that every ratio compares runs made under
 * the same load (the machine is shared): each ratio is the median of the per-round ratios.
 *
 * Per case: verifications (transactions) per second; the client's CPU per transaction (this process, or
 * pgbench's from bash's `time`); the server's CPU per transaction (every process of the cluster, read from
 * /proc: the postmaster's own and reaped children's times and those of its live children).
 */
const CLIENTS = 4;
const ROUNDS = Number(process.env["PG_LIMIT_ROUNDS"] ?? 5);
const CASE_MS = Number(process.env["PG_LIMIT_CASE_MS"] ?? 3000);
/** For a profile (node --cpu-prof) of some cases only: PG_LIMIT_CASES=capkit PG_LIMIT_DISKS=fast. */
const ONLY_CASES = process.env["PG_LIMIT_CASES"]?.split(",");
const ONLY_DISKS = process.env["PG_LIMIT_DISKS"]?.split(",");
const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));

/** The bare conditional single-row UPDATE of issue 15's baseline, on the bench's own credential rows. */
const PLAIN_UPDATE =
  "UPDATE capkit_credentials SET last = last + 1, failures = 0 WHERE id = $1 AND version = 0 AND NOT locked AND state = 'active'";

/**
 * Schemas holding a copy of capkit's tables, each changed in one way, for the audit write's variants (pgbench
 * reaches them through search_path, so the statement's text is the same).
 */
const VARIANTS = {
  nohash: {
    label: "the accept statement, the trigger moving the chain's row but hashing nothing",
    sql: (s: string) => `
CREATE FUNCTION ${s}.capkit_nohash() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  c TEXT := CASE WHEN NEW.user_id IS NOT NULL THEN 'user:' || NEW.user_id ELSE 'credential:' || NEW.credential_id END;
  k BIGINT;
BEGIN
  UPDATE capkit_audit_chains SET n = n + 1 WHERE chain = c RETURNING n INTO k;
  IF NOT FOUND THEN
    INSERT INTO capkit_audit_chains AS a (chain, n, head) VALUES (c, 1, '')
    ON CONFLICT (chain) DO UPDATE SET n = a.n + 1 RETURNING a.n INTO k;
  END IF;
  NEW.chain := c;
  NEW.n := k;
  NEW.hash := '';
  NEW.seq := nextval('${s}.capkit_audit_seq_seq');
  RETURN NEW;
END
$fn$;
DROP TRIGGER audit_chained ON ${s}.capkit_audit;
CREATE TRIGGER audit_chained BEFORE INSERT ON ${s}.capkit_audit FOR EACH ROW EXECUTE FUNCTION ${s}.capkit_nohash()`,
  },
  nochain: {
    label: "the accept statement, the chain trigger disabled (audit rows not chained)",
    sql: (s: string) =>
      `ALTER TABLE ${s}.capkit_audit DISABLE TRIGGER audit_chained; ALTER TABLE ${s}.capkit_audit ALTER COLUMN seq SET DEFAULT nextval('${s}.capkit_audit_seq_seq')`,
  },
  lean: {
    label:
      "the accept statement, the audit table with its primary key only (no index on credential, user, time)",
    sql: (s: string) =>
      `DROP INDEX ${s}.capkit_audit_credential, ${s}.capkit_audit_user, ${s}.capkit_audit_at`,
  },
} as const;

interface Sample {
  readonly rate: number;
  /** CPU per transaction, µs. */
  readonly clientUs: number;
  readonly serverUs: number;
  /** WAL written per transaction, bytes (full-page images after a checkpoint included). */
  readonly walBytes: number;
}

interface Captured {
  readonly text: string;
  readonly values: readonly unknown[];
  /** Indexes in `values` of the accepted counter (the UPDATE's new `last` and the audit row's counter). */
  readonly valueAt: readonly number[];
  /**
   * Indexes in `values` of the credential's id: the UPDATE's key and the audit row's credential. Every one must
   * be the client's own, or pgbench's clients would write one credential's audit chain and queue on its head.
   */
  readonly idAt: readonly number[];
}

/** Captures the one statement a cached verification sends (the accept), at the pg driver. */
async function captureAccept(
  verify: () => Promise<{ result: string }>,
): Promise<{ text: string; values: unknown[] }> {
  const seen: { text: string; values: unknown[] }[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const q = a[0] as { text?: string; values?: unknown[] };
    if (typeof q === "object" && q !== null && typeof q.text === "string")
      seen.push({ text: q.text, values: [...(q.values ?? [])] });
    return original.apply(this, a);
  };
  try {
    const r = await verify();
    if (r.result !== "accepted") throw new Error(`capture: the code was ${r.result}`);
  } finally {
    proto.query = original;
  }
  if (seen.length !== 1) throw new Error(`a cached verification sent ${seen.length} statements, not 1`);
  return seen[0]!;
}

/** One TOTP credential behind its own Verifier and store (one connection), stepping its clock per code. */
async function capkitClient(url: string, id: string) {
  const store = await PostgresStore.connect(url, { poolSize: 1 });
  let step = Math.floor(T0 / 30_000);
  const verifier = new Verifier({ store, keys, now: () => step * 30_000 });
  const secret = randomBytes(20);
  await verifier.enroll({ id, kind: "totp", secret });
  const gen = new HotpGenerator(new HmacKey(secret), 6);
  await verifier.verify({ id, code: "x" }); // the definition and engine cached (one failure, reset by an accept)
  const next = () => {
    step++;
    return verifier.verify({ id, code: gen.code(step) });
  };
  expectAccepted(await next());
  return { store, next, step: () => step };
}

/** A bare driver's accept statement accepted (its first column), and a plain UPDATE matched its row. */
function accepted(rows: unknown): void {
  const row = (rows as { accepted?: unknown }[])[0];
  if (row?.accepted !== true) throw new Error(`the accept statement answered ${JSON.stringify(row)}`);
}
function updated(count: number | null): void {
  if (count !== 1) throw new Error(`the UPDATE matched ${count} rows`);
}

function expectAccepted(r: { result: string }): void {
  if (r.result !== "accepted") throw new Error(`benchmark code was ${r.result}`);
}

/** The server's CPU time so far, in clock ticks: the postmaster, its reaped children, its live children. */
function serverTicks(postmaster: number): number {
  const fields = (pid: string | number) => {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  };
  // After the command name: state, ppid, … utime (index 11), stime, cutime, cstime.
  const times = (f: string[]) => Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  let ticks = times(fields(postmaster));
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = fields(pid);
      if (Number(f[1]) === postmaster) ticks += times(f);
    } catch {
      // gone meanwhile: its time is in the postmaster's cutime once reaped
    }
  }
  return ticks;
}
const TICK_US = 1e6 / 100; // getconf CLK_TCK

/** Runs `one` from each client, one at a time, for CASE_MS. */
async function timeBoxed(one: (client: number) => Promise<unknown>) {
  const end = performance.now() + CASE_MS;
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      while (performance.now() < end) {
        await one(i);
        n++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { n, seconds, clientUs: (cpu.user + cpu.system) / n };
}

/** pgbench with `script` from CLIENTS clients, `-M prepared`; `schema` through search_path. */
function pgbench(server: Postgres, script: string, defines: string[], schema?: string) {
  const file = join(tmpdir(), `capkit-pgbench-${process.pid}-${randomBytes(4).toString("hex")}.sql`);
  writeFileSync(file, script);
  const timed = spawnSync(
    "bash",
    [
      "-c",
      'TIMEFORMAT="cpu %U %S"; time "$0" "$@"',
      join(server.bin, "pgbench"),
      ...["-h", "127.0.0.1", "-p", String(server.port), "-U", "capkit", "-n", "-M", "prepared"],
      ...["-c", String(CLIENTS), "-j", "2", "-T", String(Math.round(CASE_MS / 1000)), "-f", file],
      ...defines.flatMap((d) => ["-D", d]),
      "postgres",
    ],
    {
      encoding: "utf8",
      env: { ...process.env, ...(schema ? { PGOPTIONS: `-c search_path=${schema}` } : {}) },
    },
  );
  rmSync(file, { force: true });
  const tps = /tps = ([0-9.]+)/.exec(timed.stdout);
  const count = /actually processed: ([0-9]+)/.exec(timed.stdout);
  const failed = /number of failed transactions: ([0-9]+)/.exec(timed.stdout);
  const cpu = /cpu ([0-9.]+) ([0-9.]+)/.exec(timed.stderr);
  if (timed.status !== 0 || !tps || !count || !cpu || (failed && failed[1] !== "0"))
    throw new Error(`pgbench output not understood: ${timed.stdout}${timed.stderr}`);
  const n = Number(count[1]);
  return { n, seconds: n / Number(tps[1]), clientUs: ((Number(cpu[1]) + Number(cpu[2])) * 1e6) / n };
}

/**
 * capkit's statement as a pgbench script: the id becomes the client's number (the bench rows are named "0"…"3"),
 * the counter a per-client variable moved on each transaction, NULLs literals, every other value a -D variable
 * (sent as an untyped parameter, as node-postgres sends it).
 */
function pgbenchScript(c: Captured, start: number): { script: string; defines: string[] } {
  const defines = [`v=${start}`];
  const text = c.text.replace(/\$(\d+)\b/g, (_, k: string) => {
    const i = Number(k) - 1;
    if (c.idAt.includes(i)) return ":client_id";
    if (c.valueAt.includes(i)) return ":v";
    const value = c.values[i];
    if (value === null || value === undefined) return "NULL";
    if (!defines.includes(`p${k}=${String(value)}`)) defines.push(`p${k}=${String(value)}`);
    return `:p${k}`;
  });
  return { script: `\\set v :v + 1\n${text.replace(/\s+/g, " ").trim()};\n`, defines };
}

/** The accept statement without its audit INSERT (the CTE `w`), for pgbench. */
function withoutAudit(c: Captured): Captured {
  const text = c.text.replace(/,\s*w AS \(INSERT INTO "capkit_audit"[\s\S]*?RETURNING 1\)/, "");
  if (text === c.text) throw new Error("the accept statement's audit CTE was not found");
  return { ...c, text };
}

/**
 * The disks the cluster runs on. The slow-sync one is emulated, so that it is the same on every machine (the
 * VM's own disk synced 244–366 times a second on some days and 11,000 on others): a tmpfs whose every
 * fdatasync waits 3 ms (bench/slow-sync.c, preloaded into the server and into pg_test_fsync).
 */
interface DiskKind {
  readonly name: "slow" | "vm" | "fast";
  readonly title: string;
  readonly under: string;
  /** Extra environment of the server and of pg_test_fsync. */
  readonly env: Readonly<Record<string, string>>;
}

function diskKinds(): DiskKind[] {
  const shim = buildSlowSync();
  return [
    {
      name: "slow",
      title: "Slow-sync disk: the cluster on /dev/shm, every fdatasync made to wait 3 ms (bench/slow-sync.c)",
      under: "/dev/shm",
      env: { LD_PRELOAD: shim, CAPKIT_SYNC_DELAY_US: "3000" },
    },
    {
      name: "vm",
      title: "The VM's disk: the cluster on /tmp (ext4 on the VM's virtual disk)",
      under: "/tmp",
      env: {},
    },
    {
      name: "fast",
      title: "Fast disk: the cluster on /dev/shm (tmpfs: an fsync costs nothing)",
      under: "/dev/shm",
      env: {},
    },
  ];
}

/** bench/slow-sync.c compiled into a directory the server's user can read (it runs as `postgres` under root). */
function buildSlowSync(): string {
  const dir = mkdtempSync(join(tmpdir(), "capkit-slow-sync-"));
  chmodSync(dir, 0o755);
  const out = join(dir, "slow-sync.so");
  const source = fileURLToPath(new URL("slow-sync.c", import.meta.url));
  const r = spawnSync("cc", ["-O2", "-shared", "-fPIC", "-o", out, source, "-ldl"], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `cc could not build bench/slow-sync.c (sh scripts/setup.sh installs gcc): ${r.error ?? r.stderr}`,
    );
  chmodSync(out, 0o755);
  return out;
}

/** The rate of the pg_test_fsync test PostgreSQL uses on Linux (wal_sync_method fdatasync, one 8 kB write). */
function fsyncRate(bin: string, kind: DiskKind): number {
  const file = join(kind.under, `capkit-fsync-${process.pid}`);
  const r = spawnSync(join(bin, "pg_test_fsync"), ["-s", "2", "-f", file], {
    encoding: "utf8",
    env: { ...process.env, ...kind.env },
  });
  rmSync(file, { force: true });
  const m = /^\s+fdatasync\s+([0-9.]+) ops\/sec/m.exec(r.stdout);
  if (!m) throw new Error(`pg_test_fsync output not understood: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

interface Disk {
  readonly kind: DiskKind;
  readonly name: string;
  readonly server: Postgres;
  readonly postmaster: number;
  readonly wal: () => Promise<string>;
  readonly walSince: (lsn: string) => Promise<number>;
  readonly cases: Record<string, () => Promise<{ n: number; seconds: number; clientUs: number }>>;
  readonly samples: Record<string, Sample[]>;
  readonly fsync: number[];
  readonly close: () => Promise<void>;
  readonly statement: string;
}

async function setUpDisk(kind: DiskKind): Promise<Disk> {
  const server = await startPostgres({ under: kind.under, env: kind.env });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const backend = (await admin.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  const postmaster = Number(readFileSync(`/proc/${backend}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);

  // capkit's clients, and the bench's own rows "0"…"3" enrolled by capkit, moved to version 0 (the plain
  // UPDATE's), then verified once each by a fresh Verifier: the accept statement is captured from that.
  const capkit = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => capkitClient(server.url, `capkit-${i}`)),
  );
  const captured: Captured[] = [];
  {
    const store = await PostgresStore.connect(server.url, { poolSize: 1 });
    const secret = randomBytes(20);
    const gen = new HotpGenerator(new HmacKey(secret), 6);
    const step = Math.floor(T0 / 30_000);
    const verifier = new Verifier({ store, keys, now: () => step * 30_000 });
    for (let i = 0; i < CLIENTS; i++) await verifier.enroll({ id: String(i), kind: "totp", secret });
    await admin.query("UPDATE capkit_credentials SET version = 0 WHERE id = ANY($1)", [
      Array.from({ length: CLIENTS }, (_, i) => String(i)),
    ]);
    const fresh = new Verifier({ store, keys, now: () => step * 30_000 });
    for (let i = 0; i < CLIENTS; i++) {
      await fresh.verify({ id: String(i), code: "x" }); // cached
      const c = await captureAccept(() => fresh.verify({ id: String(i), code: gen.code(step) }));
      const valueAt = c.values.flatMap((v, k) => (String(v) === String(step) ? [k] : []));
      if (valueAt.length === 0) throw new Error("the accept statement's counter not found");
      captured.push({ ...c, valueAt, idAt: [] });
    }
    // The id's places: those holding each client's own id in every client's statement (an id alone could match
    // another parameter that happens to print the same, as version 0 does for client "0").
    const idAt = captured[0]!.values.flatMap((_, k) =>
      captured.every((c, i) => String(c.values[k]) === String(i)) ? [k] : [],
    );
    if (idAt.length < 2) throw new Error(`the accept statement's id found at ${idAt.length} places, not 2`);
    for (const [i, c] of captured.entries()) captured[i] = { ...c, idAt };
    await store.close();
  }
  for (const [schema, v] of Object.entries(VARIANTS)) {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = `${server.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    await (await PostgresStore.connect(url)).close(); // capkit's tables, trigger and indexes in the schema
    await admin.query(
      `INSERT INTO ${schema}.capkit_credentials SELECT * FROM public.capkit_credentials WHERE id = ANY($1)`,
      [Array.from({ length: CLIENTS }, (_, i) => String(i))],
    );
    await admin.query(v.sql(schema));
  }

  const pgClients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      return c;
    }),
  );
  // One connection, the 4 clients' statements pipelined on it (each still its own transaction).
  const pgPipelined = new pg.Client({ connectionString: server.url, pipeline: true } as pg.ClientConfig);
  await pgPipelined.connect();
  const porsagerPipelined = postgres(server.url, { max: 1, prepare: true, onnotice: () => {} });
  const porsager = Array.from({ length: CLIENTS }, () =>
    postgres(server.url, { max: 1, prepare: true, onnotice: () => {} }),
  );
  // Every counter the drivers and pgbench send is above every `last` so far (each case moves `next` past its
  // own transactions: the plain UPDATE adds 1 per transaction).
  let next = 1e9;
  const values = (i: number) => {
    const c = captured[i]!;
    const v = [...c.values];
    const value = next++;
    for (const k of c.valueAt) v[k] = value;
    return v;
  };
  const porsagerAccept = (sql: postgres.Sql, i: number) =>
    sql.unsafe(captured[i]!.text, values(i) as postgres.ParameterOrJSON<never>[], { prepare: true });
  const accept = captured[0]!;
  const ids = Array.from({ length: CLIENTS }, (_, i) => String(i));
  const lastSum = async (schema = "public") =>
    Number(
      (
        await admin.query(
          `SELECT sum(last)::text AS s FROM ${schema}.capkit_credentials WHERE id = ANY($1)`,
          [ids],
        )
      ).rows[0].s,
    );
  // The plain UPDATE adds 1 to `last` per transaction: the counters sent next start above.
  const movesLast = async (run: () => Promise<{ n: number; seconds: number; clientUs: number }>) => {
    const r = await run();
    next += r.n + 1;
    return r;
  };
  // Every transaction of a pgbench run must have accepted: each client's row ends at the start plus its count.
  const viaPgbench = (c: Captured, schema?: string) => async () => {
    const start = next;
    const { script, defines } = pgbenchScript(c, start);
    const r = pgbench(server, script, defines, schema);
    const moved = (await lastSum(schema)) - CLIENTS * start;
    if (moved !== r.n) throw new Error(`pgbench: ${r.n} transactions, ${moved} accepts`);
    next += r.n + 1;
    return r;
  };
  const cases: Disk["cases"] = {
    "pgbench-update": async () => {
      const before = await lastSum();
      const r = pgbench(server, `${PLAIN_UPDATE.replace("$1", ":client_id")};\n`, []);
      if ((await lastSum()) - before !== r.n) throw new Error("pgbench: an UPDATE matched no row");
      next += r.n + 1;
      return r;
    },
    "pgbench-accept": viaPgbench(accept),
    "pg-update": () =>
      movesLast(() =>
        timeBoxed(async (i) =>
          updated(
            (await pgClients[i]!.query({ name: "u", text: PLAIN_UPDATE, values: [String(i)] })).rowCount,
          ),
        ),
      ),
    "pg-accept": () =>
      timeBoxed(async (i) =>
        accepted((await pgClients[i]!.query({ name: "a", text: captured[i]!.text, values: values(i) })).rows),
      ),
    "postgres-update": () =>
      movesLast(() =>
        timeBoxed(async (i) =>
          updated((await porsager[i]!.unsafe(PLAIN_UPDATE, [String(i)], { prepare: true })).count),
        ),
      ),
    "postgres-accept": () => timeBoxed(async (i) => accepted(await porsagerAccept(porsager[i]!, i))),
    capkit: () => timeBoxed(async (i) => expectAccepted(await capkit[i]!.next())),
    "pg-pipelined": () =>
      timeBoxed(async (i) =>
        accepted((await pgPipelined.query({ name: "a", text: captured[i]!.text, values: values(i) })).rows),
      ),
    "postgres-pipelined": () => timeBoxed(async (i) => accepted(await porsagerAccept(porsagerPipelined, i))),
    "pgbench-noaudit": viaPgbench(withoutAudit(accept)),
    "pgbench-nohash": viaPgbench(accept, "nohash"),
    "pgbench-nochain": viaPgbench(accept, "nochain"),
    "pgbench-lean": viaPgbench(accept, "lean"),
  };
  return {
    kind,
    name: kind.name,
    server,
    postmaster,
    wal: async () => (await admin.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l as string,
    walSince: async (lsn) =>
      Number((await admin.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d", [lsn])).rows[0].d),
    cases,
    samples: Object.fromEntries(Object.keys(cases).map((k) => [k, []])),
    fsync: [],
    statement: accept.text,
    close: async () => {
      await Promise.all(capkit.map((c) => c.store.close()));
      await Promise.all(pgClients.map((c) => c.end()));
      await Promise.all(porsager.map((s) => s.end()));
      await pgPipelined.end();
      await porsagerPipelined.end();
      await admin.end();
      await server.dispose();
    },
  };
}

const LABELS: Record<string, string> = {
  "pgbench-update": "pgbench: the conditional single-row UPDATE (baseline)",
  "pgbench-accept": "pgbench: capkit's accept statement (UPDATE, audit INSERT, chain trigger)",
  "pg-update": "node-postgres (`pg` 8) alone: the conditional UPDATE",
  "pg-accept": "node-postgres alone: capkit's accept statement",
  "postgres-update": "`postgres` (porsager's) alone: the conditional UPDATE",
  "postgres-accept": "`postgres` alone: capkit's accept statement",
  capkit: "capkit: `Verifier.verify()`, TOTP, PostgresStore (node-postgres)",
  "pg-pipelined":
    "node-postgres, `pipeline: true`: capkit's accept statement, the 4 clients on one connection",
  "postgres-pipelined": "`postgres`: capkit's accept statement, the 4 clients on one connection (pipelined)",
  "pgbench-noaudit": "pgbench: the accept statement without its audit INSERT",
  "pgbench-nohash": `pgbench: ${VARIANTS.nohash.label}`,
  "pgbench-nochain": `pgbench: ${VARIANTS.nochain.label}`,
  "pgbench-lean": `pgbench: ${VARIANTS.lean.label}`,
};

async function sample(disk: Disk, key: string): Promise<Sample> {
  const lsn = await disk.wal();
  const s0 = serverTicks(disk.postmaster);
  const r = await disk.cases[key]!();
  await new Promise((resolve) => setTimeout(resolve, 300)); // pgbench's backends reaped
  const s1 = serverTicks(disk.postmaster);
  const s = {
    rate: r.n / r.seconds,
    clientUs: r.clientUs,
    serverUs: ((s1 - s0) * TICK_US) / r.n,
    walBytes: (await disk.walSince(lsn)) / r.n,
  };
  console.log(
    `${disk.name} ${key}: ${Math.round(s.rate)}/s, client ${s.clientUs.toFixed(0)} µs, server ${s.serverUs.toFixed(0)} µs, WAL ${s.walBytes.toFixed(0)} B`,
  );
  return s;
}

export async function postgresLimitSuite(): Promise<string> {
  const load0 = loadavg();
  const disks: Disk[] = [];
  for (const kind of diskKinds())
    if (!ONLY_DISKS || ONLY_DISKS.includes(kind.name)) disks.push(await setUpDisk(kind));
  try {
    const partial = ONLY_CASES !== undefined || ONLY_DISKS !== undefined;
    if (!partial) for (const d of disks) d.fsync.push(fsyncRate(d.server.bin, d.kind));
    const keys = Object.keys(LABELS).filter((k) => !ONLY_CASES || ONLY_CASES.includes(k));
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...keys.slice(round % keys.length), ...keys.slice(0, round % keys.length)];
      for (const key of order)
        for (const d of round % 2 ? [...disks].reverse() : disks) d.samples[key]!.push(await sample(d, key));
    }
    if (!partial) for (const d of disks) d.fsync.push(fsyncRate(d.server.bin, d.kind));
  } finally {
    for (const d of disks) await d.close();
  }
  const load1 = loadavg();
  if (ONLY_CASES || ONLY_DISKS) return ""; // a partial run (a profile) writes no section
  // The replay digest every verification computes (src/replay.ts): the input of a TOTP accept.
  const input = ["capkit-0", "58822560", "identify", "123456", "", "", "", ""].join("\0");
  const digest = await runSuite(
    "The replay digest of one verification (SHA-256, hex, 128 bits kept)",
    "createHash",
    [
      { name: "createHash", fn: () => createHash("sha256").update(input).digest("hex").slice(0, 32) },
      { name: "crypto.hash (one-shot, src/replay.ts)", fn: () => hash("sha256", input, "hex").slice(0, 32) },
    ],
  );
  const md = `${report(disks, load0, load1)}\n\n${digest.markdown}`;
  console.log(md);
  writeSection("postgres-limit", md);
  return md;
}

function report(disks: Disk[], load0: number[], load1: number[]): string {
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
  /** The median over rounds of a / b, each round's pair run under the same load. */
  const ratio = (d: Disk, a: string, b: string) =>
    median(d.samples[a]!.map((s, i) => s.rate / d.samples[b]![i]!.rate));
  const med = (d: Disk, k: string, f: (s: Sample) => number) => median(d.samples[k]!.map(f));
  const table = (d: Disk) => [
    `### ${d.kind.title}: fdatasync ${d.fsync.map(fmt).join(" and ")}/s (pg_test_fsync, one 8 kB write, before and after)`,
    "",
    "| case | transactions/s | share of pgbench's UPDATE | client CPU per transaction | server CPU per transaction | WAL per transaction |",
    "|---|---:|---:|---:|---:|---:|",
    ...Object.keys(LABELS).map(
      (k) =>
        `| ${LABELS[k]} | ${fmt(med(d, k, (s) => s.rate))} | ${pct(ratio(d, k, "pgbench-update"))} | ${med(d, k, (s) => s.clientUs).toFixed(0)} µs | ${med(d, k, (s) => s.serverUs).toFixed(0)} µs | ${fmt(med(d, k, (s) => s.walBytes))} B |`,
    ),
    "",
  ];
  const [slow, vm, fast] = disks as [Disk, Disk, Disk];
  const goal = (d: Disk, want: number) => `**${pct(ratio(d, "capkit", "pgbench-update"))}** (goal ${want} %)`;
  const lines = [
    "## PostgreSQL at the limit (`@capkit/verify`, PostgreSQL)",
    "",
    `${machineLine()}; load average ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end (2 cores shared with other jobs: compare ratios and CPU per transaction, not rates across sections).`,
    "",
    `${CLIENTS} clients per case, each with one connection, one transaction at a time and a credential row of its own, ${CASE_MS / 1000} s per case; ${ROUNDS} rounds, the cases of the three servers alternated in a rotating order; rates are medians over the rounds, and each share is the median of the per-round shares (both runs under the same load). Every driver sends named prepared statements (pgbench \`-M prepared\`). capkit's accept statement is the one the store sends, captured at the driver from a real verification (bench/postgres-driver.ts). CPU is user + system, the kernel's loopback TCP included; the server's is every process of the cluster (/proc). On 2 cores the clients' CPU is taken from the server's.`,
    "",
    ...disks.flatMap(table),
    `Goal (issue 25): capkit ≥ 80 % of pgbench's conditional UPDATE on a slow-sync disk — measured ${goal(slow, 80)}; ≥ 50 % on a fast disk — measured ${goal(fast, 50)}. On the VM's own disk this day: ${pct(ratio(vm, "capkit", "pgbench-update"))}.`,
    "",
    "Where it goes, as shares of the same round's runs:",
    "",
    "| | slow-sync disk | the VM's disk | fast disk |",
    "|---|---:|---:|---:|",
    ...(
      [
        [
          "pgbench: the accept statement / the plain UPDATE (the statement's server cost)",
          "pgbench-accept",
          "pgbench-update",
        ],
        [
          "pgbench: the accept without its audit INSERT / the plain UPDATE",
          "pgbench-noaudit",
          "pgbench-update",
        ],
        ["pgbench: the accept, no chain (trigger off) / the accept", "pgbench-nochain", "pgbench-accept"],
        [
          "pgbench: the accept, the chain's row moved but no hash / the accept",
          "pgbench-nohash",
          "pgbench-accept",
        ],
        [
          "pgbench: the accept, audit with its primary key only / all its indexes",
          "pgbench-lean",
          "pgbench-accept",
        ],
        ["node-postgres / pgbench, the accept statement (the driver's cost)", "pg-accept", "pgbench-accept"],
        ["`postgres` / node-postgres, the accept statement", "postgres-accept", "pg-accept"],
        ["`postgres` / node-postgres, the plain UPDATE", "postgres-update", "pg-update"],
        [
          "node-postgres pipelined on one connection / on 4, the accept statement",
          "pg-pipelined",
          "pg-accept",
        ],
        [
          "`postgres` pipelined on one connection / on 4, the accept statement",
          "postgres-pipelined",
          "postgres-accept",
        ],
        ["capkit / node-postgres alone, the same statement (capkit's own work)", "capkit", "pg-accept"],
      ] as const
    ).map(([label, a, b]) => `| ${label} | ${disks.map((d) => pct(ratio(d, a, b))).join(" | ")} |`),
    "",
    ...analysis(slow, vm, fast, med, ratio),
  ];
  return lines.join("\n");
}

/** What the figures say, written from them (the fast disk's server CPU isolates the statement's own work). */
function analysis(
  slow: Disk,
  vm: Disk,
  fast: Disk,
  med: (d: Disk, k: string, f: (s: Sample) => number) => number,
  ratio: (d: Disk, a: string, b: string) => number,
): string[] {
  const us = (d: Disk, k: string) => med(d, k, (s) => s.serverUs);
  const cl = (d: Disk, k: string) => med(d, k, (s) => s.clientUs);
  const wal = (d: Disk, k: string) => med(d, k, (s) => s.walBytes);
  const n = (x: number) => x.toFixed(0);
  const fmtN = (x: number) => Math.round(x).toLocaleString("en-US");
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
  const f = fast;
  const fsync = (d: Disk) => median(d.fsync);
  const perFlush = (d: Disk, k: string) => (med(d, k, (s) => s.rate) / fsync(d)).toFixed(1);
  return [
    "**The slow-sync disk.** With every WAL flush taking 3 ms, a case's rate is the flush rate times the commits",
    "each flush carries (PostgreSQL's group commit: the commits that arrive while a flush runs go together in the",
    `next): ${perFlush(slow, "pgbench-update")} commits per flush for pgbench's plain UPDATE, ${perFlush(slow, "capkit")} for capkit. The CPU of a transaction, client`,
    `and server (${n(cl(slow, "capkit") + us(slow, "capkit"))} µs for capkit, ${n(cl(slow, "pgbench-update") + us(slow, "pgbench-update"))} µs for pgbench's UPDATE), fits in the wait for the flush, so`,
    "capkit's audit row, its chain and the driver cost no rate there. The VM's own disk",
    `(fdatasync ${fmtN(fsync(vm))}/s this run) lies between: capkit ${pct(ratio(vm, "capkit", "pgbench-update"))} of pgbench's UPDATE, pgbench's accept statement`,
    `${pct(ratio(vm, "pgbench-accept", "pgbench-update"))}.`,
    "",
    "**The server's work per accept** (fast disk, server CPU per transaction, where no fsync hides it): the plain",
    `UPDATE ${n(us(f, "pgbench-update"))} µs; capkit's accept statement without its audit INSERT ${n(us(f, "pgbench-noaudit"))} µs (the CTE: the`,
    "conditional UPDATE of seven columns, the refusal's CASEs); with the audit row but no chain",
    `${n(us(f, "pgbench-nochain"))} µs; with the chain's row moved but nothing hashed ${n(us(f, "pgbench-nohash"))} µs; the whole accept`,
    `${n(us(f, "pgbench-accept"))} µs. WAL per transaction: ${n(wal(f, "pgbench-update"))} B for the plain UPDATE, ${n(wal(f, "pgbench-noaudit"))} B without the audit row,`,
    `${n(wal(f, "pgbench-accept"))} B for the accept (the audit heap row, its four index entries, the chain's row). pgbench sending capkit's`,
    `statement reaches ${pct(ratio(f, "pgbench-accept", "pgbench-update"))} of its plain UPDATE on the fast disk and ${pct(ratio(slow, "pgbench-accept", "pgbench-update"))} on the slow one: before any driver`,
    "or capkit code runs, the audited statement bounds the ratio, and the fast-disk goal (50 %) lies above that bound on this",
    "2-core machine, where every client microsecond is also taken from the server.",
    "",
    "**The audit write: what was tried.** The audit row's guarantees (every accept audited in the same statement,",
    "its chain moved under the subject's lock) leave three parts, each measured above: the row and its indexes, the",
    "chain's row, the hash. Kept as they are:",
    "- Dropping the audit table's three secondary indexes (the primary key only; the `lean` row) changes the rate by",
    `  ${pct(ratio(slow, "pgbench-lean", "pgbench-accept") - 1)} (slow disk) and ${pct(ratio(f, "pgbench-lean", "pgbench-accept") - 1)} (fast disk): no direction that holds across runs here, and each index serves a query`,
    "  (`audit(id)` by credential and by user, `pruneAudit` by time).",
    "- Writing the chain in the accept statement itself (a CTE moving `audit_chains` and inserting the row with its",
    "  `n` and `hash`; the trigger only for rows that come without) cost the server the same as the trigger in a side",
    "  run on the tmpfs (122 against 125 µs per accept, pgbench, 5 rounds, 2026-12-05): the trigger's call is not the",
    "  cost; moving the chain's row and hashing are, and the guarantees need both.",
    '- A batched or deferred audit would break "every accept audited in the same transaction"; not done.',
    "- Not tried yet: the chain's head kept in the row the accept already updates (the credential's or the user's),",
    "  which would save the chain's own row (the `nohash` row against the `nochain` one) but not the hash, and would",
    "  need every other writer of those chains (enrolment, revocation, approvals) to move it there too.",
    "",
    "**Drivers.** `postgres` (porsager's, 4.2) against node-postgres (`pg` 8.23) on the same prepared statement from",
    `4 connections: ${pct(ratio(slow, "postgres-accept", "pg-accept"))} (slow disk) and ${pct(ratio(f, "postgres-accept", "pg-accept"))} (fast disk) of node-postgres's rate on the accept statement, client`,
    `CPU ${n(cl(f, "postgres-accept"))} against ${n(cl(f, "pg-accept"))} µs per transaction (fast disk); on the plain UPDATE ${pct(ratio(slow, "postgres-update", "pg-update"))} and ${pct(ratio(f, "postgres-update", "pg-update"))}.`,
    `Switching would save capkit about the difference in client CPU (${n(cl(f, "pg-accept") - cl(f, "postgres-accept"))} µs of capkit's ${n(cl(f, "capkit"))} µs per verification here), not`,
    "the statement's server cost. Pipelining (both drivers can: `postgres` always, node-postgres 8.23 with",
    "`pipeline: true`) does not help this load: each verification is its own transaction, and the statements",
    "pipelined on one connection commit one after the other, each with its own WAL flush:",
    `${pct(ratio(slow, "pg-pipelined", "pg-accept"))} / ${pct(ratio(slow, "postgres-pipelined", "postgres-accept"))} of 4 connections' rate on the slow disk (the fsync rate bounds it), ${pct(ratio(f, "pg-pipelined", "pg-accept"))} / ${pct(ratio(f, "postgres-pipelined", "postgres-accept"))} on the fast one.`,
    "The store's driver stays node-postgres: a verifier that lives in the application's database accepts the",
    "application's own `pg.Pool` or `pg` configuration (issue 21), so the driver is the application's choice as much",
    "as ours; what capkit can cut is its own work around the driver (below). node-postgres options measured for it",
    "(bench/verify-work.ts's counts, the pool of the store's options, 2026-12-05): `rowMode: 'array'` and a `types`",
    "that returns text as is allocate the same within 1 % (four columns of one row: the parsers are not the cost);",
    "`idleTimeoutMillis: 0` saves the pool's idle timer per statement (about 0.5 kB), kept off: a pool that never",
    "closes an idle connection is the application's call, not a verifier's.",
    "",
    "**A defect of this bench, fixed 2026-12-05.** The pgbench scripts replaced only the first place of the",
    "credential's id in the captured statement (the UPDATE's key), not the second (the audit row's credential): the",
    "four pgbench clients wrote audit rows for one credential and queued on that chain's head until commit, so each",
    "pgbench row with a chained audit was low (31 % of the plain UPDATE on the VM's slow disk, where node-postgres",
    "sending the same statement reached 47 %). The id's places are now those that hold each client's own id in",
    "every client's captured statement.",
    "",
    "**Our client work per verification** (node --cpu-prof of the capkit case alone, fast disk, and the counts of",
    "the verify section, bench/verify-work.ts, 2026-12-05): `writev` (the kernel's loopback send, which also wakes",
    "the server's backend) is the largest part for capkit and node-postgres alike; then the driver (`pg`,",
    "pg-protocol: the query config copied by `cloneQueryConfig`, the row description parsed into fields per result).",
    "What is not the driver's: the pool (PostgresStore checks a connection out per statement — the application's",
    "`pg.Pool`, issue 21 — and pg-pool arms a timer for the checkout's timeout, the driver one for `query_timeout`,",
    "the pool one for the idle connection: 3 timers, 3 more promises and about 3 kB per statement beside a bare",
    "`pg.Client`), and capkit's own: the Verifier's request, attempt, replay probe, audit entry and decision, 17",
    "parameters, the replay digest (the one-shot `crypto.hash`, timed below). A statement now runs on the pool's and",
    "the driver's callbacks (`#query`, src/stores/postgres.ts: 9 promises per verification where there were 15, 13.1",
    "against 13.9 kB allocated), so what capkit adds to node-postgres through a pool is about 2 kB and one promise",
    "per verification. The same run without the `@capkit/source` condition (the built dist instead of the",
    "TypeScript sources through tsx) measured the same client CPU within noise.",
  ];
}
