import { readFileSync } from "node:fs";
import { usage } from "./output.js";

/**
 * The PIN, from one line of stdin (--pin-stdin, for scripts) or typed at a hidden prompt. It is never echoed,
 * logged or put in an error.
 */
export async function readPin(fromStdin: boolean, prompt = "PIN: "): Promise<string> {
  if (fromStdin) return readLine();
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

async function readLine(): Promise<string> {
  // Loaded here, not with the module: readline and its streams are start-up cost for every command.
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.trim();
  }
  throw usage("--pin-stdin: standard input was empty");
}

/** A text file the user named; a missing or unreadable one is bad input (exit 2), not a crash. */
export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw usage(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
}
