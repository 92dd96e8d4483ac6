import { writeSync } from "node:fs";

/**
 * Standard output and error, written with write(2) on descriptors 1 and 2: synchronously, as process.stdout
 * and process.stderr write to files, pipes and terminals on Linux, but without creating those streams, whose
 * stream, net and tty modules were a fifth of what `capkit otp generate` ran beyond Node's own start
 * (docs/benchmarks.md, CLI start-up). Everything the CLI prints goes through here, in order.
 *
 * Two cases the streams handle and write(2) alone does not: a descriptor left non-blocking and full (EAGAIN)
 * hands the rest of the text, and all later text, to the stream, which waits for room, so the order holds; a
 * reader gone (EPIPE, `capkit … | head -1`) or a descriptor closed (EBADF) ends that output quietly, as a
 * program stopped by SIGPIPE, instead of Node's "write EPIPE" stack trace.
 */
type Fd = 1 | 2;

const handedToStream = new Set<Fd>();
const gone = new Set<Fd>();

const stream = (fd: Fd) => (fd === 1 ? process.stdout : process.stderr);

function write(fd: Fd, text: string): void {
  if (gone.has(fd)) return;
  if (handedToStream.has(fd)) {
    stream(fd).write(text);
    return;
  }
  const bytes = Buffer.from(text, "utf8");
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        handedToStream.add(fd);
        stream(fd).write(bytes.subarray(done));
        return;
      }
      if (code === "EPIPE" || code === "EBADF") {
        gone.add(fd);
        return;
      }
      throw e;
    }
  }
}

/** Writes `text` to standard output. */
export function writeOut(text: string): void {
  write(1, text);
}

/** Writes `text` to standard error. */
export function writeErr(text: string): void {
  write(2, text);
}

/** Resolves once every text written has left the process (at once unless a stream took over: EAGAIN). */
export async function flushed(): Promise<void> {
  for (const fd of handedToStream) await new Promise<void>((r) => stream(fd).write("", () => r()));
}
