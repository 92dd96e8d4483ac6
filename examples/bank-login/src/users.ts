import Database from "better-sqlite3";

/**
 * The bank's customers, in SQLite (better-sqlite3), beside the verifier's own database. A login counts
 * consecutive failures per customer, whatever was typed (password or code); the 5th locks the account until
 * an adviser unlocks it (`pnpm --filter bank-login unlock <id>`). Each count is one atomic UPDATE.
 */
export type BankName = "coopanet" | "sogenet";

export interface User {
  readonly id: string;
  readonly bank: BankName;
  readonly name: string;
  /** scrypt hash (passwords.ts), for SOGENET customers who log in with a password. */
  readonly password: string | undefined;
  readonly mustChange: boolean;
  /** The verifier credential (Sésame card or SGpass token) that logs this customer in. */
  readonly credential: string | undefined;
  readonly failures: number;
  readonly locked: boolean;
}

export const MAX_FAILURES = 5;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  bank TEXT NOT NULL CHECK (bank IN ('coopanet', 'sogenet')),
  name TEXT NOT NULL,
  password TEXT,
  must_change INTEGER NOT NULL DEFAULT 0,
  credential TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0
);`;

export class Users {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.exec(SCHEMA);
  }

  get(id: string): User | undefined {
    const r = this.#db.prepare("SELECT * FROM users WHERE id = ?").get(id) as
      | Record<string, unknown>
      | undefined;
    if (!r) return undefined;
    return {
      id: r["id"] as string,
      bank: r["bank"] as BankName,
      name: r["name"] as string,
      password: (r["password"] as string | null) ?? undefined,
      mustChange: r["must_change"] === 1,
      credential: (r["credential"] as string | null) ?? undefined,
      failures: r["failures"] as number,
      locked: r["locked"] === 1,
    };
  }

  add(u: Omit<User, "failures" | "locked">): void {
    this.#db
      .prepare(
        "INSERT INTO users (id, bank, name, password, must_change, credential) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(u.id, u.bank, u.name, u.password ?? null, u.mustChange ? 1 : 0, u.credential ?? null);
  }

  /** Counts a failure (and locks at the 5th, or at once when the verifier already locked the credential). */
  fail(id: string, lockNow = false): { failures: number; locked: boolean } {
    const r = this.#db
      .prepare(
        `UPDATE users SET failures = failures + 1,
           locked = CASE WHEN failures + 1 >= ? OR ? THEN 1 ELSE locked END
         WHERE id = ? RETURNING failures, locked`,
      )
      .get(MAX_FAILURES, lockNow ? 1 : 0, id) as { failures: number; locked: number } | undefined;
    return { failures: r?.failures ?? 0, locked: r?.locked === 1 };
  }

  /** A success clears the count — unless the account is locked (then nothing changes). */
  succeed(id: string): boolean {
    return (
      this.#db.prepare("UPDATE users SET failures = 0 WHERE id = ? AND locked = 0").run(id).changes === 1
    );
  }

  setPassword(id: string, hash: string): void {
    this.#db.prepare("UPDATE users SET password = ?, must_change = 0 WHERE id = ?").run(hash, id);
  }

  unlock(id: string): boolean {
    return this.#db.prepare("UPDATE users SET failures = 0, locked = 0 WHERE id = ?").run(id).changes === 1;
  }

  close(): void {
    this.#db.close();
  }
}
