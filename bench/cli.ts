import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machineLine, median, writeSection } from "./harness.js";

/** Wall time of whole `capkit` processes (the built binary), median of 15 runs each. */
const BIN = fileURLToPath(new URL("../packages/cli/dist/main.js", import.meta.url));
const RUNS = 15;

function wall(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`capkit ${args.join(" ")} failed: ${r.stderr}`);
  }
  return median(times);
}

export async function cliSuite(): Promise<string> {
  if (!existsSync(BIN)) throw new Error("run pnpm build first");
  const node = (() => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ["-e", ""]);
      times.push(performance.now() - t);
    }
    return median(times);
  })();
  const rows: [string, number][] = [
    ["node -e '' (Node itself)", node],
    ["capkit --version", wall(["--version"])],
    [
      "capkit otp generate --totp --secret-hex … --time 59",
      wall([
        "otp",
        "generate",
        "--totp",
        "--secret-hex",
        "3132333435363738393031323334353637383930",
        "--time",
        "59",
      ]),
    ],
    ["capkit --json demo (SQLite, simulated card and reader)", wall(["--json", "demo"])],
  ];
  for (const [n, t] of rows) console.log(`${n}: ${t.toFixed(0)} ms`);
  const md = [
    "## CLI start-up (`capkit`)",
    "",
    machineLine(),
    "",
    `Whole processes of the built binary (packages/cli/dist), median of ${RUNS}.`,
    "",
    "| command | wall time |",
    "|---|---:|",
    ...rows.map(([n, t]) => `| ${n} | ${t.toFixed(0)} ms |`),
    "",
    "`--version` and `otp generate` import no PC/SC, SQLite or PostgreSQL module (checked by a test that traces",
    "every module a process loads); those load only in the commands that use them.",
  ].join("\n");
  writeSection("cli", md);
  return md;
}
