import { CapkitError, isCapkitError } from "@capkit/core";

/**
 * One decision at a time per lockout subject — a user, or a credential without one (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6,
 * "The lockout under concurrency"). The attempts on a subject are decided in the order they came, each on the
 * state the previous one left: a burst of wrong codes is counted before the code sent after it is judged, so
 * no burst gets more than `maxFailures` codes judged between two successes from this process (the store's row
 * lock does the same between processes). It also bounds what one subject holds of a PostgreSQL pool: one
 * connection, whatever the burst.
 *
 * Waiting is bounded: a caller still in line after `waitMs` gets STORE_UNAVAILABLE (nothing was tried). When
 * the store fails under a holder (a row held by another session until the lock timeout, a database gone), the
 * callers in line behind it get the same error at once instead of each waiting its turn for the same answer.
 */
export class SubjectGate {
  /** The subjects with a decision in progress, and who waits behind it (null: nobody; no array made). */
  readonly #lines = new Map<string, Waiter[] | null>();
  readonly #waitMs: number;

  constructor(waitMs: number) {
    this.#waitMs = Math.max(0, Math.trunc(waitMs));
  }

  /** Runs `decide` when every earlier caller on `key` is done. */
  run<T>(key: string, decide: () => Promise<T>): Promise<T> {
    if (this.#lines.has(key)) return this.#wait(key).then(() => this.#hold(key, decide));
    this.#lines.set(key, null);
    return this.#hold(key, decide);
  }

  /** `decide`, then the next in line (a plain promise chain: one verification is a few microseconds). */
  #hold<T>(key: string, decide: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = decide();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then(
      (v) => {
        this.#next(key);
        return v;
      },
      (e: unknown) => {
        if (isCapkitError(e, "STORE_UNAVAILABLE"))
          for (const w of this.#lines.get(key)?.splice(0) ?? []) w.fail(e);
        this.#next(key);
        throw e;
      },
    );
  }

  #next(key: string): void {
    const next = this.#lines.get(key)?.shift();
    if (next) next.go();
    else this.#lines.delete(key);
  }

  #wait(key: string): Promise<void> {
    let line = this.#lines.get(key);
    if (!line) {
      line = [];
      this.#lines.set(key, line);
    }
    const waiting = line;
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        go: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = waiting.indexOf(w);
        if (i >= 0) waiting.splice(i, 1);
        reject(
          new CapkitError(
            "STORE_UNAVAILABLE",
            `busy: waited ${this.#waitMs} ms behind earlier attempts on the same user or credential`,
            { hint: "nothing was tried; retry" },
          ),
        );
      }, this.#waitMs);
      waiting.push(w);
    });
  }
}

interface Waiter {
  go(): void;
  fail(e: Error): void;
}
