import { closeSync, existsSync, openSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import { loadDriver } from "../stores/driver.js";
import { checkOutboxQuery, type DevOutbox, type OutboxEntry, type OutboxQuery } from "./dev-outbox.js";
import type { OutOfBandMessage } from "./out-of-band.js";

/**
 * FOR DEVELOPMENT ONLY: the dev outbox in a SQLite file (mode 0600), so that several processes — the example
 * bank's server, `capkit provision start`, `capkit outbox` — see the same phone. It keeps the codes in clear:
 * never point it at a production database. Driver errors are STORE_UNAVAILABLE.
 */
export class SqliteDevOutbox implements DevOutbox {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(path: string, options: { now?: () => number } = {}) {
    const Driver = loadDriver<typeof Database>("better-sqlite3", "SqliteDevOutbox");
    this.#now = options.now ?? Date.now;
    try {
      if (path !== ":memory:" && !existsSync(path)) closeSync(openSync(path, "wx", 0o600));
      this.#db = new Driver(path);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("busy_timeout = 2000");
      this.#db.exec(`CREATE TABLE IF NOT EXISTS dev_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        feature TEXT NOT NULL,
        recipient TEXT NOT NULL,
        text TEXT NOT NULL
      )`);
    } catch (e) {
      throw unavailable(e, `cannot open the dev outbox ${path}`);
    }
  }

  async sendSms(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  async sendLetter(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  #add(m: OutOfBandMessage): void {
    this.#do(() =>
      this.#db
        .prepare("INSERT INTO dev_outbox (at, feature, recipient, text) VALUES (?, ?, ?, ?)")
        .run(this.#now(), m.feature, m.to, m.text),
    );
  }

  async list(query: OutboxQuery = {}): Promise<OutboxEntry[]> {
    const q = checkOutboxQuery(query);
    const rows = this.#do(
      () =>
        this.#db
          .prepare(
            `SELECT * FROM (SELECT * FROM dev_outbox WHERE (? IS NULL OR recipient = ?) AND seq > ?
               ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
          )
          .all(q.to ?? null, q.to ?? null, q.after, q.limit) as {
          seq: number;
          at: number;
          feature: OutboxEntry["feature"];
          recipient: string;
          text: string;
        }[],
    );
    return rows.map((r) => ({ seq: r.seq, at: r.at, feature: r.feature, to: r.recipient, text: r.text }));
  }

  async clear(): Promise<number> {
    return this.#do(() => this.#db.prepare("DELETE FROM dev_outbox").run().changes);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #do<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw unavailable(e, "the dev outbox failed");
    }
  }
}

function unavailable(e: unknown, what: string): CapkitError {
  const code = (e as { code?: unknown }).code;
  return new CapkitError(
    "STORE_UNAVAILABLE",
    `${what}: ${typeof code === "string" ? code : (e as Error).message}`,
    {
      cause: e,
    },
  );
}
