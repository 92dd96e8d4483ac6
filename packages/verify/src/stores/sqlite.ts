import { randomBytes } from "node:crypto";
import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import { isLocked, lockoutSql } from "../lockout.js";
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
import { checkOptions, integerIn } from "../requests.js";
import { activatedEntry, replacedEntry } from "./activation.js";
import type { SqliteDatabase } from "./connections.js";
import { type SqliteInternals, STORE_INTERNALS, type StoreWriter, stampActor } from "./internals.js";
import { migrateSqlite } from "./migrate-sqlite.js";
import { UNKNOWN_KEY_NAME } from "./migrations.js";
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
import { type SqliteAuditWriter, sqliteAuditWriter } from "./sqlite-audit.js";
import { openSqlite } from "./sqlite-open.js";
import { type TableNames, type TableOptions, tableNames } from "./tables.js";
import { nothingDone, outcomeUnknown } from "./unavailable.js";

/** The options of a {@link SqliteStore}. */
export interface SqliteStoreOptions extends TableOptions {
  /** How long a write waits for another process's transaction before STORE_UNAVAILABLE (default 2000 ms). */
  readonly busyTimeoutMs?: number;
  /** Unknown ids and users whose failures are counted (the most recently tried; default 100,000). */
  readonly unknownLimit?: number;
}

/**
 * The embedded default: one SQLite file (better-sqlite3), WAL journal, synchronous=FULL so an accepted
 * counter survives a power cut (a lost commit would let a used code pass again). Each decision is one
 * conditional UPDATE plus its audit row in one transaction; several processes may share the file. Every driver
 * failure (busy, read-only, I/O, corrupt, closed) is STORE_UNAVAILABLE: nothing accepted, and the caller can
 * tell a store problem from a bug.
 */
export class SqliteStore implements StateStore {
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #names: TableNames;
  readonly #stmt: ReturnType<typeof prepare>;
  readonly #unknownKey: Buffer;
  readonly #unknownLimit: number;
  readonly #writeAudit: SqliteAuditWriter;

  /**
   * Opens the store on a SQLite file (created 0600 if absent; `:memory:` for a private one), or on a
   * better-sqlite3 `Database` the application opened itself — which the store then leaves open on `close`. Its
   * tables are created, or brought to this version, on open (src/stores/migrations.ts), all named with
   * `tablePrefix` (default `capkit_`); no other table of the database is touched.
   *
   * @example
   * ```ts
   * const store = new SqliteStore("capkit.db"); // its own file
   * const shared = new SqliteStore(appDatabase, { tablePrefix: "auth_" }); // beside the application's tables
   * ```
   */
  constructor(database: string | SqliteDatabase, options: SqliteStoreOptions = {}) {
    checkOptions(options, "the SQLite store's options", ["busyTimeoutMs", "unknownLimit", "tablePrefix"]);
    const busyTimeoutMs = integerIn(options.busyTimeoutMs ?? 2000, 0, 600_000, "busyTimeoutMs");
    this.#unknownLimit = integerIn(options.unknownLimit ?? 100_000, 1, 100_000_000, "unknownLimit");
    this.#names = tableNames(options.tablePrefix);
    const opened = openSqlite(database, "SqliteStore", busyTimeoutMs);
    this.#db = opened.db;
    this.#owned = opened.owned;
    try {
      migrateSqlite(this.#db, this.#names, VERIFIER_TABLES);
      this.#db
        .prepare(`INSERT OR IGNORE INTO ${this.#names.t.meta} (name, value) VALUES (?, ?)`)
        .run(UNKNOWN_KEY_NAME, randomBytes(32).toString("hex"));
      this.#stmt = prepare(this.#db, this.#names);
      this.#writeAudit = sqliteAuditWriter(this.#db, this.#names);
      this.#unknownKey = Buffer.from(
        (this.#stmt.meta.get(UNKNOWN_KEY_NAME) as { value: string }).value,
        "hex",
      );
    } catch (e) {
      if (this.#owned) this.#db.close();
      if (e instanceof CapkitError) throw e;
      throw unavailable(e, `cannot open the SQLite database ${opened.what}`);
    }
  }

  /** Runs one store operation; any driver error becomes STORE_UNAVAILABLE (`writes`: it may commit). */
  #do<T>(f: () => T, writes = true): Promise<T> {
    try {
      return Promise.resolve(f());
    } catch (e) {
      if (e instanceof CapkitError) return Promise.reject(e);
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY")
        return Promise.reject(new CapkitError("CREDENTIAL_EXISTS", "credential already exists"));
      return Promise.reject(unavailable(e, "SQLite failed", writes));
    }
  }

  /** Adds the credential (and its user, if new) with its audit row; CREDENTIAL_EXISTS when the id is taken. */
  enroll(c: StoredCredential, audit: AuditEntry): Promise<void> {
    return this.#do(() => {
      try {
        this.#db.transaction(() => this.#insert(c, audit)).immediate();
      } catch (e) {
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
        }
        throw e;
      }
    });
  }

  /** The credential, with its lockout subject's count and lock; undefined when nobody holds the id. */
  get(id: string): Promise<StoredCredential | undefined> {
    return this.#do(() => {
      const row = this.#stmt.get.get(id) as Record<string, unknown> | undefined;
      return row ? rowToCredential(row) : undefined;
    }, false);
  }

  /** A page of credentials in id order (keyset paging), of one user or all. */
  list(o: ListOptions): Promise<StoredCredential[]> {
    return this.#do(
      () =>
        (
          this.#stmt.list.all(
            o.after ?? null,
            o.after ?? null,
            o.user ?? null,
            o.user ?? null,
            o.limit,
          ) as Record<string, unknown>[]
        ).map(rowToCredential),
      false,
    );
  }

  /** A user's count and lock; undefined for a user never registered. */
  user(id: string): Promise<UserState | undefined> {
    return this.#do(() => {
      const r = this.#stmt.user.get(id) as
        | { id: string; failures: number; locked: number; locked_at: number | null }
        | undefined;
      return (
        r && { id: r.id, failures: r.failures, locked: r.locked === 1, lockedAt: r.locked_at ?? undefined }
      );
    }, false);
  }

  /** Registers a user with no credential yet; false if known already. */
  addUser(id: string, audit: AuditEntry): Promise<boolean> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          const added = this.#stmt.insertUser.run(id).changes === 1;
          if (added) this.#auditRow(audit);
          return added;
        })
        .immediate(),
    );
  }

  // Each decision reads and writes in one IMMEDIATE transaction: SQLite has one writer at a time, so no other
  // decision — of this process or another — comes between the read and the write.

  /** Accepts `value` as the credential's new `last` if it is still at the version decided on, its subject not locked and it active — else counts the failure or says what changed; one atomic write with its audit row. */
  accept(id: string, value: number, audit: AuditEntry, d: AcceptDecision): Promise<AcceptOutcome> {
    return this.#do(() =>
      this.#db
        .transaction((): AcceptOutcome => {
          const row = this.#stmt.get.get(id) as Record<string, unknown> | undefined;
          const c = row && rowToCredential(row);
          if (!c || c.version !== d.version) return "changed";
          const subject: FailureSubject = c.user !== undefined ? { user: c.user } : { credential: id };
          if (isLocked(c, d.rule, audit.at) || c.state === "disabled")
            return this.#count(subject, d.rule, { ...audit, result: "rejected", detail: d.refusedDetail });
          if (c.last >= value) return "stale";
          this.#stmt.accept.run({
            id,
            value,
            at: audit.at,
            digest: replayDigest(id, value, d.probe),
            request: d.probe.request ?? null,
            drift: d.drift ?? null,
          });
          if (c.user !== undefined) this.#stmt.unlockUser.run(c.user);
          this.#auditRow(audit);
          // The first accept of a pending or replacing credential (src/stores/activation.ts), same transaction.
          if (c.state === "pending" || c.replaces !== undefined) {
            this.#stmt.activate.run(id);
            if (c.state === "pending") this.#auditRow(activatedEntry(audit));
            if (c.replaces !== undefined && this.#delete(c.replaces))
              this.#auditRow(replacedEntry(audit, c.replaces));
          }
          return "accepted";
        })
        .immediate(),
    );
  }

  /** Counts a failure on the subject (on its unknown-subject row when nobody holds it) and locks at the rule's maximum; "changed" when `expected` no longer holds. */
  fail(
    subject: FailureSubject,
    rule: LockoutRule,
    audit: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome> {
    return this.#do(() =>
      this.#db
        .transaction((): FailOutcome => {
          // The same statements whether the subject is known or not — its row read (or its unknown row's, for
          // an id known to be absent), the credential's version, one counting write, the audit row — and the
          // unknown key's HMAC made either way: the time of a failure does not tell which (test:
          // memory-sqlite.test.ts counts them; https://github.com/capkit/capkit/blob/main/bench/verify.ts measures it).
          const key = unknownSubjectKey(this.#unknownKey, subject);
          const absent = expected !== undefined && "absent" in expected;
          type Lock = { failures: number; locked: number; locked_at: number | null };
          const own = absent
            ? undefined
            : (("user" in subject
                ? this.#stmt.userLock.get(subject.user)
                : this.#stmt.credentialLock.get(subject.credential)) as Lock | undefined);
          const lock = own ?? (absent ? (this.#stmt.unknown.get(key) as Lock | undefined) : undefined);
          if (expected) {
            const c = this.#stmt.versionAndLast.get(expected.credential) as
              | { version: number; last: number }
              | undefined;
            if (absent ? c : !c || c.version !== expected.version || c.last !== expected.last)
              return "changed";
            const locked =
              lock !== undefined &&
              isLocked(
                { failures: lock.failures, locked: lock.locked === 1, lockedAt: lock.locked_at ?? undefined },
                rule,
                audit.at,
              );
            if ("locked" in expected && !locked) return "changed";
          }
          return this.#count(subject, rule, audit, own !== undefined, key);
        })
        .immediate(),
    );
  }

  /** A success of a factor the application checked: clears the user's count unless the user is locked now. */
  succeed(subject: { user: string }, rule: LockoutRule, audit: AuditEntry): Promise<Counted> {
    return this.#do(() =>
      this.#db
        .transaction((): Counted => {
          const key = unknownSubjectKey(this.#unknownKey, subject);
          const r = (this.#stmt.user.get(subject.user) ?? this.#stmt.unknown.get(key)) as
            | { failures: number; locked: number; locked_at: number | null }
            | undefined;
          if (
            r &&
            isLocked({ ...r, locked: r.locked === 1, lockedAt: r.locked_at ?? undefined }, rule, audit.at)
          ) {
            this.#auditRow({ ...audit, result: "locked" });
            return { failures: r.failures, locked: true };
          }
          this.#stmt.unlockUser.run(subject.user);
          this.#stmt.forgetUnknown.run(key);
          this.#auditRow(audit);
          return { failures: 0, locked: false };
        })
        .immediate(),
    );
  }

  /**
   * Counts a failure on the subject's row, or on its unknown-subject row when it has none (in a transaction);
   * `known: false`: known to have none. A new unknown row drops the oldest beyond the bound.
   */
  #count(
    subject: FailureSubject,
    rule: LockoutRule,
    audit: AuditEntry,
    known = true,
    key = unknownSubjectKey(this.#unknownKey, subject),
  ): Counted {
    const p = { max: rule.maxFailures, now: audit.at, release: rule.releaseMs };
    type Row = { failures: number; locked: number };
    const r = ((!known
      ? undefined
      : "user" in subject
        ? this.#stmt.failUser.get({ ...p, id: subject.user })
        : this.#stmt.fail.get({ ...p, id: subject.credential })) ??
      this.#stmt.failUnknown.get({ ...p, key })) as Row;
    // The oldest unknown subjects beyond the bound go; run for a known subject too (a failure's statements do
    // not tell whether its subject exists).
    this.#stmt.evictUnknown.run(this.#unknownLimit);
    this.#auditRow({ ...audit, result: r.locked ? "locked" : audit.result });
    return { failures: r.failures, locked: r.locked === 1 };
  }

  /** Clears a lockout (an administrator's act); false if the subject has none. */
  unlock(subject: FailureSubject, audit: AuditEntry): Promise<boolean> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          const changed =
            ("user" in subject
              ? this.#stmt.unlockUser.run(subject.user)
              : this.#stmt.unlock.run(subject.credential)
            ).changes === 1;
          if (changed) this.#auditRow(audit);
          return changed;
        })
        .immediate(),
    );
  }

  /** Sets the credential's state and version (disable, enable); false if there is no such credential. */
  setState(id: string, state: CredentialState, version: number, audit: AuditEntry): Promise<boolean> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          const changed = this.#stmt.setState.run(state, version, id).changes === 1;
          if (changed) this.#auditRow(audit);
          return changed;
        })
        .immediate(),
    );
  }

  /** Deletes the credential and its challenges; false if there was none. */
  revoke(id: string, audit: AuditEntry): Promise<boolean> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          const changed = this.#delete(id);
          if (changed) this.#auditRow(audit);
          return changed;
        })
        .immediate(),
    );
  }

  /** Stores a single-use challenge, dropping expired ones and the oldest beyond `maxPerCredential`. */
  addChallenge(ch: Challenge, audit: AuditEntry, maxPerCredential: number): Promise<void> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          this.#stmt.expireChallenges.run(audit.at);
          this.#stmt.trimChallenges.run(ch.credentialId, ch.credentialId, Math.max(0, maxPerCredential - 1));
          this.#stmt.addChallenge.run(ch.id, ch.credentialId, ch.function, ch.value, ch.expiresAt);
          this.#auditRow(audit);
        })
        .immediate(),
    );
  }

  /** Takes (deletes) a challenge; undefined when absent or expired. */
  takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    return this.#do(() => {
      const r = this.#stmt.takeChallenge.get(id, credentialId, fn) as
        | { id: string; credential_id: string; function: CodeFunction; value: string; expires_at: number }
        | undefined;
      // Taken (deleted) even when expired: an expired challenge is never of use again.
      if (!r || r.expires_at <= now) return undefined;
      return {
        id: r.id,
        credentialId: r.credential_id,
        function: r.function,
        value: r.value,
        expiresAt: r.expires_at,
      };
    });
  }

  /** Replaces the sealed secret and parameters only if they are still `expected` (a rekey); false otherwise. */
  reseal(id: string, expected: SealedState, next: SealedState, audit: AuditEntry): Promise<boolean> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          const changed =
            this.#stmt.reseal.run(
              next.sealed ?? null,
              JSON.stringify(next.params),
              id,
              expected.sealed ?? null,
              JSON.stringify(expected.params),
            ).changes === 1;
          if (changed) this.#auditRow(audit);
          return changed;
        })
        .immediate(),
    );
  }

  /** Writes one audit row (chained). */
  record(audit: AuditEntry): Promise<void> {
    return this.#do(() => this.#auditRow(audit));
  }

  /** The newest audit entries, of one credential or user or all, oldest first. */
  audit(id?: string, limit = 100): Promise<AuditEntry[]> {
    return this.#do(() => {
      const rows = (
        id === undefined ? this.#stmt.auditAll.all(limit) : this.#stmt.auditOne.all(id, id, limit)
      ) as Record<string, unknown>[];
      return rows.reverse().map(rowToAudit);
    }, false);
  }

  /** Deletes the audit rows older than `before` (each chain keeps its last row) and the checkpoints they make stale; the number deleted. */
  pruneAudit(before: number): Promise<number> {
    return this.#do(() =>
      this.#db
        .transaction(() => {
          this.#stmt.pruneCheckpoints.run({ before });
          return this.#stmt.pruneAudit.run({ before }).changes;
        })
        .immediate(),
    );
  }

  /** A page of the chained audit trail in seq order, filtered by credential, user or time. */
  auditTrail(q: AuditQuery): Promise<ChainedAuditEntry[]> {
    return this.#do(() =>
      (
        this.#stmt.auditTrail.all({
          after: q.after ?? 0,
          credential: q.credential ?? null,
          user: q.user ?? null,
          since: q.since ?? null,
          until: q.until ?? null,
          limit: q.limit,
        }) as Record<string, unknown>[]
      ).map(rowToChained),
    );
  }

  /** The heads of the chains written in a seq range, with the trail's newest seq. */
  auditHeads(from: number, to: number): Promise<{ observed: number; heads: ChainHead[] }> {
    return this.#do(() => ({
      observed: (this.#stmt.maxSeq.get() as { seq: number }).seq,
      heads: this.#stmt.auditHeads.all(from, to) as ChainHead[],
    }));
  }

  /** Stores a signed checkpoint of the trail; false if one with its seq exists. */
  addCheckpoint(cp: AuditCheckpoint): Promise<boolean> {
    return this.#do(() => this.#stmt.addCheckpoint.run(cp.seq, cp.at, JSON.stringify(cp)).changes === 1);
  }

  /** Every checkpoint, in seq order. */
  auditCheckpoints(): Promise<AuditCheckpoint[]> {
    return this.#do(() =>
      (this.#stmt.checkpoints.all() as { body: string }[]).map((r) => JSON.parse(r.body) as AuditCheckpoint),
    );
  }

  /** The time before which rows go to keep at most `maxRows` rows and `maxBytes` bytes; undefined when within both. */
  auditCut(maxRows: number, maxBytes: number): Promise<number | undefined> {
    return this.#do(() => {
      const cut = (this.#stmt.auditCut.get(maxRows, maxBytes) as { cut: number | null }).cut;
      return cut === null ? undefined : cut + 1;
    });
  }

  /** How many challenges are held (tests of the bound under a flood). @internal */
  challengeCount(): Promise<number> {
    return this.#do(() => (this.#stmt.countChallenges.get() as { n: number }).n, false);
  }

  /** How many unknown subjects are counted (tests of the bound under a flood). @internal */
  unknownCount(): Promise<number> {
    return this.#do(() => (this.#stmt.countUnknown.get() as { n: number }).n, false);
  }

  /** Closes the database the store opened; one the application handed in stays open (it is the application's). */
  async close(): Promise<void> {
    if (this.#owned && this.#db.open) this.#db.close();
  }

  /** The provisioning tables' door (src/stores/internals.ts). @internal */
  [STORE_INTERNALS](actor?: string): SqliteInternals {
    const a = stampActor(actor);
    const writer: StoreWriter = {
      insertCredential: (c, audit) => this.#insert(c, a(audit)),
      revoke: (id, audit) => {
        const changed = this.#delete(id);
        if (changed) this.#auditRow(a(audit));
        return changed;
      },
      audit: (entry) => this.#auditRow(a(entry)),
    };
    return {
      db: this.#db,
      names: this.#names,
      transaction: (work) => this.#do(() => this.#db.transaction(() => work(writer)).immediate()),
      read: (work) => this.#do(work),
    };
  }

  /** A new credential row (and its user, if new) with its audit row, in the caller's transaction. */
  #insert(c: StoredCredential, audit: AuditEntry): void {
    this.#stmt.insert.run(...credentialValues(c));
    if (c.user !== undefined) this.#stmt.insertUser.run(c.user);
    this.#auditRow(audit);
  }

  /** Deletes a credential, its challenges and the mention of it in a replacement (in the caller's transaction). */
  #delete(id: string): boolean {
    if (this.#stmt.revoke.run(id).changes !== 1) return false;
    this.#stmt.revokeChallenges.run(id);
    this.#stmt.replaced.run(id);
    return true;
  }

  /** An audit row, chained (src/stores/sqlite-audit.ts), in the caller's transaction. */
  #auditRow(a: AuditEntry): void {
    this.#writeAudit(a);
  }
}

/** SQLite result codes that mean "the store cannot serve now" (https://sqlite.org/rescode.html). */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|IOERR|CORRUPT|NOTADB|FULL|CANTOPEN|PROTOCOL|PERM|NOMEM)/;

/**
 * A driver error as STORE_UNAVAILABLE (the SQLite stores of the approvals use it too). Busy, locked, read-only,
 * full, corrupt, closed: refused before anything was committed. An I/O error during a write may have come while
 * committing (the WAL frames written, their sync failed): its outcome is unknown.
 */
export function unavailable(e: unknown, what: string, writes = false): CapkitError {
  const code = (e as { code?: unknown }).code;
  const known = typeof code === "string" && UNAVAILABLE.test(code);
  const m = `${what}: ${known ? code : (e as Error).message}`;
  return writes && typeof code === "string" && code.startsWith("SQLITE_IOERR")
    ? outcomeUnknown(m, e)
    : nothingDone(m, e);
}

/** The lockout rule in SQLite's named parameters (src/lockout.ts). */
const RULE = lockoutSql({ max: "@max", now: "@now", release: "@release" });

function prepare(db: Database.Database, n: TableNames) {
  const { credentials, users, challenges, unknown_subjects, audit, audit_chains, audit_checkpoints, meta } =
    n.t;
  const CREDENTIAL_SELECT = credentialSelect(n);
  return {
    insert: db.prepare(
      `INSERT INTO ${credentials} (${CREDENTIAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertUser: db.prepare(`INSERT OR IGNORE INTO ${users} (id) VALUES (?)`),
    get: db.prepare(`${CREDENTIAL_SELECT} WHERE c.id = ?`),
    versionAndLast: db.prepare(`SELECT version, last FROM ${credentials} WHERE id = ?`),
    list: db.prepare(
      `${CREDENTIAL_SELECT} WHERE (? IS NULL OR c.id > ?) AND (? IS NULL OR c.user_id = ?) ORDER BY c.id LIMIT ?`,
    ),
    user: db.prepare(`SELECT * FROM ${users} WHERE id = ?`),
    meta: db.prepare(`SELECT value FROM ${meta} WHERE name = ?`),
    accept: db.prepare(
      `UPDATE ${credentials} SET last = @value, failures = 0, locked = 0, locked_at = NULL,
         drift = coalesce(@drift, drift), accepted_at = @at, accepted_digest = @digest, accepted_request = @request
       WHERE id = @id`,
    ),
    failUnknown: db.prepare(
      `INSERT INTO ${unknown_subjects} (key, failures, locked, locked_at, seq)
       VALUES (@key, 1, 1 >= @max, CASE WHEN 1 >= @max THEN @now END,
         (SELECT coalesce(max(seq), 0) + 1 FROM ${unknown_subjects}))
       ON CONFLICT (key) DO UPDATE SET ${RULE.fail}
       RETURNING failures, locked`,
    ),
    evictUnknown: db.prepare(
      `DELETE FROM ${unknown_subjects} WHERE seq <= (SELECT coalesce(max(seq), 0) FROM ${unknown_subjects}) - ?`,
    ),
    unknown: db.prepare(`SELECT failures, locked, locked_at FROM ${unknown_subjects} WHERE key = ?`),
    userLock: db.prepare(`SELECT failures, locked, locked_at FROM ${users} WHERE id = ?`),
    credentialLock: db.prepare(`SELECT failures, locked, locked_at FROM ${credentials} WHERE id = ?`),
    forgetUnknown: db.prepare(`DELETE FROM ${unknown_subjects} WHERE key = ?`),
    countUnknown: db.prepare(`SELECT count(*) AS n FROM ${unknown_subjects}`),
    fail: db.prepare(`UPDATE ${credentials} SET ${RULE.fail} WHERE id = @id RETURNING failures, locked`),
    failUser: db.prepare(`UPDATE ${users} SET ${RULE.fail} WHERE id = @id RETURNING failures, locked`),
    unlock: db.prepare(`UPDATE ${credentials} SET failures = 0, locked = 0, locked_at = NULL WHERE id = ?`),
    unlockUser: db.prepare(`UPDATE ${users} SET failures = 0, locked = 0, locked_at = NULL WHERE id = ?`),
    setState: db.prepare(`UPDATE ${credentials} SET state = ?, version = ? WHERE id = ?`),
    activate: db.prepare(`UPDATE ${credentials} SET state = 'active', replaces = NULL WHERE id = ?`),
    reseal: db.prepare(
      `UPDATE ${credentials} SET sealed = ?, params = ? WHERE id = ? AND sealed IS ? AND params = ?`,
    ),
    revoke: db.prepare(`DELETE FROM ${credentials} WHERE id = ?`),
    revokeChallenges: db.prepare(`DELETE FROM ${challenges} WHERE credential_id = ?`),
    replaced: db.prepare(`UPDATE ${credentials} SET replaces = NULL WHERE replaces = ?`),
    expireChallenges: db.prepare(`DELETE FROM ${challenges} WHERE expires_at <= ?`),
    trimChallenges: db.prepare(
      `DELETE FROM ${challenges} WHERE credential_id = ? AND id NOT IN
         (SELECT id FROM ${challenges} WHERE credential_id = ? ORDER BY expires_at DESC LIMIT ?)`,
    ),
    addChallenge: db.prepare(
      `INSERT INTO ${challenges} (id, credential_id, function, value, expires_at) VALUES (?, ?, ?, ?, ?)`,
    ),
    takeChallenge: db.prepare(
      `DELETE FROM ${challenges} WHERE id = ? AND credential_id = ? AND function = ? RETURNING *`,
    ),
    countChallenges: db.prepare(`SELECT count(*) AS n FROM ${challenges}`),
    auditTrail: db.prepare(
      `SELECT * FROM ${audit} WHERE seq > @after AND (@credential IS NULL OR credential_id = @credential)
         AND (@user IS NULL OR user_id = @user) AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
       ORDER BY seq LIMIT @limit`,
    ),
    auditHeads: db.prepare(
      `SELECT h.chain, h.n, h.head AS hash FROM ${audit_chains} h
       WHERE h.chain IN (SELECT DISTINCT chain FROM ${audit} WHERE seq > ? AND seq <= ? AND chain IS NOT NULL)`,
    ),
    maxSeq: db.prepare(`SELECT coalesce(max(seq), 0) AS seq FROM ${audit}`),
    addCheckpoint: db.prepare(`INSERT OR IGNORE INTO ${audit_checkpoints} (seq, at, body) VALUES (?, ?, ?)`),
    checkpoints: db.prepare(`SELECT body FROM ${audit_checkpoints} ORDER BY seq`),
    auditCut: db.prepare(
      `SELECT max(at) AS cut FROM (
         SELECT at, row_number() OVER w AS k, sum(${ROW_BYTES}) OVER w AS bytes FROM ${audit}
         WINDOW w AS (ORDER BY seq DESC))
       WHERE k > ? OR bytes > ?`,
    ),
    pruneCheckpoints: db.prepare(
      `DELETE FROM ${audit_checkpoints} WHERE at < @before AND seq <
         (SELECT coalesce(max(seq), 0) FROM ${audit_checkpoints} WHERE at < @before)`,
    ),
    auditAll: db.prepare(`SELECT * FROM ${audit} ORDER BY seq DESC LIMIT ?`),
    auditOne: db.prepare(
      `SELECT * FROM ${audit} WHERE credential_id = ? OR user_id = ? ORDER BY seq DESC LIMIT ?`,
    ),
    pruneAudit: db.prepare(
      `DELETE FROM ${audit} WHERE at < @before AND seq NOT IN
         (SELECT max(seq) FROM ${audit} WHERE at < @before AND chain IS NOT NULL GROUP BY chain)`,
    ),
  };
}
