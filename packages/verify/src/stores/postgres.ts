import { CapkitError } from "@capkit/core";
import type pg from "pg";
import type {
  AcceptOutcome,
  AuditEntry,
  Challenge,
  CodeFunction,
  StateStore,
  StoredCredential,
} from "../model.js";
import { loadDriver } from "./driver.js";
import { rowToCredential, SCHEMA_POSTGRES } from "./schema.js";

/**
 * State shared by many server instances (the way out when one machine is not enough). Every decision is one
 * statement: a conditional UPDATE and its audit INSERT in a data-modifying CTE, atomic and one round trip.
 * Concurrent UPDATEs of a row queue on its lock and PostgreSQL re-checks the WHERE clause against the newer row
 * (READ COMMITTED), so of N racing accepts of one code exactly one matches. Any database failure fails closed:
 * STORE_UNAVAILABLE, never an acceptance.
 */
export class PostgresStore implements StateStore {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async connect(
    connectionString: string,
    options: { poolSize?: number } = {},
  ): Promise<PostgresStore> {
    const { Pool } = loadDriver<typeof pg>("pg", "PostgreSQL store");
    const pool = new Pool({
      connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const store = new PostgresStore(pool);
    await store.#run(async (c) => {
      await c.query("SELECT pg_advisory_lock(781234)"); // several instances may start at once
      try {
        await c.query(SCHEMA_POSTGRES);
      } finally {
        await c.query("SELECT pg_advisory_unlock(781234)");
      }
    });
    return store;
  }

  async #run<T>(f: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    let broken = false;
    try {
      return await f(client);
    } catch (e) {
      if (e instanceof CapkitError) throw e;
      if ((e as { code?: string }).code === "23505")
        throw new CapkitError("CREDENTIAL_EXISTS", "credential already exists");
      broken = true;
      throw unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  /** Named statements are parsed and planned once per connection, then only bound and executed. */
  #query(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.#run((c) => c.query({ name: statementName(sql), text: sql, values }));
  }

  async enroll(c: StoredCredential, a: AuditEntry): Promise<void> {
    try {
      await this.#query(
        `WITH i AS (INSERT INTO credentials (id, params, sealed, last, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id)
         INSERT INTO audit (at, credential_id, action, result, counter, detail) SELECT $6, id, $7, $8, $9, $10 FROM i`,
        [c.id, JSON.stringify(c.params), c.sealed ?? null, c.last, c.createdAt, ...auditValues(a)],
      );
    } catch (e) {
      if (e instanceof CapkitError && e.code === "CREDENTIAL_EXISTS") {
        throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
      }
      throw e;
    }
  }

  async get(id: string): Promise<StoredCredential | undefined> {
    const r = await this.#query("SELECT * FROM credentials WHERE id = $1", [id]);
    return r.rows[0] ? rowToCredential(r.rows[0]) : undefined;
  }

  async accept(id: string, value: number, a: AuditEntry): Promise<AcceptOutcome> {
    const r = await this.#query(
      `WITH u AS (UPDATE credentials SET last = $2, failures = 0 WHERE id = $1 AND last < $2 AND NOT locked RETURNING id),
            w AS (INSERT INTO audit (at, credential_id, action, result, counter, detail) SELECT $3, id, $4, $5, $6, $7 FROM u RETURNING 1)
       SELECT (SELECT count(*) FROM u)::int AS accepted, (SELECT locked FROM credentials WHERE id = $1) AS locked`,
      [id, value, ...auditValues(a)],
    );
    const row = r.rows[0] as { accepted: number; locked: boolean | null };
    if (row.accepted === 1) return "accepted";
    if (row.locked === null) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return row.locked ? "locked" : "stale";
  }

  async fail(id: string, maxFailures: number, a: AuditEntry): Promise<{ failures: number; locked: boolean }> {
    const r = await this.#query(
      `WITH u AS (UPDATE credentials SET failures = failures + 1, locked = locked OR failures + 1 >= $2 WHERE id = $1 RETURNING failures, locked),
            w AS (INSERT INTO audit (at, credential_id, action, result, counter, detail)
                  SELECT $3, $1, $4, CASE WHEN u.locked THEN 'locked' ELSE $5 END, $6, $7 FROM u RETURNING 1)
       SELECT failures, locked FROM u`,
      [id, maxFailures, ...auditValues(a)],
    );
    const row = r.rows[0] as { failures: number; locked: boolean } | undefined;
    if (!row) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return { failures: row.failures, locked: row.locked };
  }

  async unlock(id: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(
      `WITH u AS (UPDATE credentials SET failures = 0, locked = FALSE WHERE id = $1 RETURNING id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail) SELECT $2, id, $3, $4, $5, $6 FROM u RETURNING 1`,
      [id, ...auditValues(a)],
    );
    return r.rowCount === 1;
  }

  async addChallenge(ch: Challenge, a: AuditEntry): Promise<void> {
    await this.#query(
      `WITH i AS (INSERT INTO challenges (id, credential_id, function, value, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING credential_id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail) SELECT $6, credential_id, $7, $8, $9, $10 FROM i`,
      [ch.id, ch.credentialId, ch.function, ch.value, ch.expiresAt, ...auditValues(a)],
    );
  }

  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const r = await this.#query(
      `UPDATE challenges SET used = TRUE
       WHERE id = $1 AND credential_id = $2 AND function = $3 AND NOT used AND expires_at > $4 RETURNING *`,
      [id, credentialId, fn, now],
    );
    const row = r.rows[0];
    return (
      row && {
        id: row.id,
        credentialId: row.credential_id,
        function: row.function,
        value: row.value,
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async audit(credentialId?: string, limit = 100): Promise<AuditEntry[]> {
    const r =
      credentialId === undefined
        ? await this.#query("SELECT * FROM audit ORDER BY seq DESC LIMIT $1", [limit])
        : await this.#query("SELECT * FROM audit WHERE credential_id = $1 ORDER BY seq DESC LIMIT $2", [
            credentialId,
            limit,
          ]);
    return r.rows.reverse().map((row) => ({
      at: Number(row.at),
      credentialId: row.credential_id,
      action: row.action,
      result: row.result,
      ...(row.counter === null ? {} : { counter: Number(row.counter) }),
      ...(row.detail === null ? {} : { detail: row.detail }),
    }));
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

const names = new Map<string, string>();
function statementName(sql: string): string {
  let n = names.get(sql);
  if (!n) {
    n = `capkit_${names.size}`;
    names.set(sql, n);
  }
  return n;
}

function auditValues(a: AuditEntry): unknown[] {
  return [a.at, a.action, a.result, a.counter ?? null, a.detail ?? null];
}

function unavailable(e: unknown): CapkitError {
  return new CapkitError("STORE_UNAVAILABLE", `PostgreSQL is unavailable: ${(e as Error).message ?? e}`, {
    hint: "nothing was accepted; retry when the database is back",
    cause: e,
  });
}
