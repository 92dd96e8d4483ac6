#!/usr/bin/env node
// The one test command (README, CI): lint, typecheck, then every test — unit, property and local integration
// tests in parallel, then the tests that need the machine's single pcscd one file at a time, then the browser
// tests (Chromium), the pure packages' unit tests on Node 22 and 24, and the packed-install test
// (scripts/packed-install.mjs) on the machine's Node, 22 and 24 (docs/testing.md). Ends with a "N passed,
// N failed" line.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

function vitest(title, config, node, files = []) {
  const report = join(dir, `${title.replace(/\W+/g, "-")}.json`);
  const status = run(title, node ?? "pnpm", [
    ...(node ? ["node_modules/vitest/vitest.mjs"] : ["exec", "vitest"]),
    "run",
    "--config",
    config,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...files,
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

// The other Node versions capkit supports (package.json engines), from the npm registry's `node` packages,
// which ship the binary and its headers; kept in node_modules/.cache between runs.
const NODE_MAJORS = [22, 24];
const extraNodes = [];
for (const major of NODE_MAJORS) {
  const prefix = join("node_modules", ".cache", "capkit-node", String(major));
  const bin = join(prefix, "node_modules", "node", "bin", "node");
  if (!existsSync(bin))
    run(`Node ${major}`, "npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", `node@${major}`]);
  if (existsSync(bin)) extraNodes.push(bin);
  else failedSteps++;
}
for (const node of extraNodes) {
  const v = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
  vitest(`pure packages' tests on Node ${v}`, "vitest.config.ts", node, [
    "packages/emv-cap",
    "packages/oath",
    "packages/provision",
  ]);
}
failedSteps +=
  run("packed install", "node", [
    "scripts/packed-install.mjs",
    ...extraNodes.flatMap((n) => ["--node", n]),
  ]) === 0
    ? 0
    : 1;
rmSync(dir, { recursive: true, force: true });

if (failedSteps)
  console.log(`\n${failedSteps} check step(s) failed (lint/typecheck/build/Node/packed install)`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed || failedSteps ? 1 : 0);
