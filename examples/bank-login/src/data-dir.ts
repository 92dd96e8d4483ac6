import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the bank keeps its data. The server (`pnpm web`) and the adviser's commands (`unlock`, `reset-password`)
 * both resolve it here, so they open the same bank: `--data <dir>`, else `BANK_DATA`, else
 * examples/bank-login/.data. A relative path is taken from the directory the command was typed in (pnpm's
 * INIT_CWD: `pnpm --filter` runs scripts in the package's folder).
 */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../.data", import.meta.url));

export function resolveDataDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = given ?? env["BANK_DATA"];
  if (!dir) return DEFAULT_DATA_DIR;
  return resolve(env["INIT_CWD"] ?? process.cwd(), dir);
}

/** The customers' database: its presence is what makes a directory a bank's. */
export function bankDatabase(dir: string): string {
  return join(dir, "bank.db");
}

export function hasBank(dir: string): boolean {
  return existsSync(bankDatabase(dir));
}
