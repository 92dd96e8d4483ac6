import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs";
import type { Transcript } from "@capkit/emv-cap";
import { usage } from "./output.js";

/**
 * The file `--trace` writes, claimed before the card is touched: created new (O_EXCL — an existing file,
 * say a card state file, is never overwritten) with mode 0600, so a wrong path fails as a usage error with
 * nothing sent to the card and no ATC or PIN try spent.
 */
export class TraceFile {
  readonly path: string;
  #fd: number | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  static claim(path: string): TraceFile {
    try {
      return new TraceFile(path, openSync(path, "wx", 0o600));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST")
        throw usage(`${path} already exists: a trace never overwrites a file`, "choose a new file name");
      if (code === "ENOENT") throw usage(`cannot create ${path}: its directory does not exist`);
      throw usage(`cannot create ${path} (${code ?? "error"})`, "choose a writable place for the trace");
    }
  }

  /** Writes the transcript (redacted unless the caller says otherwise) and closes the file. */
  write(transcript: Transcript): void {
    const fd = this.#take();
    try {
      writeSync(fd, `${JSON.stringify(transcript, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Nothing was recorded (the card could not be opened): leave no empty file behind. */
  discard(): void {
    closeSync(this.#take());
    unlinkSync(this.path);
  }

  #take(): number {
    const fd = this.#fd;
    if (fd === undefined) throw new Error("trace file already written");
    this.#fd = undefined;
    return fd;
  }
}
