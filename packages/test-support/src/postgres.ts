import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real PostgreSQL server for tests, in a temporary directory, on a free loopback port: initdb, start, stop,
 * start again (fault tests), dispose. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user that Debian's package creates. It fails loudly when the server cannot start; tests never skip.
 */
export interface Postgres {
  readonly url: string;
  readonly port: number;
  readonly bin: string;
  /** "fast" cuts open sessions cleanly; "immediate" is a crash (no checkpoint, recovery at the next start). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function findBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "postgres")))
    : [];
  const v = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!v)
    throw new Error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql: run sh scripts/setup.sh",
    );
  return join(base, v, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

const asRoot = process.getuid?.() === 0;
const as = (cmd: string, args: string[]): [string, string[]] =>
  asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];

export interface PostgresOptions {
  /**
   * The directory the cluster's temporary directory is made in (default: the system's temporary directory).
   * The benchmarks put one on a tmpfs (/dev/shm) to measure PostgreSQL where an fsync costs nothing.
   */
  readonly under?: string;
  /**
   * Environment variables added to the server's (the benchmarks' slow-sync disk preloads a library that makes
   * every fdatasync wait: bench/slow-sync.c).
   */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const bin = findBin();
  const dir = mkdtempSync(join(options.under ?? tmpdir(), "capkit-pg-"));
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync("id", ["-u", "postgres"]).toString()),
      Number(execFileSync("id", ["-g", "postgres"]).toString()),
    );
  const data = join(dir, "data");
  const [initCmd, initArgs] = as(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "capkit",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "pipe" });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    const [cmd, args] = as(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
    ]);
    const c = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    c.stdout?.on("data", (d) => (log += d));
    c.stderr?.on("data", (d) => (log += d));
    child = c;
    const end = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      try {
        execFileSync(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]);
        return;
      } catch {
        if (Date.now() > end) throw new Error(`postgres did not become ready: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    // "fast" shutdown: open sessions are cut, as when a database server goes away under load; "immediate":
    // the server dies at once. (runuser does not forward signals to postgres, so pg_ctl does it.)
    const [cmd, args] = as(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", mode, "-w"]);
    execFileSync(cmd, args, { stdio: "pipe" });
    await exited;
  };
  await start();
  return {
    url: `postgres://capkit@127.0.0.1:${port}/postgres`,
    port,
    bin,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
