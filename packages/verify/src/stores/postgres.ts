import { CapkitError } from "@capkit/core";
import type pg from "pg";
import type {
  AcceptOutcome,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  ChainHead,
  Challenge,
  CodeFunction,
  CredentialState,
  FailExpectation,
  FailOutcome,
  FailureSubject,
  ListOptions,
  SealedState,
  StateStore,
  StoredCredential,
  UserState,
} from "../model.js";
import { loadDriver } from "./driver.js";
import { KeyedGate } from "./keyed-gate.js";
import {
  CREDENTIAL_COLUMNS,
  credentialValues,
  ROW_BYTES,
  rowToAudit,
  rowToChained,
  rowToCredential,
  SCHEMA_POSTGRES,
} from "./schema.js";

export interface PostgresStoreOptions {
  readonly poolSize?: number;
  /** Server-side statement_timeout: no statement runs longer (default 2000 ms). */
  readonly statementTimeoutMs?: number;
  /** Server-side lock_timeout: a row held by another session answers STORE_UNAVAILABLE after this (default 1000 ms). */
  readonly lockTimeoutMs?: number;
  /** Waiting for a connection (new or from the pool) (default 2000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * State shared by many server instances (the way out when one machine is not enough). Every decision is one
 * statement: a conditional UPDATE and its audit INSERT in a data-modifying CTE, atomic and one round trip; the
 * verifier caches credential definitions (docs/architecture.md §6), so a verification is that one statement.
 * Concurrent UPDATEs of a row queue on its lock and PostgreSQL re-checks the WHERE clause against the newer row
 * (READ COMMITTED), so of N racing accepts of one code exactly one matches.
 *
 * Any database failure fails closed — STORE_UNAVAILABLE, never an acceptance — and never takes the process
 * down: the pool and every client have an 'error' listener (a server that goes away emits one on each
 * connection), broken connections are dropped, and the pool connects afresh once the server is back. A
 * statement and lock timeout bound how long a held row can make a caller wait.
 */
export class PostgresStore implements StateStore {
  readonly #pool: pg.Pool;
  readonly #gate: KeyedGate;
  readonly #waitMs: number;

  private constructor(pool: pg.Pool, gate: KeyedGate, waitMs: number) {
    this.#pool = pool;
    this.#gate = gate;
    this.#waitMs = waitMs;
  }

  static async connect(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const statementTimeout = options.statementTimeoutMs ?? 2000;
    const lockTimeout = Math.min(options.lockTimeoutMs ?? 1000, statementTimeout);
    const { Pool } = loadDriver<typeof pg>("pg", "PostgresStore");
    const pool = new Pool({
      connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
      statement_timeout: statementTimeout,
      lock_timeout: lockTimeout,
      // The client gives up too if the server stops answering altogether (a dead host sends no FATAL).
      query_timeout: statementTimeout + 1000,
    });
    // An idle client losing its server emits on the pool; a checked-out one emits on itself. Either way the
    // query in flight (if any) is rejected and reported; the event itself must not crash the process.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const store = new PostgresStore(
      pool,
      // One write per credential (or user) row in flight from this process: PostgreSQL runs writes on one row
      // one after the other anyway, and a second waiter would wait twice the lock timeout (lock_timeout counts
      // each lock wait: first the tuple lock behind the first waiter, then the row). A stuck row holds one
      // pool connection; the callers queued here give up with the first lock timeout.
      new KeyedGate(1),
      statementTimeout,
    );
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
      const code = (e as { code?: string }).code;
      if (code === "23505") throw new CapkitError("CREDENTIAL_EXISTS", "credential already exists");
      // A lock or statement timeout leaves the connection usable; anything else may not have.
      broken = code !== "55P03" && code !== "57014";
      throw unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  /** Named statements are parsed and planned once per connection, then only bound and executed. */
  #query(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.#run((c) => c.query({ name: statementName(sql), text: sql, values }));
  }

  /** A write on one credential's (or user's) row: at most a few in flight per row from this process. */
  async #write(key: string, sql: string, values: unknown[]): Promise<pg.QueryResult> {
    const release = await this.#gate.acquire(key, this.#waitMs).catch((e) => {
      throw e instanceof CapkitError ? e : unavailable(e);
    });
    try {
      return await this.#query(sql, values);
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (code === "55P03" || code === "57014") this.#gate.failWaiting(key, e as Error);
      throw e;
    } finally {
      release();
    }
  }

  async enroll(c: StoredCredential, a: AuditEntry): Promise<void> {
    try {
      await this.#query(
        `WITH i AS (INSERT INTO credentials (${CREDENTIAL_COLUMNS})
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id),
              u AS (INSERT INTO users (id) SELECT $7 FROM i WHERE $7::text IS NOT NULL ON CONFLICT DO NOTHING)
         INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
         SELECT $10, $11, $12, $13, $14, $15, $16, $17 FROM i`,
        [...credentialValues(c), ...auditValues(a), a.actor ?? null],
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

  async list(o: ListOptions): Promise<StoredCredential[]> {
    const r = await this.#query(
      `SELECT * FROM credentials WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR user_id = $2)
       ORDER BY id LIMIT $3`,
      [o.after ?? null, o.user ?? null, o.limit],
    );
    return r.rows.map(rowToCredential);
  }

  async user(id: string): Promise<UserState | undefined> {
    const r = await this.#query("SELECT * FROM users WHERE id = $1", [id]);
    const row = r.rows[0];
    return row && { id: row.id, failures: Number(row.failures), locked: row.locked === true };
  }

  /**
   * One statement, one round trip: the conditional UPDATE (at the version the decision was made on), the user's
   * failure reset and the audit row; when nothing matched, the same statement says why.
   */
  async accept(
    id: string,
    value: number,
    a: AuditEntry,
    decidedOn: { version: number; drift?: number | undefined },
  ): Promise<AcceptOutcome> {
    const r = await this.#write(
      id,
      `WITH u AS (UPDATE credentials SET last = $2, failures = 0, drift = coalesce($3, drift)
                  WHERE id = $1 AND version = $11 AND last < $2 AND NOT locked AND state = 'active'
                    AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = credentials.user_id AND users.locked)
                  RETURNING id, user_id),
            r AS (UPDATE users SET failures = 0 WHERE id = (SELECT user_id FROM u)),
            w AS (INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
                  SELECT $4, $5, $6, $7, $8, $9, $10, $12 FROM u RETURNING 1)
       SELECT (SELECT count(*) FROM u)::int AS accepted, c.version = $11 AS same,
              c.locked OR coalesce(us.locked, FALSE) AS locked, c.state
       FROM (SELECT 1) one LEFT JOIN credentials c ON c.id = $1 LEFT JOIN users us ON us.id = c.user_id`,
      [id, value, decidedOn.drift ?? null, ...auditValues(a), decidedOn.version, a.actor ?? null],
    );
    const row = r.rows[0] as {
      accepted: number;
      same: boolean | null;
      locked: boolean | null;
      state: string;
    };
    if (row.accepted === 1) return "accepted";
    if (row.same !== true) return "changed"; // gone, or another version
    if (row.locked) return "locked";
    return row.state !== "active" ? "disabled" : "stale";
  }

  async fail(
    subject: FailureSubject,
    maxFailures: number,
    a: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome> {
    const table = "user" in subject ? "users" : "credentials";
    const key = "user" in subject ? `user:${subject.user}` : subject.credential;
    // The expectation is checked in the same statement as the count: a failure is counted only against the
    // credential state the code was judged on (on the updated row itself when it is the credential's).
    const expectation =
      table === "credentials"
        ? "($10::text IS NULL OR (id = $10 AND version = $11 AND last = $12))"
        : "($10::text IS NULL OR EXISTS (SELECT 1 FROM credentials x WHERE x.id = $10 AND x.version = $11 AND x.last = $12))";
    const r = await this.#write(
      key,
      `WITH u AS (UPDATE ${table} SET failures = failures + 1, locked = locked OR failures + 1 >= $2
                  WHERE id = $1 AND ${expectation}
                  RETURNING failures, locked),
            w AS (INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
                  SELECT $3, $4, $5, CASE WHEN u.locked THEN 'locked' ELSE $6 END, $7, $8, $9, $13 FROM u RETURNING 1)
       SELECT failures, locked FROM u`,
      [
        "user" in subject ? subject.user : subject.credential,
        maxFailures,
        ...auditValues(a),
        expected?.credential ?? null,
        expected?.version ?? null,
        expected?.last ?? null,
        a.actor ?? null,
      ],
    );
    const row = r.rows[0] as { failures: number; locked: boolean } | undefined;
    if (row) return { failures: row.failures, locked: row.locked };
    if (expected) return "changed";
    throw new CapkitError("CREDENTIAL_UNKNOWN", "no such credential or user");
  }

  async unlock(subject: FailureSubject, a: AuditEntry): Promise<boolean> {
    const table = "user" in subject ? "users" : "credentials";
    const r = await this.#query(
      `WITH u AS (UPDATE ${table} SET failures = 0, locked = FALSE WHERE id = $1 RETURNING id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
       SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM u RETURNING 1`,
      ["user" in subject ? subject.user : subject.credential, ...auditValues(a), a.actor ?? null],
    );
    return r.rowCount === 1;
  }

  async setState(id: string, state: CredentialState, version: number, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(
      `WITH u AS (UPDATE credentials SET state = $2, version = $10 WHERE id = $1 RETURNING id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
       SELECT $3, $4, $5, $6, $7, $8, $9, $11 FROM u RETURNING 1`,
      [id, state, ...auditValues(a), version, a.actor ?? null],
    );
    return r.rowCount === 1;
  }

  async revoke(id: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(
      `WITH d AS (DELETE FROM credentials WHERE id = $1 RETURNING id),
            c AS (DELETE FROM challenges WHERE credential_id IN (SELECT id FROM d)),
            r AS (UPDATE credentials SET replaces = NULL WHERE replaces IN (SELECT id FROM d))
       INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
       SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM d RETURNING 1`,
      [id, ...auditValues(a), a.actor ?? null],
    );
    return r.rowCount === 1;
  }

  async addChallenge(ch: Challenge, a: AuditEntry, maxPerCredential: number): Promise<void> {
    await this.#query(
      `WITH x AS (DELETE FROM challenges WHERE expires_at <= $6),
            t AS (DELETE FROM challenges WHERE credential_id = $2 AND id NOT IN
                    (SELECT id FROM challenges WHERE credential_id = $2 ORDER BY expires_at DESC LIMIT $13)),
            i AS (INSERT INTO challenges (id, credential_id, function, value, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING credential_id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
       SELECT $6, $7, $8, $9, $10, $11, $12, $14 FROM i`,
      [
        ch.id,
        ch.credentialId,
        ch.function,
        ch.value,
        ch.expiresAt,
        ...auditValues(a),
        Math.max(0, maxPerCredential - 1),
        a.actor ?? null,
      ],
    );
  }

  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const r = await this.#query(
      "DELETE FROM challenges WHERE id = $1 AND credential_id = $2 AND function = $3 RETURNING *",
      [id, credentialId, fn],
    );
    const row = r.rows[0];
    // Taken (deleted) even when expired: an expired challenge is never of use again.
    if (!row || Number(row.expires_at) <= now) return undefined;
    return {
      id: row.id,
      credentialId: row.credential_id,
      function: row.function,
      value: row.value,
      expiresAt: Number(row.expires_at),
    };
  }

  async reseal(id: string, expected: SealedState, next: SealedState, a: AuditEntry): Promise<boolean> {
    const r = await this.#write(
      id,
      `WITH u AS (UPDATE credentials SET sealed = $2, params = $3
                  WHERE id = $1 AND sealed IS NOT DISTINCT FROM $4 AND params = $5::jsonb RETURNING id)
       INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor)
       SELECT $6, $7, $8, $9, $10, $11, $12, $13 FROM u RETURNING 1`,
      [
        id,
        next.sealed ?? null,
        JSON.stringify(next.params),
        expected.sealed ?? null,
        JSON.stringify(expected.params),
        ...auditValues(a),
        a.actor ?? null,
      ],
    );
    return r.rowCount === 1;
  }

  async record(a: AuditEntry): Promise<void> {
    await this.#query(
      "INSERT INTO audit (at, credential_id, action, result, counter, detail, user_id, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      [...auditValues(a), a.actor ?? null],
    );
  }

  async audit(id?: string, limit = 100): Promise<AuditEntry[]> {
    const r =
      id === undefined
        ? await this.#query("SELECT * FROM audit ORDER BY seq DESC LIMIT $1", [limit])
        : await this.#query(
            "SELECT * FROM audit WHERE credential_id = $1 OR user_id = $1 ORDER BY seq DESC LIMIT $2",
            [id, limit],
          );
    return r.rows.reverse().map(rowToAudit);
  }

  async auditTrail(q: AuditQuery): Promise<ChainedAuditEntry[]> {
    const r = await this.#query(
      `SELECT * FROM audit WHERE seq > $1 AND ($2::text IS NULL OR credential_id = $2) AND ($3::text IS NULL OR user_id = $3)
         AND ($4::bigint IS NULL OR at >= $4) AND ($5::bigint IS NULL OR at < $5)
       ORDER BY seq LIMIT $6`,
      [q.after ?? 0, q.credential ?? null, q.user ?? null, q.since ?? null, q.until ?? null, q.limit],
    );
    return r.rows.map(rowToChained);
  }

  async auditHeads(from: number, to: number): Promise<{ observed: number; heads: ChainHead[] }> {
    const r = await this.#query(
      `SELECT h.chain, h.n, a.hash, (SELECT coalesce(max(seq), 0) FROM audit) AS observed
       FROM (SELECT DISTINCT chain FROM audit WHERE seq > $1 AND seq <= $2 AND chain IS NOT NULL) t
       JOIN audit_chains h ON h.chain = t.chain JOIN audit a ON a.chain = h.chain AND a.n = h.n
       UNION ALL SELECT NULL, NULL, NULL, (SELECT coalesce(max(seq), 0) FROM audit)`,
      [from, to],
    );
    const rows = r.rows as { chain: string | null; n: string; hash: string; observed: string }[];
    return {
      observed: Number(rows.at(-1)!.observed),
      heads: rows
        .filter((x) => x.chain !== null)
        .map((x) => ({ chain: x.chain!, n: Number(x.n), hash: x.hash })),
    };
  }

  async addCheckpoint(cp: AuditCheckpoint): Promise<boolean> {
    const r = await this.#query(
      "INSERT INTO audit_checkpoints (seq, at, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [cp.seq, cp.at, JSON.stringify(cp)],
    );
    return r.rowCount === 1;
  }

  async auditCheckpoints(): Promise<AuditCheckpoint[]> {
    const r = await this.#query("SELECT body FROM audit_checkpoints ORDER BY seq", []);
    return r.rows.map((x: { body: string }) => JSON.parse(x.body) as AuditCheckpoint);
  }

  async auditCut(maxRows: number, maxBytes: number): Promise<number | undefined> {
    const r = await this.#query(
      `SELECT max(at) AS cut FROM (
         SELECT at, row_number() OVER w AS k, sum(${ROW_BYTES}) OVER w AS bytes FROM audit
         WINDOW w AS (ORDER BY seq DESC)) x
       WHERE k > $1 OR bytes > $2`,
      [maxRows, maxBytes],
    );
    const cut = r.rows[0]?.cut;
    return cut === null || cut === undefined ? undefined : Number(cut) + 1;
  }

  async pruneAudit(before: number): Promise<number> {
    const r = await this.#query(
      `WITH d AS (DELETE FROM audit a WHERE at < $1 AND (chain IS NULL OR EXISTS
                    (SELECT 1 FROM audit b WHERE b.chain = a.chain AND b.n > a.n AND b.at < $1)) RETURNING 1),
            c AS (DELETE FROM audit_checkpoints WHERE at < $1 AND seq <
                    (SELECT coalesce(max(seq), 0) FROM audit_checkpoints WHERE at < $1))
       SELECT count(*)::int AS n FROM d`,
      [before],
    );
    return r.rows[0].n;
  }

  /** How many challenges are held (tests of the bound under a flood). */
  async challengeCount(): Promise<number> {
    const r = await this.#query("SELECT count(*)::int AS n FROM challenges", []);
    return r.rows[0].n;
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
  return [a.at, a.credentialId, a.action, a.result, a.counter ?? null, a.detail ?? null, a.user ?? null];
}

function unavailable(e: unknown): CapkitError {
  return new CapkitError("STORE_UNAVAILABLE", `PostgreSQL is unavailable: ${(e as Error).message ?? e}`, {
    hint: "nothing was accepted; retry when the database is back",
    cause: e,
  });
}
