import type { TableOptions } from "./tables.js";

/*
 * What the SQL stores connect with, as the published declarations name them: by the members the stores use, so
 * that an application's types need no driver's own (@types/pg, @types/better-sqlite3) to compile against
 * @capkit/verify — and an application's better-sqlite3 `Database` or pg `Pool` is one of them as it is.
 */

/** A better-sqlite3 `Database` the application opened itself (the SQLite stores use it and leave it open). */
export interface SqliteDatabase {
  /** Whether it is open (a closed one is refused). */
  readonly open: boolean;
  /** Its file (named in errors). */
  readonly name: string;
  /** Whether it was opened read-only (refused: the stores write). */
  readonly readonly: boolean;
  /** Prepares a statement (the stores prepare theirs once, when they open). */
  prepare(source: string): unknown;
  /** Runs DDL (the migrations). */
  exec(source: string): unknown;
  /** Reads a pragma (`synchronous` must be FULL or EXTRA). */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Wraps a function in a transaction (the stores run theirs IMMEDIATE). */
  // biome-ignore lint/suspicious/noExplicitAny: better-sqlite3's transaction is generic over any function
  transaction(fn: (...args: any[]) => unknown): unknown;
  /** Closes it (never called by a store on the application's database). */
  close(): unknown;
}

/**
 * A `pg.Pool` the application made itself (the PostgreSQL stores use it and never end it). Its settings are its
 * own: the store's pool options (`poolSize`, `statementTimeoutMs`, `lockTimeoutMs`, `connectTimeoutMs`) are
 * refused with it (INPUT_INVALID), so the application bounds the waits on its pool — for example
 * `statement_timeout: 2000, lock_timeout: 1000, query_timeout: 3000, connectionTimeoutMillis: 2000`, the values a
 * store gives the pool it makes. Without them a verification may wait on a held row without end.
 */
export interface PostgresPool {
  /** Its clients, open now (how a pool is told from a PoolConfig). */
  readonly totalCount: number;
  /** A client for one statement or transaction, released after it. */
  connect(): Promise<unknown>;
  /** Ends the pool (never called by a store on the application's pool). */
  end(): Promise<void>;
}

/**
 * A `pg.PoolConfig`: the pool a store makes (its TLS `ssl`, host, user, password, database…). The store's
 * timeouts (`statement_timeout`, `lock_timeout`, `query_timeout`, `connectionTimeoutMillis`) and pool size apply
 * where it gives none.
 */
export interface PostgresPoolConfig {
  /** A `postgres://` URL (the fields below override its parts). */
  readonly connectionString?: string;
  /** The server's host name or socket directory. */
  readonly host?: string;
  /** The server's port. */
  readonly port?: number;
  /** The role to connect as. */
  readonly user?: string;
  /** The database. */
  readonly database?: string;
  /** The role's password (a string, or a function giving one, as pg takes it). */
  readonly password?: unknown;
  /** TLS: `true`, or Node's `tls.ConnectionOptions` (`ca`, `cert`, `key`, `rejectUnauthorized`…). */
  readonly ssl?: unknown;
  /** Connections of the pool (default: the store's `poolSize`). */
  readonly max?: number;
  /** Waiting for a connection, ms (default: the store's `connectTimeoutMs`). */
  readonly connectionTimeoutMillis?: number;
  /** Server-side statement timeout, ms (default: the store's `statementTimeoutMs`). */
  readonly statement_timeout?: unknown;
  /** Server-side lock timeout, ms (default: the store's `lockTimeoutMs`). */
  readonly lock_timeout?: unknown;
  /** Client-side query timeout, ms (default: the statement timeout and a second). */
  readonly query_timeout?: unknown;
  /** The name the server's views (pg_stat_activity) show. */
  readonly application_name?: string;
}

/** What a PostgreSQL store connects with: a `postgres://` URL, a `pg.PoolConfig`, or the application's `pg.Pool`. */
export type PostgresConnection = string | PostgresPoolConfig | PostgresPool;

/** The options every PostgreSQL store takes: where its tables live, and the pool it makes (if it makes one). */
export interface PostgresConnectOptions extends TableOptions {
  /**
   * The schema capkit's tables live in (created if absent; default: the connection's current schema, as for the
   * application's unqualified tables). Statements name it; the connection's `search_path` is never changed.
   */
  readonly schema?: string | undefined;
  /** Connections of the pool the store makes (default 10; refused with an existing pool, whose size is its own). */
  readonly poolSize?: number;
  /**
   * Server-side statement_timeout: no statement runs longer (default 2000 ms; a PoolConfig's own wins). Refused
   * with an existing pool: the application sets its pool's `statement_timeout`.
   */
  readonly statementTimeoutMs?: number;
  /**
   * Server-side lock_timeout: a row held by another session answers STORE_UNAVAILABLE after this (default
   * 1000 ms). Refused with an existing pool: the application sets its pool's `lock_timeout`.
   */
  readonly lockTimeoutMs?: number;
  /**
   * Waiting for a connection (new or from the pool) (default 2000 ms). Refused with an existing pool: the
   * application sets its pool's `connectionTimeoutMillis`.
   */
  readonly connectTimeoutMs?: number;
}
