import { CapkitError } from "@capkit/core";
import type pg from "pg";
import {
  type Catalog,
  legacyMarkerSql,
  legacyMetaShaped,
  legacyNames,
  metaRowsSql,
  planMigration,
  recordVersionSql,
  type SchemaSet,
  versionName,
} from "./migrations.js";
import type { TableNames } from "./tables.js";

/** A name read from the server, quoted: any `"` in it doubled (SQL's identifier quoting). */
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Every capkit store's schema lock (pg_advisory_xact_lock's first key); the second is the prefix and schema's. */
const LOCK_CLASS = 781234;

/**
 * How a migration waits for its tables' locks. An ALTER TABLE waiting for its ACCESS EXCLUSIVE lock behind one long
 * transaction queues every later statement on that table behind it — every verification — so the DDL never waits
 * long: `waitMs` for a lock (below the verifications' own lock timeout, 1 s by default), then the whole transaction
 * is rolled back (no lock kept while waiting), and tried again after a backoff (`backoffMs` doubling, at most
 * `maxBackoffMs`, with jitter), `attempts` times in all (5 to 9 s), before STORE_UNAVAILABLE naming the table.
 */
const MIGRATION_LOCKS = { waitMs: 200, attempts: 8, backoffMs: 100, maxBackoffMs: 2000 } as const;

/** SQLSTATE lock_not_available: a lock timeout (PostgreSQL Appendix A, class 55). */
const LOCK_NOT_AVAILABLE = "55P03";

/** A lock one attempt could not get within `waitMs`: the table, when the attempt knew which. */
class LockBusy extends Error {
  constructor(
    readonly table: { schema: string; name: string } | undefined,
    cause: unknown,
  ) {
    super("lock busy", { cause });
  }
}

/**
 * Brings the database's tables of each set to the code's version (src/stores/migrations.ts) in ONE transaction,
 * under an advisory lock on the prefix and schema: processes that open a store at once run the steps one after
 * the other, and the later ones find nothing to do. Without a `schema`, the tables are where the connection's
 * `search_path` puts them (its current schema), as an application's own unqualified tables are; the
 * connection's settings are never changed (its timeouts only for this transaction). The tables a plan changes
 * are locked first, one at a time in the set's order, each waiting at most MIGRATION_LOCKS.waitMs (so a
 * session holding one of them does not stop the verifications); a lock not had is a retry of the whole
 * transaction, and after the last attempt STORE_UNAVAILABLE naming the table, nothing migrated. `then` runs in
 * the same transaction (the store's own rows, such as its keys), on every attempt.
 */
export async function migratePostgres(
  c: pg.ClientBase,
  n: TableNames,
  sets: readonly SchemaSet[],
  then?: () => Promise<void>,
): Promise<void> {
  const locks = MIGRATION_LOCKS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(c, n, sets, then, locks.waitMs);
    } catch (e) {
      if (!(e instanceof LockBusy)) throw e;
      if (attempt >= locks.attempts) throw lockedOut(sets, e, attempt);
      // Full jitter: the openers of a fleet starting at once do not come back in step.
      const ceiling = Math.min(locks.maxBackoffMs, locks.backoffMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)));
    }
  }
}

/** STORE_UNAVAILABLE after the last attempt: nothing was migrated, and which table's lock was not had. */
function lockedOut(sets: readonly SchemaSet[], busy: LockBusy, attempts: number): CapkitError {
  const what =
    busy.table === undefined
      ? `one of capkit's ${sets.map((s) => s.name).join(", ")} tables`
      : `the table ${busy.table.schema}.${busy.table.name}`;
  return new CapkitError(
    "STORE_UNAVAILABLE",
    `capkit's tables were not migrated: another session holds a lock on ${what} (${attempts} attempts); nothing was changed`,
    {
      hint:
        "a long transaction on that table keeps the migration from starting (pg_stat_activity and pg_locks show " +
        "it): end it, or open the store again later — the verifications of the running version go on meanwhile",
      details: {
        outcome: "nothing done",
        ...(busy.table === undefined ? {} : { table: busy.table.name, schema: busy.table.schema }),
      },
      cause: busy.cause,
    },
  );
}

/** One attempt: BEGIN … COMMIT, or ROLLBACK and LockBusy when a lock was not had in `waitMs`. */
async function migrateOnce(
  c: pg.ClientBase,
  n: TableNames,
  sets: readonly SchemaSet[],
  then: (() => Promise<void>) | undefined,
  waitMs: number,
): Promise<void> {
  /** The table whose lock the statement in flight waits for, when it is a LOCK TABLE. */
  let waitingFor: { schema: string; name: string } | undefined;
  await c.query("BEGIN");
  try {
    // Openers wait for each other's migration without a bound (each one's is bounded by its own attempts);
    // then every lock of this transaction is waited for `waitMs` at most.
    await c.query("SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0");
    const cur = ((await c.query("SELECT coalesce(current_schema(), 'public') AS s")).rows[0] as { s: string })
      .s;
    const target = n.schema ?? cur;
    await c.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS, `${target}.${n.prefix}`]);
    await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
    const legacy = legacyNames(cur);
    for (const set of sets) {
      const names = ["meta" as const, ...set.tables];
      const rows = (
        await c.query(
          `SELECT s.nspname AS s, c.relname AS t, a.attname AS col, format_type(a.atttypid, NULL) AS type
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND s.nspname = ANY($1) AND c.relname = ANY($2)
           ORDER BY a.attnum`,
          [
            [target, cur],
            [...names, ...names.map((t) => n.bare(t))],
          ],
        )
      ).rows as { s: string; t: string; col: string; type: string }[];
      const collect = (schema: string, bare: (t: (typeof names)[number]) => string) => {
        const m = new Map<string, string[]>();
        for (const t of names) {
          const cols = rows.filter((r) => r.s === schema && r.t === bare(t)).map((r) => r.col);
          if (cols.length > 0) m.set(bare(t), cols);
        }
        return m;
      };
      const targetTables = collect(target, (t) => n.bare(t));
      const legacyTables = collect(cur, (t) => t);
      const meta = targetTables.has(n.bare("meta"))
        ? ((
            await c.query(
              metaRowsSql(n, (i) => `$${i}`),
              [versionName(set)],
            )
          ).rows as { name: string; value: string }[])
        : [];
      const version = meta.find((r) => r.name === versionName(set));
      // The unprefixed meta is read only when adoption is possible (version 0, none of the set's prefixed tables,
      // an unprefixed anchor) and it has capkit's columns with capkit's types: an application's own `meta` is
      // otherwise never read (it may not be readable by capkit's role, or hold other types).
      const metaTypes = rows.filter((r) => r.s === cur && r.t === "meta").map((r) => r.type);
      const legacyMarker =
        set.legacy === "marker" &&
        version === undefined &&
        !set.tables.some((t) => targetTables.has(n.bare(t))) &&
        legacyTables.has(set.anchor) &&
        legacyMetaShaped(legacyTables.get("meta")) &&
        metaTypes.every((t) => t === "text") &&
        (await readLegacyMarker(c, legacy));
      const catalog: Catalog = {
        target: targetTables,
        legacy: legacyTables,
        version: version === undefined ? 0 : Number(version.value),
        adopted: meta.some((r) => r.name !== versionName(set)),
        legacyMarker,
      };
      const plan = planMigration(set, n, "postgres", catalog);
      if (!plan) continue;
      // Every existing table the steps may change, locked first in the set's order: which one is busy is known,
      // and the DDL then waits for nothing (it runs in milliseconds: the verifications queued behind it resume).
      const changed = [
        ...plan.adopt.map((t) => ({ schema: cur, name: t as string })),
        ...set.tables
          .filter((t) => targetTables.has(n.bare(t)))
          .map((t) => ({ schema: target, name: n.bare(t) })),
      ];
      for (const table of changed) {
        waitingFor = table;
        await c.query(`LOCK TABLE ${ident(table.schema)}.${ident(table.name)} IN ACCESS EXCLUSIVE MODE`);
      }
      waitingFor = undefined;
      if (n.schema !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(n.schema)}`);
      for (const table of plan.adopt) await adopt(c, n, table, cur, target);
      if (plan.adopt.length > 0)
        for (const seq of set.legacySequences ?? []) {
          const exists = (
            await c.query("SELECT to_regclass($1) IS NOT NULL AS e", [`${ident(cur)}.${ident(seq)}`])
          ).rows[0];
          if ((exists as { e: boolean }).e) await moveObject(c, "SEQUENCE", cur, seq, n.prefix + seq, target);
        }
      for (const s of plan.statements) await c.query(s);
      await c.query(
        recordVersionSql(n, (i) => `$${i}`),
        [versionName(set), String(plan.to)],
      );
    }
    await then?.();
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {});
    if ((e as { code?: unknown }).code === LOCK_NOT_AVAILABLE) throw new LockBusy(waitingFor, e);
    throw e;
  }
}

/**
 * SQLSTATE classes that say the server or the moment failed, not the statement (PostgreSQL Appendix A): connection
 * (08), transaction rollback — serialization, deadlock (40), insufficient resources (53), a lock not had (55),
 * operator intervention — a timeout, a shutdown (57), system (58), internal (XX), a foreign server's (HV).
 */
const TRANSIENT_CLASS = /^(08|40|53|55|57|58|XX|HV)/;

/**
 * Whether the unprefixed meta holds capkit's key. A permanent failure reading it — any error the server reports
 * for the statement outside the transient classes: a permission, a type, a view whose function raises — is the
 * schema's, not the server's: STORE_SCHEMA_CONFLICT naming the table, never a "retry when the database is back".
 */
async function readLegacyMarker(c: pg.ClientBase, legacy: TableNames): Promise<boolean> {
  try {
    return (await c.query(legacyMarkerSql(legacy))).rows.length > 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code) || TRANSIENT_CLASS.test(code)) throw e;
    throw new CapkitError(
      "STORE_SCHEMA_CONFLICT",
      `the table ${legacy.t.meta} looks like capkit's older meta table but cannot be read (${(e as Error).message})`,
      {
        hint:
          "capkit reads it only to recognise its tables from before the prefix: grant capkit's role SELECT on it, " +
          "or, if the unprefixed tables are not capkit's, rename them",
        details: { table: "meta" },
      },
    );
  }
}

/** An unprefixed table renamed (and moved to the target schema) with its indexes and serial sequences. */
async function adopt(c: pg.ClientBase, n: TableNames, table: string, cur: string, target: string) {
  const from = `${ident(cur)}.${ident(table)}`;
  const indexes = (
    await c.query(
      "SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass",
      [from],
    )
  ).rows as { name: string }[];
  const sequences = (
    await c.query(
      `SELECT s.relname AS name FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
       WHERE d.refobjid = $1::regclass AND d.classid = 'pg_class'::regclass AND s.relkind = 'S'`,
      [from],
    )
  ).rows as { name: string }[];
  await moveObject(c, "TABLE", cur, table, n.prefix + table, target);
  // Moved with their table; renamed here so that no name capkit keeps lacks its prefix.
  for (const i of indexes)
    await c.query(`ALTER INDEX ${ident(target)}.${ident(i.name)} RENAME TO ${ident(n.prefix + i.name)}`);
  for (const s of sequences)
    await c.query(`ALTER SEQUENCE ${ident(target)}.${ident(s.name)} RENAME TO ${ident(n.prefix + s.name)}`);
}

async function moveObject(
  c: pg.ClientBase,
  kind: "TABLE" | "SEQUENCE",
  cur: string,
  from: string,
  to: string,
  target: string,
) {
  await c.query(`ALTER ${kind} ${ident(cur)}.${ident(from)} RENAME TO ${ident(to)}`);
  if (target !== cur) await c.query(`ALTER ${kind} ${ident(cur)}.${ident(to)} SET SCHEMA ${ident(target)}`);
}
