import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built binary, run as a user runs it: `pnpm build` first (the test command does). */
export const BIN = fileURLToPath(new URL("../dist/capkit.cjs", import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output
  json: () => any;
  /** The JSON lines of a streaming command (doctor, readers --watch), in order. */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output
  jsonLines: () => any[];
}

/**
 * The tests' own configuration folder (XDG_CONFIG_HOME), never the user's: it holds the default key file,
 * test keys allowed (simulated cards), as `capkit verify keys new --allow-test-keys` writes it.
 */
export const CONFIG_HOME = mkdtempSync(join(tmpdir(), "capkit-cli-config-"));
mkdirSync(join(CONFIG_HOME, "capkit"), { mode: 0o700 });
/** The tests' own cache folder (XDG_CACHE_HOME: the executable's V8 code caches), never the user's. */
const CACHE_HOME = mkdtempSync(join(tmpdir(), "capkit-cli-cache-"));
export const TEST_KEYS = { masterKey: "5A".repeat(32), allowTestKeys: true };
writeFileSync(join(CONFIG_HOME, "capkit", "keys.json"), JSON.stringify(TEST_KEYS), { mode: 0o600 });

export function capkit(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {},
): CliResult {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build (the test command does)`);
  const r: SpawnSyncReturns<string> = spawnSync(
    process.execPath,
    [...(options.nodeArgs ?? []), BIN, ...args],
    {
      encoding: "utf8",
      input: options.input ?? "",
      env: { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, XDG_CACHE_HOME: CACHE_HOME, ...options.env },
      cwd: options.cwd,
      timeout: 60_000,
    },
  );
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout),
    jsonLines: () =>
      r.stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l)),
  };
}
