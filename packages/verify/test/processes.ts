import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { wrongCodes } from "./attack.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Runs the burst worker (fixtures/burst-worker.ts) with its job on stdin; resolves with its results. */
function burst(env: NodeJS.ProcessEnv, job: object): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/burst-worker.ts", import.meta.url)),
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: "pipe" },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
    child.stdin.end(JSON.stringify(job));
  });
}

/**
 * The lockout across 4 processes on one store (issue 20): N codes on one subject, N − 1 wrong ones spread over
 * the processes and the right one sent last by one of them; none accepted, every one counted. The right code's
 * process has its own wrong codes decided before it (one decision per subject at a time in a process), and
 * the store decides the processes' attempts one after the other on the subject's row.
 */
export function burstAcrossProcesses(
  name: string,
  open: () => Promise<StateStore>,
  spec: () => string,
): void {
  const material = SoftwareKeyProvider.generateMaterial();
  const keys = new SoftwareKeyProvider(material);
  const now = Date.UTC(2026, 11, 5, 11, 0, 0);
  for (const n of [50, 200, 1000]) {
    for (const by of ["id", "user"] as const) {
      it(`${name}: ${n} codes by ${by} from 4 processes, the right one last: none accepted, all counted`, async () => {
        const store = await open();
        const verifier = new Verifier({ store, keys, now: () => now });
        const secret = randomBytes(20);
        const user = `burst-${randomBytes(6).toString("hex")}`;
        const id = `${user}-totp`;
        await verifier.enroll({ id, user, kind: "totp", secret });
        const gen = new HotpGenerator(new HmacKey(secret), 6);
        const step = Math.floor(now / 30_000);
        const right = gen.code(step);
        const wrong = wrongCodes(
          n - 1,
          [-1, 0, 1].map((d) => gen.code(step + d)),
        );
        const share = Math.floor((n - 1) / 4);
        const parts = [0, 1, 2, 3].map((p) => wrong.slice(p * share, p === 3 ? undefined : (p + 1) * share));
        parts[3]!.push(right);
        const env = { CAPKIT_KEYS: JSON.stringify(material) };
        const target = by === "user" ? user : id;
        const results = (
          await Promise.all(parts.map((codes) => burst(env, { store: spec(), by, target, codes, now })))
        ).flat();
        expect(results).toHaveLength(n);
        expect(results.filter((r) => r === "accepted")).toHaveLength(0);
        expect(results.at(-1)).toBe("locked");
        expect(await verifier.userStatus(user)).toMatchObject({ failures: n, locked: true });
        await store.close();
      }, 120_000);
    }
  }
}
