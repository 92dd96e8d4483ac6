import type { TableOptions } from "./tables.js";

/*
 * What the SQL stores connect with, as the published declarations name them: by the members the stores use, so
 * that an application's types need no driver's own (@types/pg, @types/better-sqlite3) to compile against
 * @capkit/verify — and an application's better-sqlite3 `Database` or pg `Pool` is one of them as it is.
 */

/** A better-sqlite3 `Database` the application opened itself (the SQLite stores use it and leave it open). */
export interface SqliteDatabase {
  readonly open: boolean;
  readonly name: string;
  readonly readonly: boolean;
  prepare(source: string): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: better-sqlite3's transaction is generic over any function
  transaction(fn: (...args: any[]) => unknown): unknown;
  close(): unknown;
}

/** A `pg.Pool` the application made itself (the PostgreSQL stores use it and never end it). */
export interface PostgresPool {
  readonly totalCount: number;
  connect(): Promise<unknown>;
  end(): Promise<void>;
}

/**
 * A `pg.PoolConfig`: the pool a store makes (its TLS `ssl`, host, user, password, database…). The store's
 * timeouts (`statement_timeout`, `lock_timeout`, `query_timeout`, `connectionTimeoutMillis`) and pool size apply
 * where it gives none.
 */
export interface PostgresPoolConfig {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly database?: string;
  readonly password?: unknown;
  readonly ssl?: unknown;
  readonly max?: number;
  readonly connectionTimeoutMillis?: number;
  readonly statement_timeout?: unknown;
  readonly lock_timeout?: unknown;
  readonly query_timeout?: unknown;
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
  readonly schema?: string;
  /** Connections of the pool the store makes (default 10; not used with an existing pool). */
  readonly poolSize?: number;
  /** Server-side statement_timeout: no statement runs longer (default 2000 ms; a PoolConfig's own wins). */
  readonly statementTimeoutMs?: number;
  /** Server-side lock_timeout: a row held by another session answers STORE_UNAVAILABLE after this (default 1000 ms). */
  readonly lockTimeoutMs?: number;
  /** Waiting for a connection (new or from the pool) (default 2000 ms). */
  readonly connectTimeoutMs?: number;
}
