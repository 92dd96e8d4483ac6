import { CapkitError, toHex } from "@capkit/core";
import { chooseReader } from "./choose-reader.js";
import { PcscConnection, type PcscConnectOptions } from "./connection.js";
import { pcscError, scardCode } from "./errors.js";
import { loadPcsclite } from "./load.js";
import type { PcscliteContext, PcscliteReader } from "./pcsclite-types.js";
import { fromPcsclite } from "./reader-handle.js";

export interface ReaderInfo {
  readonly name: string;
  readonly cardPresent: boolean;
  /** ATR in hex, when a card is present. */
  readonly atr?: string;
  /** Another program holds the card exclusively. */
  readonly exclusive: boolean;
  /** A card is present but does not answer. */
  readonly mute: boolean;
}

export type ReaderEvent =
  | { readonly type: "reader-added"; readonly reader: string }
  | { readonly type: "reader-removed"; readonly reader: string }
  | { readonly type: "card-inserted"; readonly reader: string; readonly atr: string }
  | { readonly type: "card-removed"; readonly reader: string };

interface Tracked {
  readonly reader: PcscliteReader;
  state: number | undefined;
  atr: Uint8Array | undefined;
}

const DEAD_CODES = new Set([0x80100013, 0x8010001d]);

/**
 * The PC/SC resource manager (pcscd) as an async API, with pcsclite's traps wrapped once
 * (docs/testing.md §1): its constructor throws synchronously when pcscd is down; `close()` always emits
 * "Command cancelled"; a reader must not be closed inside its own event; the process exits only once every
 * reader and the context are closed; and an instance never recovers from a pcscd restart — so each call here
 * checks the instance and makes a new one when pcscd has come back.
 */
export class PcscContext {
  #pcsc: PcscliteContext | undefined;
  #readers = new Map<string, Tracked>();
  #dead: CapkitError | undefined;
  #closed = false;
  readonly #listeners = new Set<(e: ReaderEvent) => void>();

  private constructor() {}

  /** Connects to pcscd; throws PCSCD_NOT_RUNNING (with how to start it) when it is not there. */
  static async open(): Promise<PcscContext> {
    const ctx = new PcscContext();
    await ctx.#start();
    return ctx;
  }

  async #start(): Promise<void> {
    const factory = loadPcsclite();
    let pcsc: PcscliteContext;
    try {
      pcsc = factory();
    } catch (e) {
      throw pcscError(e, "connecting to pcscd");
    }
    this.#pcsc = pcsc;
    this.#dead = undefined;
    this.#readers = new Map();
    pcsc.on("error", (err: unknown) => {
      if (pcsc !== this.#pcsc) return; // the "Command cancelled" every close() emits
      const code = scardCode(err);
      if (code !== undefined && DEAD_CODES.has(code)) this.#dead = pcscError(err, "pcscd");
    });
    pcsc.on("reader", (reader: PcscliteReader) => this.#track(pcsc, reader));
    await this.#settle();
  }

  #track(pcsc: PcscliteContext, reader: PcscliteReader): void {
    const t: Tracked = { reader, state: undefined, atr: undefined };
    this.#readers.set(reader.name, t);
    this.#emit({ type: "reader-added", reader: reader.name });
    reader.on("error", (err: unknown) => {
      const code = scardCode(err);
      if (pcsc === this.#pcsc && code !== undefined && DEAD_CODES.has(code))
        this.#dead = pcscError(err, "pcscd");
    });
    reader.on("status", (status: { state: number; atr?: Uint8Array }) => {
      const was = t.state !== undefined && (t.state & reader.SCARD_STATE_PRESENT) !== 0;
      const is = (status.state & reader.SCARD_STATE_PRESENT) !== 0;
      t.state = status.state;
      t.atr = is && status.atr ? new Uint8Array(status.atr) : undefined;
      if (is && !was)
        this.#emit({ type: "card-inserted", reader: reader.name, atr: toHex(t.atr ?? new Uint8Array(0)) });
      if (!is && was) this.#emit({ type: "card-removed", reader: reader.name });
    });
    reader.on("end", () => {
      if (this.#readers.get(reader.name)?.reader === reader) this.#readers.delete(reader.name);
      this.#emit({ type: "reader-removed", reader: reader.name });
    });
  }

  /** Readers appear asynchronously: wait until the list has been read and every reader has a first status. */
  async #settle(): Promise<void> {
    const end = Date.now() + 2000;
    await new Promise((r) => setTimeout(r, 100));
    while (Date.now() < end && [...this.#readers.values()].some((t) => t.state === undefined)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async #alive(): Promise<void> {
    if (this.#closed) throw new CapkitError("PCSCD_NOT_RUNNING", "the PC/SC context is closed");
    if (!this.#dead) return;
    this.#release();
    await this.#start();
  }

  #release(): void {
    const pcsc = this.#pcsc;
    const readers = [...this.#readers.values()].map((t) => t.reader);
    this.#pcsc = undefined;
    this.#readers = new Map();
    // Closing inside a pcsclite callback hangs the process: always from a fresh tick.
    setImmediate(() => {
      for (const r of readers) r.close();
      pcsc?.close();
    });
  }

  #emit(e: ReaderEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #info(t: Tracked): ReaderInfo {
    const r = t.reader;
    const state = t.state ?? 0;
    const present = (state & r.SCARD_STATE_PRESENT) !== 0;
    return {
      name: r.name,
      cardPresent: present,
      ...(present && t.atr ? { atr: toHex(t.atr) } : {}),
      exclusive: (state & r.SCARD_STATE_EXCLUSIVE) !== 0,
      mute: (state & r.SCARD_STATE_MUTE) !== 0,
    };
  }

  async readers(): Promise<ReaderInfo[]> {
    await this.#alive();
    return [...this.#readers.values()].map((t) => this.#info(t)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Resolves with the reader once a card is in it (in `reader`, or in any reader). */
  async waitForCard(
    options: { reader?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ReaderInfo> {
    await this.#alive();
    const matches = (i: ReaderInfo) =>
      i.cardPresent && (options.reader === undefined || i.name === options.reader);
    const now = (await this.readers()).find(matches);
    if (now) return now;
    return new Promise<ReaderInfo>((resolve, reject) => {
      const done = () => {
        this.#listeners.delete(listener);
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const listener = (e: ReaderEvent) => {
        if (e.type !== "card-inserted") return;
        const t = this.#readers.get(e.reader);
        if (t && matches(this.#info(t))) {
          done();
          resolve(this.#info(t));
        }
      };
      const onAbort = () => {
        done();
        reject(options.signal?.reason ?? new CapkitError("TIMEOUT", "waiting for a card was cancelled"));
      };
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              done();
              reject(
                new CapkitError(
                  "TIMEOUT",
                  `no card inserted within ${Math.round(options.timeoutMs! / 1000)} s`,
                  { hint: "insert the card, chip first" },
                ),
              );
            }, options.timeoutMs);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort);
      this.#listeners.add(listener);
    });
  }

  /** Reader and card events as they happen, until the context closes or `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<ReaderEvent> {
    const queue: ReaderEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (e: ReaderEvent) => {
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.#listeners.add(listener);
    signal?.addEventListener("abort", onAbort);
    try {
      while (!this.#closed && !signal?.aborted) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((r) => (wake = r));
      }
    } finally {
      this.#listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Connects to `reader` (its name or a unique part of it), or to the one reader holding a card
   * (`chooseReader`); exclusively unless asked otherwise (PcscConnectOptions).
   */
  async connect(reader?: string, options: PcscConnectOptions = {}): Promise<PcscConnection> {
    const chosen = chooseReader(await this.readers(), reader);
    if (!chosen)
      throw new CapkitError("NO_CARD", "no card in any reader", { hint: "insert the card, chip first" });
    if (!chosen.cardPresent)
      throw new CapkitError("NO_CARD", `no card in ${chosen.name}`, { hint: "insert the card, chip first" });
    const tracked = this.#readers.get(chosen.name)!;
    return PcscConnection.open(
      fromPcsclite(tracked.reader, () => tracked.atr),
      options,
    );
  }

  /** Closes every reader and the context, so the process can exit. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    for (const l of [...this.#listeners]) l({ type: "reader-removed", reader: "" });
    this.#listeners.clear();
    await new Promise((r) => setImmediate(r));
  }
}
