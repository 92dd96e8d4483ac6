import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { CapkitError, expectString } from "@capkit/core";
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
  writeSecretJsonFile(path, parseSimCardState(state));
}

/** Any simulator state holding secrets (cards, tokens): mode 0600, written whole via temp file + fsync + rename. */
export function writeSecretJsonFile(path: string, value: unknown): void {
  // A number would be taken for a file descriptor by node:fs.
  expectString(path, "the path");
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * A card's state read from its file (not locked: to look at it; {@link openCardStateFile} to use the card).
 *
 * @throws `INPUT_INVALID` for a file that cannot be read, is not JSON, or is not a card's state
 */
export function readCardStateFile(path: string): SimCardState {
  expectString(path, "the path");
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
  expectString(path, "the path");
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

/** Lock files this process holds, removed when it exits however it exits (short of SIGKILL: see below). */
const held = new Set<string>();
let exitHook = false;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * One process at a time per card file (`<file>.lock`, created exclusively, holding the owner's PID): two
 * processes on one file would each count the ATC from the same start and hand out the same ATC — the same
 * code — twice, and overwrite each other's PIN try counter. A lock left by a process that no longer runs is
 * taken over.
 */
function lockCardFile(path: string): () => void {
  const lock = `${path}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST")
        throw new CapkitError("INPUT_INVALID", `cannot lock the card file ${path}: ${code ?? "error"}`);
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(lock, "utf8"), 10);
      } catch {
        // removed meanwhile: try again
      }
      if (attempt < 2 && (Number.isNaN(owner) || !alive(owner))) {
        rmSync(lock, { force: true });
        continue;
      }
      throw new CapkitError(
        "CARD_FILE_IN_USE",
        `the card file ${path} is in use by another program (process ${owner})`,
        {
          hint: "a simulated card is used by one program at a time: stop the other one (e.g. capkit sim card --vpcd) or use another card file",
          details: { pid: owner },
        },
      );
    }
  }
  held.add(lock);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const l of held) rmSync(l, { force: true });
    });
  }
  return () => {
    if (held.delete(lock)) rmSync(lock, { force: true });
  };
}

/** A card file's card: locked while open, released by `close()`. */
class FileBackedCard extends SimulatedCard {
  readonly #release: () => void;

  constructor(state: SimCardState, options: SimulatedCardOptions, release: () => void) {
    super(state, options);
    this.#release = release;
  }

  override async close(): Promise<void> {
    await super.close();
    this.#release();
  }
}

/**
 * A SimulatedCard whose every ATC and try-counter change is saved to `path` before the card answers. The file
 * is locked until `close()` (or the process ends): a second opener gets CARD_FILE_IN_USE.
 */
export function openCardStateFile(
  path: string,
  options: Omit<SimulatedCardOptions, "onStateChange"> = {},
): SimulatedCard {
  expectString(path, "the path");
  const release = lockCardFile(path);
  try {
    return new FileBackedCard(
      readCardStateFile(path),
      { ...options, onStateChange: (s) => writeCardStateFile(path, s) },
      release,
    );
  } catch (e) {
    release();
    throw e;
  }
}
