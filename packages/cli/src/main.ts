import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { COMMAND_GROUPS } from "./command-groups.js";
import { groupsNeeded } from "./command-word.js";
import { EXIT, makeOutput, type Output, reportError, wantsJson } from "./shared/output.js";
import { flushed, writeErr, writeOut } from "./shared/stdio.js";

/**
 * `capkit`: the program, with the commands of only the groups the command line needs (command-word.ts).
 * Every command imports what it needs when it runs (PC/SC, SQLite, PostgreSQL are loaded only by the commands
 * that use them). Built, each group is a bundle of its own that the executable (bin.ts) loads alone;
 * from the sources (`pnpm capkit`), this module is the entry.
 */
const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

// `pnpm capkit …` runs from the repository root; relative paths are the user's, so resolve them where the
// user typed the command (pnpm passes it as INIT_CWD). Only for this checkout's own `capkit` and `demo`
// scripts (npm_lifecycle_event names the script being run): a capkit started by any other script — a test
// run under `pnpm test` spawning it in a folder of its own — or installed elsewhere keeps its working directory.
if (
  process.env["npm_package_name"] === "capkit-monorepo" &&
  (process.env["npm_lifecycle_event"] === "capkit" || process.env["npm_lifecycle_event"] === "demo") &&
  process.env["INIT_CWD"]
)
  process.chdir(process.env["INIT_CWD"]);

const json = wantsJson();
let usageMessage: string | undefined;

const program = new Command("capkit")
  .description(
    "EMV-CAP (Sésame) and OATH (SGpass-style) codes: real and simulated cards, readers, tokens, verification",
  )
  .configureOutput({
    writeOut,
    writeErr,
    // With --json a usage error is one JSON document on stdout (printed below); the text goes nowhere.
    outputError: (text, write) => {
      usageMessage = text.replace(/^error: /, "").trim();
      if (!json) write(text);
    },
  })
  // Registered before .version(): with --json the version is a JSON document, not a bare line.
  .on("option:version", () => {
    if (!json) return;
    writeOut(`${JSON.stringify({ version })}\n`);
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

async function main(): Promise<void> {
  const groups = groupsNeeded(process.argv.slice(2), Object.keys(COMMAND_GROUPS));
  for (const register of await Promise.all(groups.map((g) => COMMAND_GROUPS[g]!()))) register(program, run);
  await parse();
  // The command is over. The process ends by itself when nothing is left open, so every library's exit
  // clean-up runs as in any Node program; if a library left a handle open (a PC/SC context, a timer), this
  // unref'd timer ends it anyway, so no error path can leave the process hanging with a card half-used.
  await flushed();
  setTimeout(() => process.exit(), 500).unref();
}

async function parse(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (!(e instanceof CommanderError)) process.exitCode = reportError(e, json, false);
    else if (e.code === "commander.helpDisplayed" || e.code === "commander.version")
      process.exitCode = EXIT.OK;
    // `capkit help` asked for help (exit 0); a group without its subcommand printed help as an error (exit 2).
    else if (e.code === "commander.help" && e.exitCode === 0) process.exitCode = EXIT.OK;
    else {
      if (json)
        writeOut(
          `${JSON.stringify({ error: { code: "USAGE", message: usageMessage ?? "a subcommand is missing", hint: "run with --help for usage" } })}\n`,
        );
      process.exitCode = EXIT.USAGE;
    }
  }
}

void main();
