import { CapkitError } from "@capkit/core";
import type pg from "pg";
import { checkOptions, integerIn } from "../requests.js";
import type { PostgresConnectOptions } from "./connections.js";
import { loadDriver } from "./driver.js";
import { type TableNames, tableNames } from "./tables.js";

export const CONNECT_OPTIONS = [
  "schema",
  "tablePrefix",
  "poolSize",
  "statementTimeoutMs",
  "lockTimeoutMs",
  "connectTimeoutMs",
] as const;

/** The options that shape the pool a store makes: meaningless, so refused, with the application's own pool. */
const POOL_OPTIONS = ["poolSize", "statementTimeoutMs", "lockTimeoutMs", "connectTimeoutMs"] as const;

/** The pool a store works on; `owned`: made here, so ended by the store's `close` (never the application's). */
export interface OpenedPool {
  readonly pool: pg.Pool;
  readonly owned: boolean;
  readonly names: TableNames;
}

const isPool = (v: object): v is pg.Pool =>
  typeof (v as pg.Pool).connect === "function" &&
  typeof (v as pg.Pool).end === "function" &&
  typeof (v as pg.Pool).totalCount === "number";

/**
 * The pool for a connection, checked at the door (INPUT_INVALID). A pool made here (from a URL or a
 * PoolConfig) gets the store's timeouts where the caller gave none, and listeners that keep a server going away
 * from taking the process down; an application's pool is used as it is (its settings and listeners are its own,
 * so the options that would shape a pool are refused with it rather than ignored).
 */
export function openPool(
  connection: unknown,
  store: string,
  options: PostgresConnectOptions,
  extra: readonly string[] = [],
): OpenedPool {
  checkOptions(options, `the ${store}'s options`, [...CONNECT_OPTIONS, ...extra]);
  const names = tableNames(options.tablePrefix, options.schema);
  const ms = (v: number | undefined, d: number, what: string) => integerIn(v ?? d, 1, 600_000, what);
  const statementTimeout = ms(options.statementTimeoutMs, 2000, "statementTimeoutMs");
  const lockTimeout = Math.min(ms(options.lockTimeoutMs, 1000, "lockTimeoutMs"), statementTimeout);
  const poolSize = integerIn(options.poolSize ?? 10, 1, 1000, "poolSize");
  const connectTimeout = ms(options.connectTimeoutMs, 2000, "connectTimeoutMs");
  let config: pg.PoolConfig;
  if (typeof connection === "string" && connection !== "") config = { connectionString: connection };
  else if (typeof connection === "object" && connection !== null && !Array.isArray(connection)) {
    if (isPool(connection)) {
      const given = POOL_OPTIONS.filter((o) => options[o] !== undefined);
      if (given.length > 0)
        throw new CapkitError(
          "INPUT_INVALID",
          `${given.join(", ")} shape${given.length === 1 ? "s" : ""} the pool a store makes; with the application's own pg.Pool they would be ignored`,
          {
            hint:
              "set them on your pool instead (statement_timeout, lock_timeout, query_timeout, connectionTimeoutMillis, max), " +
              "for example statement_timeout: 2000, lock_timeout: 1000, query_timeout: 3000, connectionTimeoutMillis: 2000",
            details: { options: given },
          },
        );
      return { pool: connection, owned: false, names };
    }
    config = connection as pg.PoolConfig;
  } else
    throw new CapkitError(
      "INPUT_INVALID",
      `${store} connects with a postgres:// URL, a pg.PoolConfig or a pg.Pool`,
    );
  const { Pool } = loadDriver<typeof pg>("pg", store);
  const st =
    config.statement_timeout === undefined || config.statement_timeout === false
      ? statementTimeout
      : config.statement_timeout;
  const pool = new Pool({
    ...config,
    max: config.max ?? poolSize,
    connectionTimeoutMillis: config.connectionTimeoutMillis ?? connectTimeout,
    statement_timeout: st,
    lock_timeout: config.lock_timeout ?? Math.min(lockTimeout, st),
    // The client gives up too if the server stops answering altogether (a dead host sends no FATAL).
    query_timeout: config.query_timeout ?? st + 1000,
  });
  // An idle client losing its server emits on the pool; a checked-out one emits on itself. Either way the
  // query in flight (if any) is rejected and reported; the event itself must not crash the process.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return { pool, owned: true, names };
}
