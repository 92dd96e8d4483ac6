import { readFileSync } from "node:fs";
import { usage } from "./output.js";

/**
 * The PIN, from one line of stdin (--pin-stdin, for scripts) or typed at a hidden prompt. It is never echoed,
 * logged or put in an error.
 */
export async function readPin(fromStdin: boolean, prompt = "PIN: ", what = "--pin-stdin"): Promise<string> {
  if (fromStdin) {
    claimStdin(what);
    return readLine(what);
  }
  if (!process.stdin.isTTY)
    throw usage("no terminal to ask the PIN on", "pass the PIN on standard input with --pin-stdin");
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let pin = "";
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(pin);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(usage("cancelled"));
        if (ch === "\u007f" || ch === "\b") {
          if (pin.length) {
            pin = pin.slice(0, -1);
            process.stderr.write("\b \b");
          }
        } else if (/[0-9]/.test(ch)) {
          pin += ch;
          process.stderr.write("*");
        }
      }
    };
    stdin.on("data", onData);
  });
}

async function readLine(what: string): Promise<string> {
  // Loaded here, not with the module: readline and its streams are start-up cost for every command.
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.trim();
  }
  throw usage(`${what}: standard input was empty`);
}

/** Standard input holds one secret per run: the option that reads it, once claimed. */
let stdinReader: string | undefined;

function claimStdin(what: string): void {
  if (stdinReader !== undefined && stdinReader !== what)
    throw usage(
      `${what} and ${stdinReader} cannot both read standard input`,
      "put one of them in a file: @FILE",
    );
  stdinReader = what;
}

/**
 * A secret passed as an argument the way oathtool takes one (`oathtool … -` / `@FILE`): `-` reads it from one
 * line of standard input, `@FILE` from a file (its first line), anything else is the value itself. Seeds, keys
 * and database passwords given so never show in `ps`, the shell's history or an error; the value is never put
 * in a message.
 */
export async function readSecretArgument(value: string, what: string): Promise<string> {
  let secret: string;
  if (value === "-") {
    claimStdin(what);
    secret = await readLine(what);
  } else if (value.startsWith("@")) {
    secret = (readText(value.slice(1)).split(/\r?\n/)[0] ?? "").trim();
  } else return value;
  if (secret === "")
    throw usage(`${what}: ${value === "-" ? "standard input" : value.slice(1)} holds no value`);
  return secret;
}

/** A text file the user named; a missing or unreadable one is bad input (exit 2), not a crash. */
export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw usage(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
}
