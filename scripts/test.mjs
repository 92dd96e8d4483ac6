#!/usr/bin/env node
// The one test command (README, CI): lint, typecheck, then every test — unit, property and local integration
// tests in parallel, then the tests that need the machine's single pcscd one file at a time, then the browser
// tests (Chromium). Ends with a "N passed, N failed" line.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(title, cmd, args) {
  console.log(`\n== ${title}: ${cmd} ${args.join(" ")}`);
  return spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1;
}

const dir = mkdtempSync(join(tmpdir(), "capkit-test-"));
let failedSteps = 0;
let passed = 0;
let failed = 0;

function vitest(title, config) {
  const report = join(dir, `${title}.json`);
  const status = run(title, "pnpm", [
    "exec",
    "vitest",
    "run",
    "--config",
    config,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ]);
  try {
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests;
    const f = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    failed += f;
    if (status !== 0 && f === 0) failed += 1;
  } catch {
    failed += 1; // no report: the runner itself failed
  }
}

failedSteps += run("lint", "pnpm", ["lint"]) === 0 ? 0 : 1;
failedSteps += run("typecheck", "pnpm", ["typecheck"]) === 0 ? 0 : 1;
// The CLI tests run the built binary, as a user does.
failedSteps += run("build", "pnpm", ["build"]) === 0 ? 0 : 1;
vitest("tests", "vitest.config.ts");
vitest("pcscd tests", "vitest.pcscd.config.ts");
vitest("browser tests", "vitest.browser.config.ts");
rmSync(dir, { recursive: true, force: true });

if (failedSteps) console.log(`\n${failedSteps} check step(s) failed (lint/typecheck/build)`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed || failedSteps ? 1 : 0);
