import { readFileSync } from "node:fs";
import type { CardConnection, Transcript, TranscriptExchange } from "../src/index.js";

export function loadTranscript(name: string): Transcript {
  return JSON.parse(readFileSync(new URL(`./fixtures/transcripts/${name}.json`, import.meta.url), "utf8"));
}

/** A copy of a transcript with the response to the first command starting with `prefix` replaced. */
export function withResponse(t: Transcript, prefix: string, r: string): Transcript {
  let done = false;
  const exchanges = t.exchanges.map((e): TranscriptExchange => {
    if (!done && e.c.startsWith(prefix)) {
      done = true;
      return { c: e.c, r };
    }
    return e;
  });
  if (!done) throw new Error(`no command starting ${prefix}`);
  return { ...t, exchanges };
}

/** Records every command sent through a connection (as hex), for asserting what was (not) sent. */
export class SpyConnection implements CardConnection {
  readonly sent: string[] = [];
  readonly resets: string[] = [];
  readonly reset?: (kind: "warm" | "cold") => Promise<Uint8Array>;

  constructor(private readonly inner: CardConnection) {
    if (inner.reset) {
      this.reset = async (kind) => {
        this.resets.push(kind);
        return inner.reset!(kind);
      };
    }
  }

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.sent.push(Buffer.from(command).toString("hex").toUpperCase());
    return this.inner.transmit(command);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
