/**
 * At most `limit` holders per key at once; the others wait in line, each for at most its own deadline. A
 * PostgreSQL row held by another session makes every statement on it wait for the lock timeout: bounding the
 * statements per credential bounds the pool connections one stuck credential can hold (issue: one credential
 * must not starve the others).
 */
export class KeyedGate {
  readonly #limit: number;
  readonly #keys = new Map<string, { active: number; queue: Waiter[] }>();

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.trunc(limit));
  }

  acquire(key: string, waitMs: number): Promise<() => void> {
    let slot = this.#keys.get(key);
    if (!slot) {
      slot = { active: 0, queue: [] };
      this.#keys.set(key, slot);
    }
    const s = slot;
    const release = () => {
      const next = s.queue.shift();
      if (next) next();
      else if (--s.active === 0) this.#keys.delete(key);
    };
    if (s.active < this.#limit) {
      s.active++;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = Object.assign(
        () => {
          clearTimeout(timer);
          resolve(once(release));
        },
        {
          fail: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        },
      );
      const timer = setTimeout(() => {
        const i = s.queue.indexOf(w);
        if (i >= 0) s.queue.splice(i, 1);
        reject(new Error(`busy: waited ${waitMs} ms for earlier statements on the same credential`));
      }, waitMs);
      s.queue.push(w);
    });
  }

  /** Everyone waiting on `key` gives up now (the row is held: they would only wait for the same timeout). */
  failWaiting(key: string, e: Error): void {
    const s = this.#keys.get(key);
    if (!s) return;
    for (const w of s.queue.splice(0)) w.fail(e);
  }
}

type Waiter = (() => void) & { fail(e: Error): void };

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}
