import type { Stamp } from "@capkit/verify/approvals";
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

/** The transfer under way in a session: its operation (operations.ts), which holds everything else. */
export interface PendingTransfer {
  readonly operation: string;
}

/**
 * A session opened through the passerelle (a ticket from the other space): the grant it came through, as
 * activated, and its subjects' epochs — checked on every request, so a deactivation or a security event ends
 * it — and whether the customer has typed their own credentials since (step-up: any operation asks for them).
 */
export interface ViaPasserelle {
  readonly grant: string;
  readonly epoch: number;
  readonly stamp: Stamp;
  readonly steppedUp: boolean;
}

export interface Session {
  readonly customer: string;
  readonly bank: BankName;
  /** The synchroniser token every form of this session carries. */
  readonly csrf: string;
  /** SOGENET: a password to change before anything else. */
  readonly mustChange: MustChange | undefined;
  readonly transfer: PendingTransfer | undefined;
  readonly passerelle: ViaPasserelle | undefined;
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
  last_seen INTEGER NOT NULL,
  passerelle TEXT
);
CREATE INDEX IF NOT EXISTS sessions_customer ON sessions (customer, created_at);`;

interface Row {
  customer: string;
  bank: BankName;
  csrf: string;
  must_change: MustChange | null;
  transfer: string | null;
  passerelle: string | null;
}

export class Sessions {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
    // A bank made before the passerelle: its sessions table gets the column (sessions are short-lived anyway).
    const columns = db.prepare("PRAGMA table_info(sessions)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "passerelle"))
      db.exec("ALTER TABLE sessions ADD COLUMN passerelle TEXT");
  }

  /** A new session for a customer who just logged in; returns the cookie's id (never stored as such). */
  open(
    customer: { id: string; bank: BankName; mustChange: MustChange | undefined },
    passerelle?: ViaPasserelle,
  ): string {
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
          `INSERT INTO sessions (id_hash, customer, bank, csrf, must_change, created_at, last_seen, passerelle)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          digest(id),
          customer.id,
          customer.bank,
          newToken(),
          customer.mustChange ?? null,
          now,
          now,
          passerelle ? JSON.stringify(passerelle) : null,
        );
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
         RETURNING customer, bank, csrf, must_change, transfer, passerelle`,
      )
      .get({ now, id: digest(id), idle: IDLE_MS, absolute: ABSOLUTE_MS }) as Row | undefined;
    if (!r) return undefined;
    return {
      customer: r.customer,
      bank: r.bank,
      csrf: r.csrf,
      mustChange: r.must_change ?? undefined,
      transfer: r.transfer === null ? undefined : (JSON.parse(r.transfer) as PendingTransfer),
      passerelle: r.passerelle === null ? undefined : (JSON.parse(r.passerelle) as ViaPasserelle),
    };
  }

  /**
   * How a live session was opened through the passerelle, read without touching it (its idle time unmoved:
   * the per-request check of app.ts must not keep alive a session only an asset or a poll asked for).
   */
  passerelleOf(id: string): ViaPasserelle | undefined {
    const now = this.#now();
    const r = this.#db
      .prepare(
        `SELECT passerelle FROM sessions
         WHERE id_hash = @id AND last_seen > @now - @idle AND created_at > @now - @absolute`,
      )
      .get({ now, id: digest(id), idle: IDLE_MS, absolute: ABSOLUTE_MS }) as
      | { passerelle: string | null }
      | undefined;
    return r?.passerelle ? (JSON.parse(r.passerelle) as ViaPasserelle) : undefined;
  }

  /** The customer typed their own credentials in a session opened through the passerelle (step-up). */
  steppedUp(id: string): void {
    this.#db
      .prepare(
        "UPDATE sessions SET passerelle = json_set(passerelle, '$.steppedUp', json('true')) WHERE id_hash = ? AND passerelle IS NOT NULL",
      )
      .run(digest(id));
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
