#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT, makeOutput, type Output, type Run, reportError, wantsJson } from "./shared/output.js";

/**
 * `capkit`. Every command imports what it needs when it runs (PC/SC, SQLite, PostgreSQL are loaded only by
 * the commands that use them), and only the command typed is defined (below), so `capkit --version` and
 * `capkit otp generate` start fast.
 */
const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

// `pnpm capkit …` runs from the repository root; relative paths are the user's, so resolve them where the
// user typed the command (pnpm passes it as INIT_CWD). Only for this checkout's own scripts: an installed
// capkit run from another package's script keeps npm's usual working directory.
if (process.env["npm_package_name"] === "capkit-monorepo" && process.env["INIT_CWD"])
  process.chdir(process.env["INIT_CWD"]);

const json = wantsJson();
let usageMessage: string | undefined;

const program = new Command("capkit")
  .description(
    "EMV-CAP (Sésame) and OATH (SGpass-style) codes: real and simulated cards, readers, tokens, verification",
  )
  .configureOutput({
    // With --json a usage error is one JSON document on stdout (printed below); the text goes nowhere.
    outputError: (text, write) => {
      usageMessage = text.replace(/^error: /, "").trim();
      if (!json) write(text);
    },
  })
  // Registered before .version(): with --json the version is a JSON document, not a bare line.
  .on("option:version", () => {
    if (!json) return;
    process.stdout.write(`${JSON.stringify({ version })}\n`);
    throw new CommanderError(0, "commander.version", version);
  })
  .version(version, "-V, --version")
  .option("--json", "print JSON on stdout: one document (doctor, readers --watch: JSON lines as they happen)")
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
  const { debug = false } = program.opts<{ debug?: boolean }>();
  try {
    process.exitCode = (await fn(makeOutput(json))) ?? EXIT.OK;
  } catch (e) {
    process.exitCode = reportError(e, json, debug);
  }
}

/** Each command's definition, in the order `capkit --help` lists them. */
const COMMANDS: Record<string, () => Promise<(program: Command, run: Run) => void>> = {
  demo: async () => (await import("./commands/demo.js")).registerDemo,
  cap: async () => (await import("./commands/cap.js")).registerCap,
  readers: async () => (await import("./commands/readers.js")).registerReaders,
  card: async () => (await import("./commands/card.js")).registerCard,
  apdu: async () => (await import("./commands/apdu.js")).registerApdu,
  doctor: async () => (await import("./commands/doctor.js")).registerDoctor,
  otp: async () => (await import("./commands/otp.js")).registerOtp,
  verify: async () => (await import("./commands/verify.js")).registerVerify,
  receipt: async () => (await import("./commands/receipt.js")).registerReceipt,
  sim: async () => (await import("./commands/sim.js")).registerSim,
  provision: async () => (await import("./commands/provision.js")).registerProvision,
  outbox: async () => (await import("./commands/outbox.js")).registerOutbox,
};

// Defining every command (commander objects for a hundred options) was most of what `capkit otp generate`
// ran beyond Node's own start (CPU profiles, docs/benchmarks.md): define only the one typed. The global
// options are all flags, so the first argument not starting with "-" names it. Anything else (no command,
// `help`, a misspelt name, `--help`) gets them all, for the full help and commander's suggestions, except
// `--version` alone, which needs none.
const args = process.argv.slice(2);
const typed = args.find((a) => !a.startsWith("-"));
const wanted =
  typed !== undefined && Object.hasOwn(COMMANDS, typed)
    ? [typed]
    : typed === undefined && (args.includes("-V") || args.includes("--version"))
      ? []
      : Object.keys(COMMANDS);
for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program, run);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) process.exitCode = reportError(e, json, false);
  else if (e.code === "commander.helpDisplayed" || e.code === "commander.version") process.exitCode = EXIT.OK;
  // `capkit help` asked for help (exit 0); a group without its subcommand printed help as an error (exit 2).
  else if (e.code === "commander.help" && e.exitCode === 0) process.exitCode = EXIT.OK;
  else {
    if (json)
      process.stdout.write(
        `${JSON.stringify({ error: { code: "USAGE", message: usageMessage ?? "a subcommand is missing", hint: "run with --help for usage" } })}\n`,
      );
    process.exitCode = EXIT.USAGE;
  }
}

// The command is over. The process ends by itself when nothing is left open, so every library's exit
// clean-up runs as in any Node program; if a library left a handle open (a PC/SC context, a timer), this
// unref'd timer ends it anyway, so no error path can leave the process hanging with a card half-used.
await new Promise<void>((r) => process.stdout.write("", () => r()));
await new Promise<void>((r) => process.stderr.write("", () => r()));
setTimeout(() => process.exit(), 500).unref();
