import { CapkitError } from "@capkit/core";
import type { LetterSender, OutOfBandMessage, SmsSender } from "./out-of-band.js";

/** A message as a dev outbox keeps it. */
export interface OutboxEntry {
  /** 1, 2, …: the order messages were sent in. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly feature: OutOfBandMessage["feature"];
  readonly to: string;
  readonly text: string;
}

export interface OutboxQuery {
  /** Only messages to this phone number or address. */
  readonly to?: string;
  /** Only messages after this sequence number. */
  readonly after?: number;
  /** The newest this many (default 100, at most 1000). */
  readonly limit?: number;
}

/**
 * FOR DEVELOPMENT ONLY: an SMS and letter sender that delivers nowhere and keeps every message, code included,
 * so a test, the example bank's phone (`<capkit-sms-inbox>`) or `capkit outbox` can read it. A bank in
 * production passes its own `SmsSender`/`LetterSender`.
 */
export interface DevOutbox extends SmsSender, LetterSender {
  list(query?: OutboxQuery): Promise<OutboxEntry[]>;
  /** Forgets every message; returns how many. */
  clear(): Promise<number>;
}

/** An `OutboxQuery` checked at the door: `to` a string, `after` a count, `limit` 1 to 1000 (100 by default). */
export function checkOutboxQuery(query: OutboxQuery = {}): { to?: string; after: number; limit: number } {
  const { to, after = 0, limit = 100 } = query;
  if (to !== undefined && (typeof to !== "string" || to.length === 0 || to.length > 256))
    throw new CapkitError("INPUT_INVALID", "to is a phone number or address of 1 to 256 characters");
  if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0)
    throw new CapkitError("INPUT_INVALID", "after is a sequence number (an integer from 0)");
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new CapkitError("INPUT_INVALID", "limit is an integer from 1 to 1000");
  return { ...(to !== undefined ? { to } : {}), after, limit };
}

/**
 * The dev outbox in this process's memory (tests, a single-process example), bounded to the newest `capacity`
 * messages. `next` resolves with the next message to a recipient, so a test waits for an event, not a time.
 */
export class MemoryDevOutbox implements DevOutbox {
  readonly #entries: OutboxEntry[] = [];
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #waiting = new Set<{ to: string; resolve: (e: OutboxEntry) => void }>();
  #seq = 0;

  constructor(options: { capacity?: number; now?: () => number } = {}) {
    this.#capacity = Math.max(1, Math.trunc(options.capacity ?? 1000));
    this.#now = options.now ?? Date.now;
  }

  async sendSms(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  async sendLetter(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  #add(m: OutOfBandMessage): void {
    const entry: OutboxEntry = {
      seq: ++this.#seq,
      at: this.#now(),
      feature: m.feature,
      to: m.to,
      text: m.text,
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) this.#entries.shift();
    for (const w of this.#waiting)
      if (w.to === m.to) {
        this.#waiting.delete(w);
        w.resolve(entry);
      }
  }

  async list(query: OutboxQuery = {}): Promise<OutboxEntry[]> {
    const q = checkOutboxQuery(query);
    return this.#entries
      .filter((e) => (q.to === undefined || e.to === q.to) && e.seq > q.after)
      .slice(-q.limit);
  }

  /** The next message to `to` sent from now on. */
  next(to: string): Promise<OutboxEntry> {
    return new Promise((resolve) => this.#waiting.add({ to, resolve }));
  }

  async clear(): Promise<number> {
    const n = this.#entries.length;
    this.#entries.length = 0;
    return n;
  }
}
