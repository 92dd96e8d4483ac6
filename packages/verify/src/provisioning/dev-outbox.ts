import { argumentError, CapkitError, expectOptions, expectString } from "@capkit/core";
import type { LetterSender, OutOfBandMessage, SmsSender } from "./out-of-band.js";

/** A message as a dev outbox keeps it. */
export interface OutboxEntry {
  /** 1, 2, …: the order messages were sent in. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** `sms` or `letter`. */
  readonly feature: OutOfBandMessage["feature"];
  /** The phone number or address it was sent to. */
  readonly to: string;
  /** The text, code included. */
  readonly text: string;
}

/** Which messages `DevOutbox.list` answers. */
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
  /**
   * The messages kept, oldest first (the newest `limit` of those that match).
   *
   * @param query - a recipient, a sequence number to read after, a page size; INPUT_INVALID otherwise
   */
  list(query?: OutboxQuery): Promise<OutboxEntry[]>;
  /** Forgets every message; returns how many. */
  clear(): Promise<number>;
}

/** An `OutboxQuery` checked at the door: `to` a string, `after` a count, `limit` 1 to 1000 (100 by default). */
export function checkOutboxQuery(query: OutboxQuery = {}): { to?: string; after: number; limit: number } {
  const { to, after = 0, limit = 100 } = expectOptions<OutboxQuery>(query, "the outbox query");
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
 * FOR DEVELOPMENT ONLY: it keeps the codes it is given. `SqliteDevOutbox` (`@capkit/verify/sqlite`) shares them
 * between processes (the example bank's phone, `capkit outbox`).
 *
 * @example
 * ```ts
 * const outbox = new MemoryDevOutbox();
 * const provisioner = new Provisioner({ ...options, sms: outbox });
 * const sms = outbox.next("+33612345678"); // before the start: the message comes after its answer
 * const { offer } = await provisioner.start({ user: "alice", appVersion: "5.2.0" });
 * const code = /(\d{4}) (\d{4})/.exec((await sms).text)!.slice(1).join(""); // what the customer types
 * ```
 */
export class MemoryDevOutbox implements DevOutbox {
  readonly #entries: OutboxEntry[] = [];
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #waiting = new Set<{ to: string; resolve: (e: OutboxEntry) => void }>();
  #seq = 0;

  /**
   * @param options - `capacity`: the most messages kept (default 1000, the oldest dropped first); `now`: the
   *   clock the entries' `at` is read from (milliseconds, default `Date.now`)
   */
  constructor(options: { capacity?: number; now?: () => number } = {}) {
    const o = expectOptions<{ capacity?: unknown; now?: unknown }>(options, "the outbox options");
    const capacity = o.capacity === undefined ? 1000 : o.capacity;
    if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000)
      throw argumentError("INPUT_INVALID", "capacity", "a whole number from 1 to 1000000", capacity);
    if (o.now !== undefined && typeof o.now !== "function")
      throw argumentError("INPUT_INVALID", "now", "a function returning milliseconds since the epoch", o.now);
    this.#capacity = capacity;
    this.#now = (o.now as (() => number) | undefined) ?? Date.now;
  }

  /** Keeps the message (an SMS). */
  async sendSms(message: OutOfBandMessage): Promise<void> {
    this.#add(message);
  }

  /** Keeps the message (a letter). */
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

  /** {@inheritDoc DevOutbox.list} */
  async list(query: OutboxQuery = {}): Promise<OutboxEntry[]> {
    const q = checkOutboxQuery(query);
    return this.#entries
      .filter((e) => (q.to === undefined || e.to === q.to) && e.seq > q.after)
      .slice(-q.limit);
  }

  /** The next message to `to` sent from now on. */
  next(to: string): Promise<OutboxEntry> {
    expectString(to, "to (a phone number or address)");
    return new Promise((resolve) => this.#waiting.add({ to, resolve }));
  }

  /** {@inheritDoc DevOutbox.clear} */
  async clear(): Promise<number> {
    const n = this.#entries.length;
    this.#entries.length = 0;
    return n;
  }
}
