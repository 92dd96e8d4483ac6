import type Database from "better-sqlite3";
import { digest, newToken } from "./tokens.js";
import type { BankName, MustChange } from "./users.js";

/**
 * Logged-in sessions, in the bank's database: only a login creates one, so anonymous visitors (who get a signed
 * cookie and no server state, web/csrf.ts) can never push a customer's session out. The cookie carries a random
 * 256-bit id; the database keeps its SHA-256, so a copy of the database opens no session.
 *
 * The session policy, in one place:
 * - idle for IDLE_MS (5 minutes, PSD2 RTS Art. 4(3)(d)) → ended; WARN_BEFORE_IDLE_MS before that the page warns;
 * - ABSOLUTE_MS after the login → ended, however active;
 * - a password change or reset and the adviser's unlock end every session of the customer (endAllOf);
 * - at most MAX_PER_CUSTOMER at once (the oldest ends).
 * Each check is one statement: a read that also moves `last_seen` on, conditional on both limits.
 */
export const IDLE_MS = 5 * 60_000;
export const WARN_BEFORE_IDLE_MS = 60_000;
export const ABSOLUTE_MS = 30 * 60_000;
const MAX_PER_CUSTOMER = 8;

export interface PendingTransfer {
  readonly beneficiary: string;
  readonly cents: number;
  readonly challengeId: string;
  readonly challenge: string;
}

export interface Session {
  readonly customer: string;
  readonly bank: BankName;
  /** The synchroniser token every form of this session carries. */
  readonly csrf: string;
  /** SOGENET: a password to change before anything else. */
  readonly mustChange: MustChange | undefined;
  readonly transfer: PendingTransfer | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  customer TEXT NOT NULL,
  bank TEXT NOT NULL,
  csrf TEXT NOT NULL,
  must_change TEXT,
  transfer TEXT,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_customer ON sessions (customer, created_at);`;

interface Row {
  customer: string;
  bank: BankName;
  csrf: string;
  must_change: MustChange | null;
  transfer: string | null;
}

export class Sessions {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
  }

  /** A new session for a customer who just logged in; returns the cookie's id (never stored as such). */
  open(customer: { id: string; bank: BankName; mustChange: MustChange | undefined }): string {
    const id = newToken();
    const now = this.#now();
    this.#db.transaction(() => {
      this.#sweep(now);
      this.#db
        .prepare(
          `DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE customer = ?
             ORDER BY created_at DESC LIMIT -1 OFFSET ?)`,
        )
        .run(customer.id, MAX_PER_CUSTOMER - 1);
      this.#db
        .prepare(
          `INSERT INTO sessions (id_hash, customer, bank, csrf, must_change, created_at, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(digest(id), customer.id, customer.bank, newToken(), customer.mustChange ?? null, now, now);
    })();
    return id;
  }

  /** The live session with this cookie id, seen now (its idle time starts again); undefined once ended. */
  touch(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const now = this.#now();
    const r = this.#db
      .prepare(
        `UPDATE sessions SET last_seen = @now
         WHERE id_hash = @id AND last_seen > @now - @idle AND created_at > @now - @absolute
         RETURNING customer, bank, csrf, must_change, transfer`,
      )
      .get({ now, id: digest(id), idle: IDLE_MS, absolute: ABSOLUTE_MS }) as Row | undefined;
    if (!r) return undefined;
    return {
      customer: r.customer,
      bank: r.bank,
      csrf: r.csrf,
      mustChange: r.must_change ?? undefined,
      transfer: r.transfer === null ? undefined : (JSON.parse(r.transfer) as PendingTransfer),
    };
  }

  setTransfer(id: string, transfer: PendingTransfer | undefined): void {
    this.#db
      .prepare("UPDATE sessions SET transfer = ? WHERE id_hash = ?")
      .run(transfer === undefined ? null : JSON.stringify(transfer), digest(id));
  }

  end(id: string): void {
    this.#db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(digest(id));
  }

  /** Ends every session of the customer (password changed or reset, unlocked by the adviser, locked). */
  endAllOf(customer: string): number {
    return this.#db.prepare("DELETE FROM sessions WHERE customer = ?").run(customer).changes;
  }

  #sweep(now: number): void {
    this.#db
      .prepare("DELETE FROM sessions WHERE last_seen <= @now - @idle OR created_at <= @now - @absolute")
      .run({ now, idle: IDLE_MS, absolute: ABSOLUTE_MS });
  }
}
