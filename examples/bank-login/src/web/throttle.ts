/**
 * Throttling by source: token buckets keyed by client address (web/client.ts) or by form token (the session's
 * or the anonymous visitor's CSRF token). A key may spend `burst` attempts at once, then one per
 * `1 / perSecond` seconds; over that it is answered 429 with Retry-After, before anything is looked up or
 * counted. The account lockout is another matter (the verifier's, codes.ts): this stops a flood, a spray of one
 * password over many identifiants, and keeps the server's scrypt work for real customers.
 *
 * Memory is bounded: at `maxKeys`, buckets that have filled up again (the same as no bucket) are dropped; if
 * none has, new keys are refused (fail closed) rather than a limited key being forgotten.
 */
export interface Rate {
  readonly burst: number;
  readonly perSecond: number;
}

/** The limits, in one place. */
export const RATES = {
  /** Logins, password changes, signatures from one address: 20 at once, then 20 a minute. */
  attemptsPerAddress: { burst: 20, perSecond: 1 / 3 },
  /** The same from one form token (one browser tab): 10 at once, then 10 a minute. */
  attemptsPerToken: { burst: 10, perSecond: 1 / 6 },
  /** Demo customers made for one address: 3 at once, then one a minute. */
  demoPerAddress: { burst: 3, perSecond: 1 / 60 },
  /** Demo customers made in all (each costs a scrypt and two enrolments): 30 at once, then one every 2 s. */
  demoOverall: { burst: 30, perSecond: 1 / 2 },
} as const satisfies Record<string, Rate>;

interface Bucket {
  tokens: number;
  at: number;
}

export class Throttle {
  readonly #rate: Rate;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: Rate, now: () => number, maxKeys = 100_000) {
    this.#rate = rate;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /** Spends one attempt for `key`: 0 if allowed, else the seconds to wait (for Retry-After). */
  take(key: string): number {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b) this.#refill(b, now);
    else {
      if (this.#buckets.size >= this.#maxKeys && !this.#sweep(now)) return 60;
      b = { tokens: this.#rate.burst, at: now };
      this.#buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#rate.perSecond));
  }

  #refill(b: Bucket, now: number): void {
    b.tokens = Math.min(this.#rate.burst, b.tokens + ((now - b.at) / 1000) * this.#rate.perSecond);
    b.at = now;
  }

  /** Drops the buckets that are full again; true if that made room. */
  #sweep(now: number): boolean {
    for (const [key, b] of this.#buckets) {
      this.#refill(b, now);
      if (b.tokens >= this.#rate.burst) this.#buckets.delete(key);
    }
    return this.#buckets.size < this.#maxKeys;
  }
}
