import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import type {
  AcceptOutcome,
  AuditEntry,
  Challenge,
  CodeFunction,
  StateStore,
  StoredCredential,
} from "../model.js";
import { loadDriver } from "./driver.js";
import { rowToCredential, SCHEMA_SQLITE } from "./schema.js";

/**
 * The embedded default: one SQLite file (better-sqlite3), WAL journal, synchronous=FULL so an accepted
 * counter survives a power cut (a lost commit would let a used code pass again). Each decision is one
 * conditional UPDATE plus its audit row in one transaction; several processes may share the file.
 */
export class SqliteStore implements StateStore {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepare>;

  constructor(path: string) {
    const Driver = loadDriver<typeof Database>("better-sqlite3", "SQLite store");
    try {
      this.#db = new Driver(path);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.pragma("busy_timeout = 5000");
      this.#db.exec(SCHEMA_SQLITE);
    } catch (e) {
      throw new CapkitError(
        "STORE_UNAVAILABLE",
        `cannot open the SQLite database ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#stmt = prepare(this.#db);
  }

  async enroll(c: StoredCredential, audit: AuditEntry): Promise<void> {
    try {
      this.#db.transaction(() => {
        this.#stmt.insert.run(c.id, JSON.stringify(c.params), c.sealed ?? null, c.last, c.createdAt);
        this.#auditRow(audit);
      })();
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
      }
      throw e;
    }
  }

  async get(id: string): Promise<StoredCredential | undefined> {
    const row = this.#stmt.get.get(id) as Record<string, unknown> | undefined;
    return row ? rowToCredential(row) : undefined;
  }

  async accept(id: string, value: number, audit: AuditEntry): Promise<AcceptOutcome> {
    return this.#db
      .transaction((): AcceptOutcome => {
        if (this.#stmt.accept.run(value, id, value).changes === 1) {
          this.#auditRow(audit);
          return "accepted";
        }
        const row = this.#stmt.get.get(id) as { locked: number } | undefined;
        if (!row) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
        return row.locked ? "locked" : "stale";
      })
      .immediate();
  }

  async fail(
    id: string,
    maxFailures: number,
    audit: AuditEntry,
  ): Promise<{ failures: number; locked: boolean }> {
    return this.#db
      .transaction(() => {
        const r = this.#stmt.fail.get(maxFailures, id) as { failures: number; locked: number } | undefined;
        if (!r) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
        this.#auditRow({ ...audit, result: r.locked ? "locked" : audit.result });
        return { failures: r.failures, locked: r.locked === 1 };
      })
      .immediate();
  }

  async unlock(id: string, audit: AuditEntry): Promise<boolean> {
    return this.#db.transaction(() => {
      const changed = this.#stmt.unlock.run(id).changes === 1;
      if (changed) this.#auditRow(audit);
      return changed;
    })();
  }

  async addChallenge(ch: Challenge, audit: AuditEntry): Promise<void> {
    this.#db.transaction(() => {
      this.#stmt.addChallenge.run(ch.id, ch.credentialId, ch.function, ch.value, ch.expiresAt);
      this.#auditRow(audit);
    })();
  }

  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const r = this.#stmt.takeChallenge.get(id, credentialId, fn, now) as
      | { id: string; credential_id: string; function: CodeFunction; value: string; expires_at: number }
      | undefined;
    return (
      r && {
        id: r.id,
        credentialId: r.credential_id,
        function: r.function,
        value: r.value,
        expiresAt: r.expires_at,
      }
    );
  }

  async audit(credentialId?: string, limit = 100): Promise<AuditEntry[]> {
    const rows = (
      credentialId === undefined
        ? this.#stmt.auditAll.all(limit)
        : this.#stmt.auditOne.all(credentialId, limit)
    ) as {
      at: number;
      credential_id: string;
      action: AuditEntry["action"];
      result: string;
      counter: number | null;
      detail: string | null;
    }[];
    return rows.reverse().map((r) => ({
      at: r.at,
      credentialId: r.credential_id,
      action: r.action,
      result: r.result,
      ...(r.counter === null ? {} : { counter: r.counter }),
      ...(r.detail === null ? {} : { detail: r.detail }),
    }));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #auditRow(a: AuditEntry): void {
    this.#stmt.audit.run(a.at, a.credentialId, a.action, a.result, a.counter ?? null, a.detail ?? null);
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      "INSERT INTO credentials (id, params, sealed, last, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    get: db.prepare("SELECT * FROM credentials WHERE id = ?"),
    accept: db.prepare(
      "UPDATE credentials SET last = ?, failures = 0 WHERE id = ? AND last < ? AND locked = 0",
    ),
    fail: db.prepare(
      "UPDATE credentials SET failures = failures + 1, locked = CASE WHEN locked = 1 OR failures + 1 >= ? THEN 1 ELSE 0 END WHERE id = ? RETURNING failures, locked",
    ),
    unlock: db.prepare("UPDATE credentials SET failures = 0, locked = 0 WHERE id = ?"),
    addChallenge: db.prepare(
      "INSERT INTO challenges (id, credential_id, function, value, expires_at) VALUES (?, ?, ?, ?, ?)",
    ),
    takeChallenge: db.prepare(
      "UPDATE challenges SET used = 1 WHERE id = ? AND credential_id = ? AND function = ? AND used = 0 AND expires_at > ? RETURNING *",
    ),
    audit: db.prepare(
      "INSERT INTO audit (at, credential_id, action, result, counter, detail) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    auditAll: db.prepare("SELECT * FROM audit ORDER BY seq DESC LIMIT ?"),
    auditOne: db.prepare("SELECT * FROM audit WHERE credential_id = ? ORDER BY seq DESC LIMIT ?"),
  };
}
