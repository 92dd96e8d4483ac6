import type { Command } from "commander";
import { readSecretArgument } from "./input.js";
import { usage } from "./output.js";

/** The store options every command that opens the verifier's state takes. */
export interface StoreOptions {
  db?: string;
  pg?: string;
  keys?: string;
  tablePrefix?: string;
  schema?: string;
}

/** Where capkit's tables are in the database: their prefix, and on PostgreSQL their schema. */
export interface StoreTables {
  readonly tablePrefix?: string;
  readonly schema?: string;
}

/**
 * Where the verifier's state lives: a SQLite file, or a PostgreSQL server (its URL may hold a password), and
 * where capkit's tables are in it (the stores check the names at the door).
 */
export type StoreLocation =
  | { readonly kind: "sqlite"; readonly file: string; readonly tables: StoreTables }
  | { readonly kind: "postgres"; readonly url: string; readonly tables: StoreTables };

export const DEFAULT_DB = "capkit-state.db";
const POSTGRES_URL = /^postgres(ql)?:\/\//;

export function storeOptions(cmd: Command): Command {
  return tablePrefixOption(
    cmd
      .option("--db <file>", `SQLite state file (default: CAPKIT_DB, DATABASE_URL, else ${DEFAULT_DB})`)
      .option(
        "--pg <url>",
        "PostgreSQL URL instead of SQLite (state shared by a cluster); - reads it from standard input, @FILE from a file, so its password stays off the command line",
      )
      .option("--keys <file>", "key file (default: CAPKIT_KEYS, else ~/.config/capkit/keys.json)"),
  ).option(
    "--schema <name>",
    "PostgreSQL schema of capkit's tables (default: CAPKIT_SCHEMA, else the connection's)",
  );
}

/** `--table-prefix`: every command that opens capkit's tables takes it (the stores, the dev outbox). */
export function tablePrefixOption(cmd: Command): Command {
  return cmd.option(
    "--table-prefix <prefix>",
    "prefix of capkit's tables in the database (default: CAPKIT_TABLE_PREFIX, else capkit_): lower-case letters, digits, _",
  );
}

/** capkit's table prefix, read in this one place: `--table-prefix`, else `CAPKIT_TABLE_PREFIX`, else the stores' default. */
export function tablePrefix(
  o: Pick<StoreOptions, "tablePrefix">,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return o.tablePrefix ?? (env["CAPKIT_TABLE_PREFIX"] || undefined);
}

/**
 * The one rule for which database a command opens: `--db FILE` or `--pg URL` (given as `-` or `@FILE` so the
 * password is neither on the command line nor in `ps`), else `CAPKIT_DB` (a file, or a `postgres://` URL), else
 * `DATABASE_URL` (a `postgres://` URL, as hosting platforms set it), else `capkit-state.db`. Both flags at
 * once, or an environment URL that is not PostgreSQL, is a usage error, before anything is opened.
 */
export async function resolveStore(
  o: StoreOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoreLocation> {
  const where = await database(o, env);
  const prefix = tablePrefix(o, env);
  const schema = o.schema ?? (env["CAPKIT_SCHEMA"] || undefined);
  if (schema !== undefined && where.kind === "sqlite")
    throw usage(
      "--schema is for PostgreSQL: a SQLite file has no schemas",
      "use --table-prefix to set capkit's tables apart",
    );
  const tables = {
    ...(prefix !== undefined ? { tablePrefix: prefix } : {}),
    ...(schema !== undefined ? { schema } : {}),
  };
  return where.kind === "sqlite" ? { ...where, tables } : { ...where, tables };
}

async function database(
  o: StoreOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ kind: "sqlite"; file: string } | { kind: "postgres"; url: string }> {
  if (o.db !== undefined && o.pg !== undefined) throw usage("give --db or --pg, not both");
  if (o.pg !== undefined) return postgres(await readSecretArgument(o.pg, "--pg"), "--pg");
  if (o.db !== undefined) return { kind: "sqlite", file: o.db };
  const capkitDb = env["CAPKIT_DB"];
  if (capkitDb)
    return POSTGRES_URL.test(capkitDb) ? postgres(capkitDb, "CAPKIT_DB") : { kind: "sqlite", file: capkitDb };
  const databaseUrl = env["DATABASE_URL"];
  if (databaseUrl) return postgres(databaseUrl, "DATABASE_URL");
  return { kind: "sqlite", file: DEFAULT_DB };
}

function postgres(url: string, from: string): { kind: "postgres"; url: string } {
  if (!POSTGRES_URL.test(url))
    // The value is not echoed: it may carry a password.
    throw usage(`${from} is not a PostgreSQL URL`, "postgres://user:password@host:5432/database");
  return { kind: "postgres", url };
}

/** How a store is named in messages: the file, or the server without its credentials. */
export function storeName(s: StoreLocation): string {
  if (s.kind === "sqlite") return s.file;
  try {
    const u = new URL(s.url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return "the PostgreSQL database";
  }
}
