#!/usr/bin/env node
// The one test command (README, CI): lint, typecheck, then every test; ends with a "passed, failed" line.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(title, cmd, args) {
  console.log(`\n== ${title}: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  return r.status ?? 1;
}

let failedSteps = 0;
failedSteps += run("lint", "pnpm", ["lint"]) === 0 ? 0 : 1;
failedSteps += run("typecheck", "pnpm", ["typecheck"]) === 0 ? 0 : 1;

const dir = mkdtempSync(join(tmpdir(), "capkit-test-"));
const report = join(dir, "vitest.json");
const status = run("tests", "pnpm", [
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
]);
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
} catch {
  failed += 1; // no report: the runner itself failed
}
rmSync(dir, { recursive: true, force: true });
if (status !== 0 && failed === 0) failed = 1;
if (failedSteps) console.log(`\n${failedSteps} check step(s) failed (lint/typecheck)`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed || failedSteps || status ? 1 : 0);
