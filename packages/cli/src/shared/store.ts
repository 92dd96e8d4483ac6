import type { Command } from "commander";
import { readSecretArgument } from "./input.js";
import { usage } from "./output.js";

/** The store options every command that opens the verifier's state takes. */
export interface StoreOptions {
  db?: string;
  pg?: string;
  keys?: string;
}

/** Where the verifier's state lives: a SQLite file, or a PostgreSQL server (its URL may hold a password). */
export type StoreLocation =
  | { readonly kind: "sqlite"; readonly file: string }
  | { readonly kind: "postgres"; readonly url: string };

export const DEFAULT_DB = "capkit-state.db";
const POSTGRES_URL = /^postgres(ql)?:\/\//;

export function storeOptions(cmd: Command): Command {
  return cmd
    .option("--db <file>", `SQLite state file (default: CAPKIT_DB, DATABASE_URL, else ${DEFAULT_DB})`)
    .option(
      "--pg <url>",
      "PostgreSQL URL instead of SQLite (state shared by a cluster); - reads it from standard input, @FILE from a file, so its password stays off the command line",
    )
    .option("--keys <file>", "key file (default: CAPKIT_KEYS, else ~/.config/capkit/keys.json)");
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

function postgres(url: string, from: string): StoreLocation {
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
