#!/usr/bin/env node
import { join } from "node:path";
import { runBundle } from "./code-cache.js";
import { groupsNeeded } from "./command-word.js";

/**
 * The `capkit` executable. A command needs the definitions of one command group (command-word.ts), so the
 * build makes a bundle per group, one with none (`--version`) and one with all (help, a misspelt command):
 * this file picks the one the command line needs and runs it from V8's code cache (code-cache.ts). Only that
 * bundle is read, and nothing of it is parsed again after its first run (docs/benchmarks.md, CLI start-up).
 */
declare const CAPKIT_BUNDLES: {
  readonly groups: Record<string, string>;
  readonly none: string;
  readonly all: string;
};

const { groups, none, all } = CAPKIT_BUNDLES;
const needed = groupsNeeded(process.argv.slice(2), Object.keys(groups));
const bundle = needed.length === 0 ? none : needed.length === 1 ? groups[needed[0]!]! : all;
// Built as CommonJS (scripts/build.mjs), this module has a require of its own, resolving from dist/.
runBundle(join(import.meta.dirname, bundle), require);
