import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real pcscd for integration tests (docs/testing.md §1): started in the foreground as a child of the test,
 * with its own reader configuration (a vpcd reader named `capkit test` on `port` and `port + 1`), and stopped
 * by PID. Debian's pcscd always uses /run/pcscd/pcscd.comm, so only one runs at a time: the tests that need it
 * are the `*.pcscd.test.ts` files, which the test command runs one after another. If pcscd cannot start the
 * test fails — it is never skipped.
 */
export const PCSCD = "/usr/sbin/pcscd";
const SOCKET = "/run/pcscd/pcscd.comm";
export const READER_NAME = "capkit test";

export interface Pcscd {
  readonly port: number;
  /** "capkit test 00 00": the slot whose vpcd listens on `port`. */
  readonly reader: string;
  readonly log: () => string;
  /** Stops the daemon (the configuration stays, for `start`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the daemon and removes its configuration: call once, after the tests. */
  dispose(): Promise<void>;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startPcscd(port = 40111): Promise<Pcscd> {
  if (!existsSync(PCSCD))
    throw new Error(`${PCSCD} is missing: run sh scripts/setup.sh (installs pcscd and vsmartcard-vpcd)`);
  try {
    execFileSync("pkill", ["-x", "pcscd"]); // a leftover daemon would own the socket
  } catch {
    // none running
  }
  const dir = mkdtempSync(join(tmpdir(), "capkit-pcscd-"));
  writeFileSync(
    join(dir, "vpcd"),
    `FRIENDLYNAME "${READER_NAME}"\nDEVICENAME /dev/null:${port}\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID ${port}\n`,
  );
  let child: ChildProcess | undefined;
  let output = "";
  const start = async () => {
    rmSync(SOCKET, { force: true });
    const c = spawn(PCSCD, ["--foreground", "--config", dir], { stdio: ["ignore", "pipe", "pipe"] });
    c.stdout?.on("data", (d) => (output += d));
    c.stderr?.on("data", (d) => (output += d));
    child = c;
    await waitFor(() => existsSync(SOCKET) || c.exitCode !== null, "pcscd's socket");
    if (c.exitCode !== null) throw new Error(`pcscd exited with ${c.exitCode}: ${output}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    port,
    reader: `${READER_NAME} 00 00`,
    log: () => output,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await start();
    },
  };
}
