import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import { checkOptions } from "../requests.js";
import type { SqliteDatabase } from "../stores/connections.js";
import { migrateSqlite } from "../stores/migrate-sqlite.js";
import type { SchemaSet } from "../stores/migrations.js";
import { openSqlite } from "../stores/sqlite-open.js";
import { type TableOptions, tableNames } from "../stores/tables.js";
import { checkOutboxQuery, type DevOutbox, type OutboxEntry, type OutboxQuery } from "./dev-outbox.js";
import type { OutOfBandMessage } from "./out-of-band.js";

/**
 * FOR DEVELOPMENT ONLY: the dev outbox in a SQLite file (mode 0600), so that several processes — the example
 * bank's server, `capkit provision start`, `capkit outbox` — see the same phone. It keeps the codes in clear:
 * never point it at a production database. Driver errors are STORE_UNAVAILABLE.
 */
export class SqliteDevOutbox implements DevOutbox {
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #now: () => number;
  readonly #sql: { add: Database.Statement; list: Database.Statement; clear: Database.Statement };

  /**
   * Opens the outbox in a SQLite file (or the application's better-sqlite3 `Database`, left open on `close`),
   * in a table named with `tablePrefix` (default `capkit_`).
   *
   * @example
   * ```ts
   * const outbox = new SqliteDevOutbox("outbox.db");
   * ```
   */
  constructor(database: string | SqliteDatabase, options: { now?: () => number } & TableOptions = {}) {
    checkOptions(options, "the dev outbox's options", ["now", "tablePrefix"]);
    const names = tableNames(options.tablePrefix);
    this.#now = options.now ?? Date.now;
    const opened = openSqlite(database, "SqliteDevOutbox", 2000);
    this.#db = opened.db;
    this.#owned = opened.owned;
    try {
      migrateSqlite(this.#db, names, OUTBOX_TABLES);
      const { dev_outbox } = names.t;
      this.#sql = {
        add: this.#db.prepare(`INSERT INTO ${dev_outbox} (at, feature, recipient, text) VALUES (?, ?, ?, ?)`),
        list: this.#db.prepare(
          `SELECT * FROM (SELECT * FROM ${dev_outbox} WHERE (? IS NULL OR recipient = ?) AND seq > ?
             ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
        ),
        clear: this.#db.prepare(`DELETE FROM ${dev_outbox}`),
      };
    } catch (e) {
      if (this.#owned) this.#db.close();
      if (e instanceof CapkitError) throw e;
      throw unavailable(e, `cannot open the dev outbox ${opened.what}`);
    }
  }

  async sendSms(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  async sendLetter(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  #add(m: OutOfBandMessage): void {
    this.#do(() => this.#sql.add.run(this.#now(), m.feature, m.to, m.text));
  }

  async list(query: OutboxQuery = {}): Promise<OutboxEntry[]> {
    const q = checkOutboxQuery(query);
    const rows = this.#do(
      () =>
        this.#sql.list.all(q.to ?? null, q.to ?? null, q.after, q.limit) as {
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
    return this.#do(() => this.#sql.clear.run().changes);
  }

  /** Closes the database the outbox opened; the application's own stays open. */
  async close(): Promise<void> {
    if (this.#owned && this.#db.open) this.#db.close();
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

const ddl = (n: { t: { dev_outbox: string } }) => `CREATE TABLE IF NOT EXISTS ${n.t.dev_outbox} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  feature TEXT NOT NULL,
  recipient TEXT NOT NULL,
  text TEXT NOT NULL
);`;

/** The outbox's table and its migrations (src/stores/migrations.ts); SQLite only. */
const OUTBOX_TABLES: SchemaSet = {
  name: "outbox",
  tables: ["dev_outbox"],
  anchor: "dev_outbox",
  legacy: "shape",
  ddl,
  migrations: [
    {
      version: 1,
      name: "prefixed table",
      why: "capkit's tables carry the application's prefix; the unprefixed outbox of earlier versions is adopted",
      sql: ddl,
    },
  ],
};
