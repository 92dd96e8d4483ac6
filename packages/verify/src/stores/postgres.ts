import { randomBytes } from "node:crypto";
import { CapkitError } from "@capkit/core";
import type pg from "pg";
import { lockoutSql } from "../lockout.js";
import type {
  AcceptDecision,
  AcceptOutcome,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  ChainHead,
  Challenge,
  CodeFunction,
  Counted,
  CredentialState,
  FailExpectation,
  FailOutcome,
  FailureSubject,
  ListOptions,
  LockoutRule,
  SealedState,
  StateStore,
  StoredCredential,
  UserState,
} from "../model.js";
import { replayDigest } from "../replay.js";
import { integerIn } from "../requests.js";
import { activatedEntry, replacedEntry } from "./activation.js";
import type { PostgresConnection, PostgresConnectOptions } from "./connections.js";
import {
  type PostgresInternals,
  type PostgresTransaction,
  STORE_INTERNALS,
  stampActor,
} from "./internals.js";
import { migratePostgres } from "./migrate-postgres.js";
import { UNKNOWN_KEY_NAME } from "./migrations.js";
import { openPool } from "./postgres-pool.js";
import {
  CREDENTIAL_COLUMNS,
  credentialSelect,
  credentialValues,
  ROW_BYTES,
  rowToAudit,
  rowToChained,
  rowToCredential,
  unknownSubjectKey,
  VERIFIER_TABLES,
} from "./schema.js";
import type { TableNames } from "./tables.js";
import { nothingDone, outcomeUnknown } from "./unavailable.js";

/** The options of a {@link PostgresStore}: where its tables are, its pool, and the unknown subjects' bound. */
export interface PostgresStoreOptions extends PostgresConnectOptions {
  /** Unknown ids and users whose failures are counted (the most recently tried; default 100,000). */
  readonly unknownLimit?: number;
}

/**
 * State shared by many server instances (the way out when one machine is not enough). Every decision is one
 * statement: a conditional UPDATE and its audit INSERT in a data-modifying CTE, atomic and one round trip; the
 * verifier caches credential definitions (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6), so a verification is that one statement.
 * Concurrent UPDATEs of a row queue on its lock and PostgreSQL re-checks the WHERE clause against the newer row
 * (READ COMMITTED), so of N racing accepts of one code exactly one matches. Every decision on a credential that
 * belongs to a user first locks the user's row (SELECT … FOR UPDATE, which returns the row as last committed),
 * so a user's failures and accepts — from any number of processes — are decided one after the other on the
 * same count: no accept passes while failures queue elsewhere (the race of ZITADEL GHSA-7h8m-vrxx-vr4m).
 *
 * Any database failure fails closed — STORE_UNAVAILABLE, never an acceptance — and never takes the process
 * down: the pool and every client have an 'error' listener (a server that goes away emits one on each
 * connection), broken connections are dropped, and the pool connects afresh once the server is back. A
 * statement and lock timeout bound how long a held row can make a caller wait.
 */
export class PostgresStore implements StateStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #unknownLimit: number;
  readonly #names: TableNames;
  readonly #sql: Statements;
  #unknownKey = Buffer.alloc(0);

  private constructor(pool: pg.Pool, owned: boolean, names: TableNames, unknownLimit: number) {
    this.#pool = pool;
    this.#owned = owned;
    this.#names = names;
    this.#sql = statements(names);
    this.#unknownLimit = unknownLimit;
  }

  /**
   * Connects with a `postgres://` URL, a full `pg.PoolConfig` (TLS, host, user…: the store's timeouts apply
   * where it sets none) or the application's own `pg.Pool` (which `close` leaves open). The tables, named with
   * `tablePrefix` (default `capkit_`) in `schema` (default: the connection's current one), are created or
   * brought to this version on connect (src/stores/migrations.ts); no other table is touched.
   *
   * @example
   * ```ts
   * const store = await PostgresStore.connect("postgres://capkit@db/bank");
   * const beside = await PostgresStore.connect(appPool, { schema: "capkit" }); // the application's pg.Pool
   * const tls = await PostgresStore.connect({ host: "db", user: "capkit", ssl: { ca } }, { tablePrefix: "auth_" });
   * ```
   */
  static async connect(
    connection: PostgresConnection,
    options: PostgresStoreOptions = {},
  ): Promise<PostgresStore> {
    const { pool, owned, names } = openPool(connection, "PostgresStore", options, ["unknownLimit"]);
    const unknownLimit = integerIn(options.unknownLimit ?? 100_000, 1, 100_000_000, "unknownLimit");
    // One decision per lockout subject in flight from a Verifier (src/subject-gate.ts): a stuck row holds one
    // pool connection, and the callers queued behind it give up with the first lock timeout.
    const store = new PostgresStore(pool, owned, names, unknownLimit);
    try {
      await store.#run(async (c) => {
        // Several instances may start at once, while others serve: they wait for each other (not bounded by the
        // lock timeout of verifications), and the DDL — whose table locks would stop every verification for a
        // moment — runs only when the schema is older than this version.
        await migratePostgres(c, names, [VERIFIER_TABLES], async () => {
          await c.query(`INSERT INTO ${names.t.meta} (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
            UNKNOWN_KEY_NAME,
            randomBytes(32).toString("hex"),
          ]);
          const r = await c.query(`SELECT value FROM ${names.t.meta} WHERE name = $1`, [UNKNOWN_KEY_NAME]);
          store.#unknownKey = Buffer.from(r.rows[0].value, "hex");
        });
      });
    } catch (e) {
      if (owned) await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  /** Runs `f` on a pooled connection; `writes`: whether `f` may commit (then a lost answer is "unknown"). */
  async #run<T>(f: (client: pg.PoolClient) => Promise<T>, writes = true): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw unreachable(e);
    }
    let broken = false;
    try {
      return await f(client);
    } catch (e) {
      broken = leavesBroken(e);
      throw storeError(e, writes);
    } finally {
      client.release(broken);
    }
  }

  /**
   * One named statement (parsed and planned once per connection, then only bound and executed), by `#run`'s
   * rules, written with the pool's and the driver's callbacks: on a verification's path that is one promise
   * where `#run` makes four (the pool's checkout, the driver's query, `#run`'s own, the work's) and no closure
   * per statement beyond the two callbacks — capkit's own client work per round trip (https://github.com/capkit/capkit/blob/main/docs/benchmarks.md,
   * "PostgreSQL at the limit").
   */
  #query(sql: string, values: unknown[], writes = true): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      this.#pool.connect((e: Error | undefined, client: pg.PoolClient | undefined, release) => {
        if (e || !client) return reject(unreachable(e));
        try {
          client.query(
            { name: statementName(sql), text: sql, values },
            (qe: Error | null, r: pg.QueryResult) => {
              release(qe ? leavesBroken(qe) : false);
              if (qe) reject(storeError(qe, writes));
              else resolve(r);
            },
          );
        } catch (qe) {
          release(leavesBroken(qe));
          reject(storeError(qe, writes));
        }
      });
    });
  }

  /** A statement that only reads: its failure never leaves anything done. */
  #read(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.#query(sql, values, false);
  }

  /** Adds the credential (and its user, if new) with its audit row; CREDENTIAL_EXISTS when the id is taken. */
  async enroll(c: StoredCredential, a: AuditEntry): Promise<void> {
    try {
      await this.#query(this.#sql.ENROLL, [...credentialValues(c), ...auditValues(a), a.actor ?? null]);
    } catch (e) {
      if (e instanceof CapkitError && e.code === "CREDENTIAL_EXISTS") {
        throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
      }
      throw e;
    }
  }

  /** The credential, with its lockout subject's count and lock; undefined when nobody holds the id. */
  async get(id: string): Promise<StoredCredential | undefined> {
    const r = await this.#read(this.#sql.get, [id]);
    return r.rows[0] ? rowToCredential(r.rows[0]) : undefined;
  }

  /** A page of credentials in id order (keyset paging), of one user or all. */
  async list(o: ListOptions): Promise<StoredCredential[]> {
    const r = await this.#read(this.#sql.list, [o.after ?? null, o.user ?? null, o.limit]);
    return r.rows.map(rowToCredential);
  }

  /** A user's count and lock; undefined for a user never registered. */
  async user(id: string): Promise<UserState | undefined> {
    const r = await this.#read(this.#sql.user, [id]);
    const row = r.rows[0];
    return (
      row && {
        id: row.id,
        failures: Number(row.failures),
        locked: row.locked === true,
        lockedAt: row.locked_at === null ? undefined : Number(row.locked_at),
      }
    );
  }

  /** Registers a user with no credential yet; false if known already. */
  async addUser(id: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.addUser, [id, ...auditValues(a), a.actor ?? null]);
    return r.rowCount === 1;
  }

  /**
   * One statement, one round trip: the conditional UPDATE (at the version the decision was made on), the
   * subject's failure reset and the audit row — or, when the subject is locked or the credential disabled,
   * the failure counted instead; when nothing was written, the same statement says why.
   */
  async accept(id: string, value: number, a: AuditEntry, d: AcceptDecision): Promise<AcceptOutcome> {
    if (d.activates) return this.#acceptActivating(id, value, a, d);
    return acceptOutcome(await this.#query(...acceptStatement(this.#sql, id, value, a, d)));
  }

  /**
   * The first accept of a pending or replacing credential (src/stores/activation.ts): the accept statement,
   * then the activation and the replaced credential's revocation, in one transaction. The user's row, then the
   * credential's, are locked first (the order every accept takes), and the credential is read as last
   * committed: whether it is still pending, and what it replaces, are decided on that row.
   */
  #acceptActivating(id: string, value: number, a: AuditEntry, d: AcceptDecision): Promise<AcceptOutcome> {
    return this.#transaction(async (tx) => {
      if (d.user !== undefined) await tx.query(this.#sql.lockUser, [d.user]);
      const before = (await tx.query(this.#sql.lockPending, [id, d.version])).rows[0] as
        | { state: string; replaces: string | null }
        | undefined;
      const outcome = acceptOutcome(await tx.query(...acceptStatement(this.#sql, id, value, a, d)));
      if (outcome !== "accepted" || !before || (before.state !== "pending" && before.replaces === null))
        return outcome;
      await tx.query(this.#sql.activate, [id]);
      if (before.state === "pending") await tx.audit(activatedEntry(a));
      if (before.replaces !== null) await tx.revoke(before.replaces, replacedEntry(a, before.replaces));
      return outcome;
    });
  }

  /** A transaction on one connection: BEGIN, `work`, COMMIT — or ROLLBACK when `work` throws. */
  #transaction<T>(work: (tx: PostgresTransaction) => Promise<T>, actor?: string): Promise<T> {
    const a = stampActor(actor);
    return this.#run(async (client) => {
      // Named (prepared once per connection) when it has parameters; without, a simple query, so a DDL script
      // of several commands goes through.
      const q = (sql: string, values: unknown[]) =>
        values.length > 0 ? client.query({ name: statementName(sql), text: sql, values }) : client.query(sql);
      const tx: PostgresTransaction = {
        query: q,
        insertCredential: async (c, entry) => {
          const audit = a(entry);
          try {
            await q(this.#sql.ENROLL, [...credentialValues(c), ...auditValues(audit), audit.actor ?? null]);
          } catch (e) {
            if ((e as { code?: string }).code === "23505")
              throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
            throw e;
          }
        },
        revoke: async (id, entry) => {
          const audit = a(entry);
          return (await q(this.#sql.REVOKE, [id, ...auditValues(audit), audit.actor ?? null])).rowCount === 1;
        },
        audit: async (entry) => {
          const audit = a(entry);
          await q(this.#sql.RECORD, [...auditValues(audit), audit.actor ?? null]);
        },
      };
      await client.query("BEGIN");
      let result: T;
      try {
        result = await work(tx);
      } catch (e) {
        // A ROLLBACK that fails leaves a connection in an unknown state: its error (a driver error) is thrown
        // instead, and the connection is dropped.
        await client.query("ROLLBACK");
        throw e;
      }
      await client.query("COMMIT");
      return result;
    });
  }

  /** The provisioning tables' door (src/stores/internals.ts). @internal */
  [STORE_INTERNALS](actor?: string): PostgresInternals {
    return {
      names: this.#names,
      migrate: (set) => this.#run((c) => migratePostgres(c, this.#names, [set])),
      query: (sql, values) => this.#query(sql, values),
      transaction: (work) => this.#transaction(work, actor),
    };
  }

  /** Counts a failure on the subject (on its unknown-subject row when nobody holds it) and locks at the rule's maximum; "changed" when `expected` no longer holds. */
  async fail(
    subject: FailureSubject,
    rule: LockoutRule,
    a: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome> {
    const unknown = [unknownSubjectKey(this.#unknownKey, subject), this.#unknownLimit, rule.releaseMs];
    let r: pg.QueryResult;
    if (expected && "absent" in expected) {
      r = await this.#query(this.#sql.FAIL_ABSENT, [
        expected.credential,
        rule.maxFailures,
        ...auditValues(a),
        ...unknown,
        a.actor ?? null,
      ]);
    } else if (expected && "user" in subject) {
      r = await this.#query(this.#sql.FAIL_USER_EXPECTED, [
        subject.user,
        rule.maxFailures,
        ...auditValues(a),
        expected.credential,
        expected.version,
        expected.last,
        rule.releaseMs,
        expected.locked === true,
        a.actor ?? null,
      ]);
    } else if (expected) {
      r = await this.#query(this.#sql.FAIL_OWN_EXPECTED, [
        expected.credential,
        rule.maxFailures,
        ...auditValues(a),
        expected.version,
        expected.last,
        rule.releaseMs,
        expected.locked === true,
        a.actor ?? null,
      ]);
    } else if ("user" in subject) {
      r = await this.#query(this.#sql.FAIL_USER, [
        subject.user,
        rule.maxFailures,
        ...auditValues(a),
        ...unknown,
        a.actor ?? null,
      ]);
    } else {
      r = await this.#query(this.#sql.FAIL_OWN, [
        subject.credential,
        rule.maxFailures,
        ...auditValues(a),
        ...unknown,
        a.actor ?? null,
      ]);
    }
    const row = r.rows[0] as Counted | undefined;
    return row ? { failures: row.failures, locked: row.locked } : "changed";
  }

  /** A success of a factor the application checked: clears the user's count unless the user is locked now. */
  async succeed(subject: { user: string }, rule: LockoutRule, a: AuditEntry): Promise<Counted> {
    const r = await this.#query(this.#sql.SUCCEED, [
      subject.user,
      unknownSubjectKey(this.#unknownKey, subject),
      ...auditValues(a),
      rule.releaseMs,
      a.actor ?? null,
    ]);
    const row = r.rows[0] as Counted;
    return { failures: row.failures, locked: row.locked };
  }

  /** Clears a lockout (an administrator's act); false if the subject has none. */
  async unlock(subject: FailureSubject, a: AuditEntry): Promise<boolean> {
    const r = await this.#query("user" in subject ? this.#sql.unlockUser : this.#sql.unlockCredential, [
      "user" in subject ? subject.user : subject.credential,
      ...auditValues(a),
      a.actor ?? null,
    ]);
    return r.rowCount === 1;
  }

  /** Sets the credential's state and version (disable, enable); false if there is no such credential. */
  async setState(id: string, state: CredentialState, version: number, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.setState, [id, state, ...auditValues(a), version, a.actor ?? null]);
    return r.rowCount === 1;
  }

  /** Deletes the credential and its challenges; false if there was none. */
  async revoke(id: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.REVOKE, [id, ...auditValues(a), a.actor ?? null]);
    return r.rowCount === 1;
  }

  /** Stores a single-use challenge, dropping expired ones and the oldest beyond `maxPerCredential`. */
  async addChallenge(ch: Challenge, a: AuditEntry, maxPerCredential: number): Promise<void> {
    await this.#query(this.#sql.addChallenge, [
      ch.id,
      ch.credentialId,
      ch.function,
      ch.value,
      ch.expiresAt,
      ...auditValues(a),
      Math.max(0, maxPerCredential - 1),
      a.actor ?? null,
    ]);
  }

  /** Takes (deletes) a challenge; undefined when absent or expired. */
  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const r = await this.#query(this.#sql.takeChallenge, [id, credentialId, fn]);
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

  /** Replaces the sealed secret and parameters only if they are still `expected` (a rekey); false otherwise. */
  async reseal(id: string, expected: SealedState, next: SealedState, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.reseal, [
      id,
      next.sealed ?? null,
      JSON.stringify(next.params),
      expected.sealed ?? null,
      JSON.stringify(expected.params),
      ...auditValues(a),
      a.actor ?? null,
    ]);
    return r.rowCount === 1;
  }

  /** Writes one audit row (chained). */
  async record(a: AuditEntry): Promise<void> {
    await this.#query(this.#sql.RECORD, [...auditValues(a), a.actor ?? null]);
  }

  /** The newest audit entries, of one credential or user or all, oldest first. */
  async audit(id?: string, limit = 100): Promise<AuditEntry[]> {
    const r =
      id === undefined
        ? await this.#read(this.#sql.auditAll, [limit])
        : await this.#read(this.#sql.auditOne, [id, limit]);
    return r.rows.reverse().map(rowToAudit);
  }

  /** A page of the chained audit trail in seq order, filtered by credential, user or time. */
  async auditTrail(q: AuditQuery): Promise<ChainedAuditEntry[]> {
    const r = await this.#query(this.#sql.auditTrail, [
      q.after ?? 0,
      q.credential ?? null,
      q.user ?? null,
      q.since ?? null,
      q.until ?? null,
      q.limit,
    ]);
    return r.rows.map(rowToChained);
  }

  /** The heads of the chains written in a seq range, with the trail's newest seq. */
  async auditHeads(from: number, to: number): Promise<{ observed: number; heads: ChainHead[] }> {
    const r = await this.#query(this.#sql.auditHeads, [from, to]);
    const rows = r.rows as { chain: string | null; n: string; hash: string; observed: string }[];
    return {
      observed: Number(rows.at(-1)!.observed),
      heads: rows
        .filter((x) => x.chain !== null)
        .map((x) => ({ chain: x.chain!, n: Number(x.n), hash: x.hash })),
    };
  }

  /** Stores a signed checkpoint of the trail; false if one with its seq exists. */
  async addCheckpoint(cp: AuditCheckpoint): Promise<boolean> {
    const r = await this.#query(this.#sql.addCheckpoint, [cp.seq, cp.at, JSON.stringify(cp)]);
    return r.rowCount === 1;
  }

  /** Every checkpoint, in seq order. */
  async auditCheckpoints(): Promise<AuditCheckpoint[]> {
    const r = await this.#query(this.#sql.auditCheckpoints, []);
    return r.rows.map((x: { body: string }) => JSON.parse(x.body) as AuditCheckpoint);
  }

  /** The time before which rows go to keep at most `maxRows` rows and `maxBytes` bytes; undefined when within both. */
  async auditCut(maxRows: number, maxBytes: number): Promise<number | undefined> {
    const r = await this.#query(this.#sql.auditCut, [maxRows, maxBytes]);
    const cut = r.rows[0]?.cut;
    return cut === null || cut === undefined ? undefined : Number(cut) + 1;
  }

  /** Deletes the audit rows older than `before` (each chain keeps its last row) and the checkpoints they make stale; the number deleted. */
  async pruneAudit(before: number): Promise<number> {
    const r = await this.#query(this.#sql.pruneAudit, [before]);
    return r.rows[0].n;
  }

  /** How many challenges are held (tests of the bound under a flood). @internal */
  async challengeCount(): Promise<number> {
    const r = await this.#read(this.#sql.challengeCount, []);
    return r.rows[0].n;
  }

  /** How many unknown subjects are counted (tests of the bound under a flood). @internal */
  async unknownCount(): Promise<number> {
    const r = await this.#read(this.#sql.unknownCount, []);
    return r.rows[0].n;
  }

  /** Ends the pool the store made; the application's own pool stays open (it is the application's). */
  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}

/** The accept statement and its parameters (ACCEPT_USER for a user's credential, else ACCEPT_OWN). */
function acceptStatement(
  sql: Statements,
  id: string,
  value: number,
  a: AuditEntry,
  d: AcceptDecision,
): [string, unknown[]] {
  const byUser = d.user !== undefined;
  return [
    byUser ? sql.ACCEPT_USER : sql.ACCEPT_OWN,
    [
      id,
      value,
      d.drift ?? null,
      d.version,
      replayDigest(id, value, d.probe),
      d.probe.request ?? null,
      d.rule.maxFailures,
      d.refusedDetail,
      ...auditValues(a),
      d.rule.releaseMs,
      ...(byUser ? [d.user] : []),
      a.actor ?? null,
    ],
  ];
}

function acceptOutcome(r: { rows: unknown[] }): AcceptOutcome {
  const row = r.rows[0] as {
    accepted: boolean;
    failures: number | null;
    locked: boolean | null;
    same: boolean | null;
  };
  if (row.accepted) return "accepted";
  if (row.failures !== null) return { failures: row.failures, locked: row.locked === true };
  return row.same ? "stale" : "changed";
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

/** The pool could not give a connection: nothing was sent. */
function unreachable(e: unknown): CapkitError {
  return nothingDone(`PostgreSQL is unavailable: ${message(e)}`, e);
}

/**
 * Whether the connection is dropped after `e`: our own errors, a duplicate key, a lock or statement timeout
 * leave it usable; anything else may not have.
 */
function leavesBroken(e: unknown): boolean {
  if (e instanceof CapkitError) return false;
  const code = (e as { code?: string }).code;
  return code !== "23505" && code !== "55P03" && code !== "57014";
}

/** What a failure while working on a connection means to the caller (`writes`: the work may have committed). */
function storeError(e: unknown, writes: boolean): CapkitError {
  if (e instanceof CapkitError) return e;
  const code = (e as { code?: string }).code;
  if (code === "23505") return new CapkitError("CREDENTIAL_EXISTS", "credential already exists");
  // An error the server reported for the statement (a SQLSTATE) means it did not commit — except the
  // connection and operator classes (08, 57P: the server went away), after which, as after an error the
  // client raised itself (connection reset, its own timeout), the statement may have committed unseen.
  const reported = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P)/.test(code);
  const m = `PostgreSQL is unavailable: ${message(e)}`;
  return writes && !reported ? outcomeUnknown(m, e) : nothingDone(m, e);
}

function message(e: unknown): string {
  return (e as Error).message ?? String(e);
}

/** The lockout rule (src/lockout.ts) with an accept's parameters: $7 max failures, $9 now, $16 release. */
const ACCEPT_RULE = lockoutSql({ max: "$7", now: "$9", release: "$16" });
/** …and with a failure's: $2 max failures, $3 now, $12 release (FAIL_USER_EXPECTED: $13). */
const FAIL_RULE = lockoutSql({ max: "$2", now: "$3", release: "$12" });
const USER_RULE = lockoutSql({ max: "$2", now: "$3", release: "$13" });
const REFUSED = `(${ACCEPT_RULE.live} OR state = 'disabled')`;
const SUCCEED_RULE = lockoutSql({ max: "0", now: "$3", release: "$10" });

/** Every statement of the store, built once from its table names when it connects (src/stores/tables.ts). */
function statements(n: TableNames) {
  const t = n.t;
  const { credentials, users, challenges, unknown_subjects, audit, audit_chains, audit_checkpoints } = t;
  const unknownSeq = n.object("unknown_subjects_seq");
  const CREDENTIAL_SELECT = credentialSelect(n);
  /** The audit row's columns; the actor is always the statement's last parameter. */
  const AUDIT_INSERT = `INSERT INTO ${audit} (at, credential_id, action, result, counter, detail, user_id, actor)`;

  /** An audit row on its own. $1–$7 the audit entry, $8 the actor. */
  const RECORD = `${AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

  /** A new credential ($1–$9, CREDENTIAL_COLUMNS), its user if new, its audit row ($10–$16, $17 the actor). */
  const ENROLL = `
  WITH i AS (INSERT INTO ${credentials} (${CREDENTIAL_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id),
       u AS (INSERT INTO ${users} (id) SELECT $7 FROM i WHERE $7::text IS NOT NULL ON CONFLICT DO NOTHING)
  ${AUDIT_INSERT} SELECT $10, $11, $12, $13, $14, $15, $16, $17 FROM i`;

  /**
   * Deletes a credential ($1), its challenges and the mention of it in a replacement; its audit row ($2–$8, $9 the
   * actor).
   */
  const REVOKE = `
  WITH d AS (DELETE FROM ${credentials} WHERE id = $1 RETURNING id),
       c AS (DELETE FROM ${challenges} WHERE credential_id IN (SELECT id FROM d)),
       r AS (UPDATE ${credentials} SET replaces = NULL WHERE replaces IN (SELECT id FROM d))
  ${AUDIT_INSERT} SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM d RETURNING 1`;

  /**
   * Accept on a credential with no user: its own row is the lockout subject. One UPDATE: the accept, or — locked
   * or disabled — the failure counted (SET reads the row as it was; after a wait for the row lock, PostgreSQL
   * re-checks the WHERE clause on the newest version). $1 id, $2 value, $3 drift, $4 version, $5 digest, $6 request,
   * $7 max failures, $8 refusal detail, $9–$15 the audit entry, $16 the lock's release time (0: none). `same`
   * (is the credential as it was read?) is asked only when the UPDATE matched nothing: PostgreSQL runs the
   * EXISTS, an InitPlan, only when its CASE branch is taken, so an accept reads no second row.
   */
  const ACCEPT_OWN = `
  WITH c AS (
    UPDATE ${credentials} SET
      last = CASE WHEN ${REFUSED} THEN last ELSE $2 END,
      drift = CASE WHEN ${REFUSED} THEN drift ELSE coalesce($3, drift) END,
      accepted_at = CASE WHEN ${REFUSED} THEN accepted_at ELSE $9 END,
      accepted_digest = CASE WHEN ${REFUSED} THEN accepted_digest ELSE $5 END,
      accepted_request = CASE WHEN ${REFUSED} THEN accepted_request ELSE $6 END,
      failures = CASE WHEN ${REFUSED} THEN ${ACCEPT_RULE.failures} ELSE 0 END,
      locked = CASE WHEN ${REFUSED} THEN ${ACCEPT_RULE.locked} ELSE FALSE END,
      locked_at = CASE WHEN ${REFUSED} THEN ${ACCEPT_RULE.lockedAt} END
    WHERE id = $1 AND version = $4 AND (${REFUSED} OR last < $2)
    RETURNING failures, locked),
  w AS (${AUDIT_INSERT}
    SELECT $9, $10, $11, CASE WHEN c.failures = 0 THEN $12 WHEN c.locked THEN 'locked' ELSE 'rejected' END, $13,
           CASE WHEN c.failures = 0 THEN $14 ELSE $8 END, $15, $17 FROM c RETURNING 1)
  SELECT coalesce(c.failures = 0, FALSE) AS accepted,
         CASE WHEN c.failures > 0 THEN c.failures END AS failures, c.locked,
         CASE WHEN c.failures IS NULL THEN EXISTS (SELECT 1 FROM ${credentials} WHERE id = $1 AND version = $4) END
           AS same
  FROM (SELECT 1) one LEFT JOIN c ON TRUE`;

  /**
   * Accept on a credential that belongs to a user ($17): the user's row is locked first and read as last
   * committed (s), so the accept is decided on the count every earlier failure left, in whatever process. Then
   * the credential's conditional UPDATE (c), and the user's row: cleared after an accept, or the failure counted
   * when the user is locked or the credential disabled (u). Parameters as ACCEPT_OWN.
   */
  const ACCEPT_USER = `
  WITH s AS (SELECT ${ACCEPT_RULE.live} AS live FROM ${users} WHERE id = $17 FOR UPDATE),
  c AS (
    UPDATE ${credentials} SET last = $2, drift = coalesce($3, drift), accepted_at = $9, accepted_digest = $5,
      accepted_request = $6, failures = 0
    WHERE id = $1 AND version = $4 AND user_id = $17 AND state <> 'disabled' AND last < $2
      AND NOT coalesce((SELECT live FROM s), TRUE)
    RETURNING 1),
  k AS (SELECT state FROM ${credentials} WHERE id = $1 AND version = $4 AND user_id = $17),
  u AS (
    UPDATE ${users} SET
      failures = CASE WHEN EXISTS (SELECT 1 FROM c) THEN 0 ELSE ${ACCEPT_RULE.failures} END,
      locked = CASE WHEN EXISTS (SELECT 1 FROM c) THEN FALSE ELSE ${ACCEPT_RULE.locked} END,
      locked_at = CASE WHEN NOT EXISTS (SELECT 1 FROM c) THEN ${ACCEPT_RULE.lockedAt} END
    WHERE id = $17 AND (EXISTS (SELECT 1 FROM c)
      OR (EXISTS (SELECT 1 FROM k) AND ((SELECT live FROM s) OR (SELECT state FROM k) = 'disabled')))
    RETURNING failures, locked),
  w AS (${AUDIT_INSERT}
    SELECT $9, $10, $11, CASE WHEN EXISTS (SELECT 1 FROM c) THEN $12 WHEN u.locked THEN 'locked' ELSE 'rejected' END,
           $13, CASE WHEN EXISTS (SELECT 1 FROM c) THEN $14 ELSE $8 END, $15, $18 FROM u RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM c) AS accepted,
         CASE WHEN NOT EXISTS (SELECT 1 FROM c) THEN u.failures END AS failures, u.locked,
         EXISTS (SELECT 1 FROM k) AS same
  FROM (SELECT 1) one LEFT JOIN u ON TRUE`;

  /** The audit row of a counted failure ("locked" when this one locked or the subject was): from CTE "n"; `actor` the parameter. */
  const failAudit = (actor: number) => `w AS (${AUDIT_INSERT}
    SELECT $3, $4, $5, CASE WHEN n.locked THEN 'locked' ELSE $6 END, $7, $8, $9, $${actor} FROM n RETURNING 1)`;

  /**
   * A failure counted on an unknown subject's row (key $10, bound $11), for the subjects `q` found with no row:
   * a new row, numbered from the sequence, or one more failure on it; rows numbered more than the bound behind the
   * newest are deleted (the oldest first), so the table never holds more than the bound.
   */
  const UNKNOWN_CTES = `
  k AS (INSERT INTO ${unknown_subjects} AS t (key, failures, locked, locked_at, seq)
    SELECT $10, 1, 1 >= $2, CASE WHEN 1 >= $2 THEN CAST($3 AS BIGINT) END, q.n FROM q
    ON CONFLICT (key) DO UPDATE SET ${lockoutSql({ max: "$2", now: "$3", release: "$12" }, "t").fail}
    RETURNING failures, locked),
  d AS (DELETE FROM ${unknown_subjects} WHERE seq <= (SELECT n FROM q) - $11 AND key <> $10)`;

  /** A failure of an id nobody holds ($1); no row when it has been enrolled since (then "changed"). */
  const FAIL_ABSENT = `
  WITH q AS (SELECT nextval('${unknownSeq}') AS n WHERE NOT EXISTS (SELECT 1 FROM ${credentials} WHERE id = $1)),
  ${UNKNOWN_CTES},
  n AS (SELECT failures, locked FROM k),
  ${failAudit(13)}
  SELECT failures, locked FROM n`;

  /**
   * A failure on a row of `table` ($1) with no expectation — a user as a whole (verify by user, checkFactor), or
   * a credential with no user — or on its unknown row when it has none.
   */
  const failOnRow = (table: "users" | "credentials") => `
  WITH o AS (UPDATE ${t[table]} SET ${FAIL_RULE.fail} WHERE id = $1 RETURNING failures, locked),
  q AS (SELECT nextval('${unknownSeq}') AS n WHERE NOT EXISTS (SELECT 1 FROM ${t[table]} WHERE id = $1)),
  ${UNKNOWN_CTES},
  n AS (SELECT failures, locked FROM o UNION ALL SELECT failures, locked FROM k),
  ${failAudit(13)}
  SELECT failures, locked FROM n`;
  const FAIL_USER = failOnRow("users");
  const FAIL_OWN = failOnRow("credentials");

  /**
   * A wrong code of a credential with no user ($1), counted only at the version ($10) and `last` ($11) it was
   * judged on: the UPDATE re-checks both on the newest row after any wait.
   */
  const FAIL_OWN_EXPECTED = `
  WITH n AS (UPDATE ${credentials} SET ${FAIL_RULE.fail}
    WHERE id = $1 AND version = $10 AND last = $11 AND (NOT $13::boolean OR ${FAIL_RULE.live})
    RETURNING failures, locked),
  ${failAudit(14)}
  SELECT failures, locked FROM n`;

  /**
   * A wrong code of a user's credential ($10, judged at version $11 and last $12), counted on the user ($1): the
   * user's row is locked first, as by an accept (s), then the credential read as last committed (x, FOR SHARE),
   * so an accept that committed meanwhile is seen and the failure is not counted against the old `last`.
   */
  const FAIL_USER_EXPECTED = `
  WITH s AS (SELECT 1 FROM ${users} WHERE id = $1 FOR UPDATE),
  x AS (SELECT 1 FROM ${credentials} WHERE id = $10 AND version = $11 AND last = $12 AND EXISTS (SELECT 1 FROM s)
    FOR SHARE),
  n AS (UPDATE ${users} SET ${USER_RULE.fail}
    WHERE id = $1 AND EXISTS (SELECT 1 FROM x) AND (NOT $14::boolean OR ${USER_RULE.live})
    RETURNING failures, locked),
  ${failAudit(15)}
  SELECT failures, locked FROM n`;

  /**
   * A success of a factor the application checked ($1 the user, $2 its unknown key, $10 the release time): the
   * count cleared unless locked now, on the user's row or its unknown row; the audit row says "locked" when
   * nothing was cleared.
   */
  const SUCCEED = `
  WITH o AS (UPDATE ${users} SET
      failures = CASE WHEN ${SUCCEED_RULE.live} THEN failures ELSE 0 END,
      locked = ${SUCCEED_RULE.live},
      locked_at = CASE WHEN ${SUCCEED_RULE.live} THEN locked_at END
    WHERE id = $1 RETURNING failures, locked),
  x AS (SELECT failures, ${SUCCEED_RULE.live} AS locked FROM ${unknown_subjects}
    WHERE key = $2 AND NOT EXISTS (SELECT 1 FROM ${users} WHERE id = $1)),
  d AS (DELETE FROM ${unknown_subjects} WHERE key = $2 AND NOT ${SUCCEED_RULE.live} AND EXISTS (SELECT 1 FROM x)
    RETURNING 1),
  n AS (SELECT failures, locked FROM o
    UNION ALL SELECT failures, locked FROM x WHERE NOT EXISTS (SELECT 1 FROM d)
    UNION ALL SELECT 0, FALSE WHERE NOT EXISTS (SELECT 1 FROM o) AND (NOT EXISTS (SELECT 1 FROM x) OR EXISTS (SELECT 1 FROM d))),
  w AS (${AUDIT_INSERT}
    SELECT $3, $4, $5, CASE WHEN n.locked THEN 'locked' ELSE $6 END, $7, $8, $9, $11 FROM n RETURNING 1)
  SELECT CASE WHEN locked THEN failures ELSE 0 END AS failures, locked FROM n`;
  return {
    AUDIT_INSERT,
    RECORD,
    ENROLL,
    REVOKE,
    ACCEPT_OWN,
    ACCEPT_USER,
    FAIL_ABSENT,
    FAIL_USER,
    FAIL_OWN,
    FAIL_OWN_EXPECTED,
    FAIL_USER_EXPECTED,
    SUCCEED,
    unlockUser: `WITH u AS (UPDATE ${users} SET failures = 0, locked = FALSE, locked_at = NULL WHERE id = $1 RETURNING id)
       ${AUDIT_INSERT}
       SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM u RETURNING 1`,
    unlockCredential: `WITH u AS (UPDATE ${credentials} SET failures = 0, locked = FALSE, locked_at = NULL WHERE id = $1 RETURNING id)
       ${AUDIT_INSERT}
       SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM u RETURNING 1`,
    get: `${CREDENTIAL_SELECT} WHERE c.id = $1`,
    list: `${CREDENTIAL_SELECT} WHERE ($1::text IS NULL OR c.id > $1) AND ($2::text IS NULL OR c.user_id = $2)
       ORDER BY c.id LIMIT $3`,
    user: `SELECT * FROM ${users} WHERE id = $1`,
    addUser: `WITH i AS (INSERT INTO ${users} (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id)
       ${AUDIT_INSERT}
       SELECT $2, $3, $4, $5, $6, $7, $8, $9 FROM i RETURNING 1`,
    lockUser: `SELECT 1 FROM ${users} WHERE id = $1 FOR UPDATE`,
    lockPending: `SELECT state, replaces FROM ${credentials} WHERE id = $1 AND version = $2 FOR UPDATE`,
    activate: `UPDATE ${credentials} SET state = 'active', replaces = NULL WHERE id = $1`,
    setState: `WITH u AS (UPDATE ${credentials} SET state = $2, version = $10 WHERE id = $1 RETURNING id)
       ${AUDIT_INSERT}
       SELECT $3, $4, $5, $6, $7, $8, $9, $11 FROM u RETURNING 1`,
    addChallenge: `WITH x AS (DELETE FROM ${challenges} WHERE expires_at <= $6),
            t AS (DELETE FROM ${challenges} WHERE credential_id = $2 AND id NOT IN
                    (SELECT id FROM ${challenges} WHERE credential_id = $2 ORDER BY expires_at DESC LIMIT $13)),
            i AS (INSERT INTO ${challenges} (id, credential_id, function, value, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING credential_id)
       ${AUDIT_INSERT}
       SELECT $6, $7, $8, $9, $10, $11, $12, $14 FROM i`,
    takeChallenge: `DELETE FROM ${challenges} WHERE id = $1 AND credential_id = $2 AND function = $3 RETURNING *`,
    reseal: `WITH u AS (UPDATE ${credentials} SET sealed = $2, params = $3
                  WHERE id = $1 AND sealed IS NOT DISTINCT FROM $4 AND params = $5::jsonb RETURNING id)
       ${AUDIT_INSERT}
       SELECT $6, $7, $8, $9, $10, $11, $12, $13 FROM u RETURNING 1`,
    auditAll: `SELECT * FROM ${audit} ORDER BY seq DESC LIMIT $1`,
    auditOne: `SELECT * FROM ${audit} WHERE credential_id = $1 OR user_id = $1 ORDER BY seq DESC LIMIT $2`,
    auditTrail: `SELECT * FROM ${audit} WHERE seq > $1 AND ($2::text IS NULL OR credential_id = $2) AND ($3::text IS NULL OR user_id = $3)
         AND ($4::bigint IS NULL OR at >= $4) AND ($5::bigint IS NULL OR at < $5)
       ORDER BY seq LIMIT $6`,
    auditHeads: `SELECT h.chain, h.n, h.head AS hash, (SELECT coalesce(max(seq), 0) FROM ${audit}) AS observed
       FROM (SELECT DISTINCT chain FROM ${audit} WHERE seq > $1 AND seq <= $2 AND chain IS NOT NULL) t
       JOIN ${audit_chains} h ON h.chain = t.chain
       UNION ALL SELECT NULL, NULL, NULL, (SELECT coalesce(max(seq), 0) FROM ${audit})`,
    addCheckpoint: `INSERT INTO ${audit_checkpoints} (seq, at, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    auditCheckpoints: `SELECT body FROM ${audit_checkpoints} ORDER BY seq`,
    auditCut: `SELECT max(at) AS cut FROM (
         SELECT at, row_number() OVER w AS k, sum(${ROW_BYTES}) OVER w AS bytes FROM ${audit}
         WINDOW w AS (ORDER BY seq DESC)) x
       WHERE k > $1 OR bytes > $2`,
    pruneAudit: `WITH d AS (DELETE FROM ${audit} WHERE at < $1 AND seq NOT IN
                    (SELECT max(seq) FROM ${audit} WHERE at < $1 AND chain IS NOT NULL GROUP BY chain) RETURNING 1),
            c AS (DELETE FROM ${audit_checkpoints} WHERE at < $1 AND seq <
                    (SELECT coalesce(max(seq), 0) FROM ${audit_checkpoints} WHERE at < $1))
       SELECT count(*)::int AS n FROM d`,
    challengeCount: `SELECT count(*)::int AS n FROM ${challenges}`,
    unknownCount: `SELECT count(*)::int AS n FROM ${unknown_subjects}`,
  };
}

type Statements = ReturnType<typeof statements>;
