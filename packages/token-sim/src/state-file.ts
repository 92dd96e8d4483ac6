import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import {
  newSimCardState,
  parseSimCardState,
  type SimCardState,
  SimulatedCard,
  type SimulatedCardOptions,
} from "./card.js";

/**
 * A simulated card kept in a JSON file: its keys, PIN, try counter and ATC. The file holds secrets, so it is
 * written with mode 0600, and always whole — to a temporary file, flushed, then renamed over the old one — so a
 * crash never leaves half a card.
 */
export function writeCardStateFile(path: string, state: SimCardState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readCardStateFile(path: string): SimCardState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CapkitError(
      "INPUT_INVALID",
      `cannot read the card file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      {
        hint: "create one with: capkit sim card new --profile sesame --pin 1234 --out card.json",
      },
    );
  }
  try {
    return parseSimCardState(JSON.parse(text));
  } catch (e) {
    if (e instanceof CapkitError) throw e;
    throw new CapkitError("INPUT_INVALID", `the card file ${path} is not valid JSON`);
  }
}

/** Creates a new card file (fails if the file exists: a card's keys are never overwritten by accident). */
export function createCardStateFile(path: string, profile: string, pin: string): SimCardState {
  const state = newSimCardState(profile, pin);
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CapkitError(
      "INPUT_INVALID",
      code === "EEXIST" ? `${path} already exists` : `cannot create ${path}: ${code}`,
    );
  }
  closeSync(fd);
  writeCardStateFile(path, state);
  return state;
}

/** A SimulatedCard whose every ATC and try-counter change is saved to `path` before the card answers. */
export function openCardStateFile(
  path: string,
  options: Omit<SimulatedCardOptions, "onStateChange"> = {},
): SimulatedCard {
  return new SimulatedCard(readCardStateFile(path), {
    ...options,
    onStateChange: (s) => writeCardStateFile(path, s),
  });
}
