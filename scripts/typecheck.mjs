#!/usr/bin/env node
// Typechecks each package against its own tsconfig (sources only; emv-cap, oath and provision without Node types, so a
// Node-only API in the core fails here) and the tests, benchmarks and examples against the root one.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const projects = ["tsconfig.json"];
for (const name of readdirSync("packages")) {
  if (existsSync(`packages/${name}/tsconfig.json`)) projects.push(`packages/${name}/tsconfig.json`);
}
let failed = 0;
for (const p of projects) {
  const r = spawnSync("pnpm", ["exec", "tsc", "-p", p, "--noEmit"], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`typecheck failed: ${p}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
