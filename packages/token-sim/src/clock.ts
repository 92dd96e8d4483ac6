import { argumentError, isRecord } from "@capkit/core";

/**
 * Time for the simulated devices, injectable so tests never sleep: the reader's 35-second auto-off and the
 * token's code validity run on whatever clock they are given.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now on this clock; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer {@link Clock.setTimeout} returned. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now()` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A clock that moves only when told to: `advance(ms)` runs the timers that fall due, in order. */
export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = Date.UTC(2026, 10, 23, 9, 0, 0)) {
    this.#now = startMs;
  }

  /** The clock's time (ms since the epoch): where `advance` left it. */
  now(): number {
    return this.#now;
  }

  /** A timer that runs when `advance` reaches its time. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  /** Cancels a timer. */
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time forward by `ms`, running the timers that fall due, each at its own time, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = end;
  }
}

/** A clock option, as plain JavaScript may pass it: an object with `now`, `setTimeout` and `clearTimeout`. */
export function expectClock(value: unknown, what = "the clock"): Clock {
  if (
    !isRecord(value) ||
    typeof value["now"] !== "function" ||
    typeof value["setTimeout"] !== "function" ||
    typeof value["clearTimeout"] !== "function"
  )
    throw argumentError("INPUT_INVALID", what, "a Clock (now, setTimeout, clearTimeout)", value);
  return value as unknown as Clock;
}
