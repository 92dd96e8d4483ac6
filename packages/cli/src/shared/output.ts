import { CapkitError } from "@capkit/core";
import { writeErr, writeOut } from "./stdio.js";

/*
 * Output and exit codes. Human text by default; with --json a command prints exactly one JSON document on stdout
 * (errors too, as {"error": {...}}), except the commands that report as things happen (`doctor`, `readers
 * --watch`), which print JSON lines: one compact object per line, the moment it is known. Errors are one line
 * plus a hint; a stack trace only with --debug.
 */

/**
 * The exit codes of the `capkit` command, by meaning: a script that runs it tells a rejected code from a
 * missing reader or an unavailable store without reading its output.
 *
 * @example
 * ```ts
 * import { spawnSync } from "node:child_process";
 * import { EXIT } from "@capkit/cli";
 *
 * const r = spawnSync("capkit", ["verify", "check", "--user", "alice", "--code", "123456"]);
 * if (r.status === EXIT.REJECTED) console.log("wrong code, or locked");
 * else if (r.status === EXIT.STORE) console.log("the store is unavailable: try again later");
 * ```
 */
export const EXIT = {
  /** Done: the code was made, accepted, or the check passed. */
  OK: 0,
  /** The code was rejected, the credential is locked, or a check failed. */
  REJECTED: 1,
  /** Bad usage or bad input. */
  USAGE: 2,
  /** Reader, card or PC/SC problem. */
  DEVICE: 3,
  /** State store or keys unavailable. */
  STORE: 4,
  /** A bug: please report it. */
  INTERNAL: 5,
} as const;

const DEVICE_CODES = new Set([
  "PCSC_UNAVAILABLE",
  "PCSCD_NOT_RUNNING",
  "NO_READER",
  "NO_CARD",
  "CARD_REMOVED",
  "CARD_BUSY",
  "TIMEOUT",
  "PINPAD_UNSUPPORTED",
  "HID_UNAVAILABLE",
  "CARD_ERROR",
  "CARD_NOT_SUPPORTED",
  "NO_CAP_APPLICATION",
  "CARD_DECLINED",
  "PIN_WRONG",
  "PIN_BLOCKED",
  "PIN_TRIES_LOW",
  "PIN_TRIES_UNKNOWN",
  "TRANSCRIPT_MISMATCH",
  "CARD_FILE_IN_USE",
]);
const STORE_CODES = new Set([
  "STORE_UNAVAILABLE",
  "STORE_SCHEMA_CONFLICT",
  "STORE_SCHEMA_NEWER",
  "KEY_INVALID",
  "KEY_UNAVAILABLE",
]);

export function exitCodeFor(e: CapkitError): number {
  if (DEVICE_CODES.has(e.code)) return EXIT.DEVICE;
  if (STORE_CODES.has(e.code)) return EXIT.STORE;
  return EXIT.USAGE;
}

/** How a command runs its body: the result's exit code, or an error printed and mapped to one. */
export type Run = (fn: (out: Output) => Promise<number | undefined>) => Promise<void>;

export interface Output {
  readonly json: boolean;
  /** Prints the command's result: `human` for people, `data` as the JSON document. */
  result(data: unknown, human: string | (() => string)): void;
  /**
   * One thing that just happened, printed at once: a JSON line with --json, else `human` (streaming commands;
   * their last line is the result).
   */
  event(data: unknown, human: string): void;
  /** Progress and notices: stderr, never in the JSON document. */
  info(line: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    result(data, human) {
      if (json) writeOut(`${JSON.stringify(data, null, 2)}\n`);
      else writeOut(`${typeof human === "function" ? human() : human}\n`);
    },
    event(data, human) {
      writeOut(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
    },
    info(line) {
      if (!json) writeErr(`${line}\n`);
    },
  };
}

/** Prints an error the way a person (or a script with --json) needs it, and returns the exit code. */
export function reportError(e: unknown, json: boolean, debug: boolean): number {
  if (e instanceof CapkitError) {
    const code = exitCodeFor(e);
    if (json) {
      // One line: a valid document alone, and a valid last line after a streaming command's JSON lines.
      writeOut(
        `${JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, details: e.details } })}\n`,
      );
    } else {
      writeErr(`capkit: ${e.message} [${e.code}]\n`);
      if (e.hint) writeErr(`  hint: ${e.hint}\n`);
      if (debug && e.stack) writeErr(`${e.stack}\n`);
    }
    return code;
  }
  const err = e as Error;
  if (json)
    writeOut(`${JSON.stringify({ error: { code: "INTERNAL", message: String(err?.message ?? e) } })}\n`);
  else {
    writeErr(
      `capkit: internal error: ${String(err?.message ?? e)}\n  hint: rerun with --debug and report it\n`,
    );
    if (debug && err?.stack) writeErr(`${err.stack}\n`);
  }
  return EXIT.INTERNAL;
}

/**
 * Whether this run asked for JSON. Read from the command line itself, so that errors found while parsing it
 * (before commander has set any option) are JSON too.
 */
export function wantsJson(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

export function usage(message: string, hint?: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message, hint === undefined ? {} : { hint });
}

/** A PAN as support may see it: the first 6 (the issuer) and last 4 digits. */
export const maskPan = (pan: string): string =>
  `${pan.slice(0, 6)}${"•".repeat(Math.max(0, pan.length - 10))}${pan.slice(-4)}`;
