#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerCap } from "./commands/cap.js";
import { registerDemo } from "./commands/demo.js";
import { registerDevice } from "./commands/device.js";
import { registerOtp } from "./commands/otp.js";
import { registerSim } from "./commands/sim.js";
import { registerVerify } from "./commands/verify.js";
import { EXIT, makeOutput, type Output, reportError } from "./output.js";

/**
 * `capkit`. Every command imports what it needs when it runs (PC/SC, SQLite, PostgreSQL are loaded only by
 * the commands that use them), so `capkit --version` and `capkit otp generate` start fast.
 */
const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const program = new Command("capkit")
  .description(
    "EMV-CAP (Sésame) and OATH (SGpass-style) codes: real and simulated cards, readers, tokens, verification",
  )
  .version(version, "-V, --version")
  .option("--json", "print one JSON document on stdout")
  .option("--debug", "show stack traces")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .addHelpText(
    "after",
    `
Exit codes:
  0  ok (code generated, accepted, check passed)
  1  rejected, locked, or a check failed
  2  bad usage or bad input
  3  reader, card or PC/SC problem (no card, wrong PIN, pcscd down…)
  4  state store or keys unavailable
  5  internal error (please report it)`,
  );

async function run(fn: (out: Output) => Promise<number | undefined>): Promise<void> {
  const { json = false, debug = false } = program.opts<{ json?: boolean; debug?: boolean }>();
  try {
    process.exitCode = (await fn(makeOutput(json))) ?? EXIT.OK;
  } catch (e) {
    process.exitCode = reportError(e, json, debug);
  }
}

registerDemo(program, run);
registerCap(program, run);
registerDevice(program, run);
registerOtp(program, run);
registerVerify(program, run);
registerSim(program, run);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    const done =
      e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help";
    process.exitCode = done ? EXIT.OK : EXIT.USAGE;
  } else {
    process.exitCode = reportError(e, false, false);
  }
}
