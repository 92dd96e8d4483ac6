import { closeSync, existsSync, openSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import { loadDriver } from "./driver.js";
import { nothingDone } from "./unavailable.js";

/**
 * The database a SQLite store works on: a path opened here (the store's own, closed by the store), or the
 * application's open better-sqlite3 `Database` (left open by the store). A file opened here is created 0600
 * before SQLite opens it (SQLite gives the -wal and -shm files the database file's mode), in WAL mode with
 * synchronous=FULL, so an accepted counter survives a power cut. The application's own database must already
 * be synchronous=FULL (or EXTRA): a store never changes how the application's connection commits, and a lost
 * commit would let a used code pass again.
 */
export function openSqlite(
  database: unknown,
  store: string,
  busyTimeoutMs: number,
  mustExist = false,
): { db: Database.Database; owned: boolean; what: string } {
  if (typeof database === "object" && database !== null) {
    const db = database as Partial<Database.Database>;
    if (
      typeof db.prepare !== "function" ||
      typeof db.pragma !== "function" ||
      typeof db.transaction !== "function"
    )
      throw new CapkitError("INPUT_INVALID", `${store} takes a file path or an open better-sqlite3 Database`);
    if (db.open !== true)
      throw new CapkitError("INPUT_INVALID", `${store}: the better-sqlite3 Database is closed`);
    if (db.readonly === true)
      throw new CapkitError("INPUT_INVALID", `${store}: the better-sqlite3 Database is read-only`);
    const synchronous = Number(db.pragma("synchronous", { simple: true }));
    if (synchronous < 2)
      throw new CapkitError(
        "INPUT_INVALID",
        `${store}: the application's SQLite database is not synchronous=FULL`,
        {
          hint: 'db.pragma("synchronous = FULL") first: otherwise a power cut may lose an accepted counter, and a used code pass again',
        },
      );
    return { db: database as Database.Database, owned: false, what: db.name ?? "given" };
  }
  if (typeof database !== "string" || database === "" || database.includes("\0"))
    throw new CapkitError(
      "INPUT_INVALID",
      "the SQLite database is a file path (or :memory:) or a better-sqlite3 Database",
    );
  // The driver first: a missing package is its own error, not "cannot open the database".
  const Driver = loadDriver<typeof Database>("better-sqlite3", store);
  let db: Database.Database | undefined;
  try {
    if (database !== ":memory:" && !mustExist && !existsSync(database))
      closeSync(openSync(database, "wx", 0o600));
    db = new Driver(database, { fileMustExist: mustExist && database !== ":memory:" });
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const opened = db;
    untilNotBusy(() => opened.pragma("journal_mode = WAL"), busyTimeoutMs);
    db.pragma("synchronous = FULL");
    return { db, owned: true, what: database };
  } catch (e) {
    db?.close();
    const code = (e as { code?: unknown }).code;
    throw nothingDone(
      `cannot open the SQLite database ${database}: ${typeof code === "string" ? code : (e as Error).message}`,
      e,
    );
  }
}

/**
 * Runs `f` again while SQLite answers SQLITE_BUSY, until `ms` have passed. Switching a file to WAL while another
 * process opens or migrates it can answer SQLITE_BUSY at once: SQLite skips the busy handler where waiting
 * could deadlock (https://www.sqlite.org/c3ref/busy_handler.html), so the wait the busy timeout promises is
 * taken here, in steps of 10 ms.
 */
function untilNotBusy<T>(f: () => T, ms: number): T {
  const end = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return f();
    } catch (e) {
      if ((e as { code?: unknown }).code !== "SQLITE_BUSY" || Date.now() >= end) throw e;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
