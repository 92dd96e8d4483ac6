import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's softhsm2 package puts the PKCS#11 module (libsofthsm2). */
const MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];

/**
 * A real PKCS#11 token for tests: SoftHSM2 with its own configuration and token directory in a temporary
 * directory, one token initialised with a fresh SO PIN and user PIN. SoftHSM2 reads its configuration from
 * `SOFTHSM2_CONF` when a process calls C_Initialize, so `env` must be in the environment of whoever loads the
 * module (this process: `use()`; a child: pass `env`). It fails loudly when SoftHSM2 is missing or the token
 * cannot be made; tests never skip.
 */
export interface SoftHsm {
  readonly module: string;
  readonly token: string;
  readonly pin: string;
  readonly soPin: string;
  /** `SOFTHSM2_CONF` pointing at this token's configuration. */
  readonly env: Readonly<Record<string, string>>;
  /** Puts `env` into this process's environment (before the module is initialised). */
  use(): void;
  dispose(): void;
}

export function startSoftHsm(label = "capkit-test"): SoftHsm {
  const module = MODULES.find((m) => existsSync(m));
  if (!module)
    throw new Error(`SoftHSM2's PKCS#11 module not found (${MODULES.join(", ")}): run sh scripts/setup.sh`);
  const dir = mkdtempSync(join(tmpdir(), "capkit-softhsm-"));
  const tokens = join(dir, "tokens");
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  const env = { SOFTHSM2_CONF: conf };
  const pin = "4711-0815";
  const soPin = "so-4711-0815";
  try {
    execFileSync(
      "softhsm2-util",
      ["--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", pin],
      { env: { ...process.env, ...env }, stdio: "pipe" },
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const out = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`softhsm2-util could not initialise a token (run sh scripts/setup.sh): ${out}`);
  }
  return {
    module,
    token: label,
    pin,
    soPin,
    env,
    use: () => Object.assign(process.env, env),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
