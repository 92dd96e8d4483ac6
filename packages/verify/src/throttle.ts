/**
 * Throttling by source (docs/architecture.md §6): the lockout counts per credential and per user, so it does
 * not see one address trying one password on many ids. A `Throttle` sees every attempt with the `source` the
 * application names (an IP address, a session) before anything is judged or counted, and answers how long that
 * source must wait — the Verifier then refuses the attempt with RATE_LIMITED (nothing tried, nothing counted).
 */
export interface ThrottleRequest {
  /** Who is asking, as the application knows it: an IP address, a session id. */
  readonly source: string;
  readonly action: "verify" | "resync" | "challenge" | "factor";
  /** The credential or user the attempt names. */
  readonly id?: string | undefined;
  readonly user?: string | undefined;
}

/** undefined: go on; a number: the milliseconds to wait before the next attempt from this source. */
export type Throttle = (r: ThrottleRequest) => number | undefined | Promise<number | undefined>;

/**
 * A ready throttle for one process: each source may make `burst` attempts at once and `perMinute` a minute
 * after that (a token bucket per source), for at most `sources` sources at a time (the least recently seen are
 * forgotten first, so a flood of addresses stays bounded). A cluster shares a throttle through its own store.
 */
export function sourceThrottle(options: {
  perMinute: number;
  burst?: number;
  sources?: number;
  now?: () => number;
}) {
  const rate = options.perMinute / 60_000;
  const burst = options.burst ?? options.perMinute;
  const max = options.sources ?? 100_000;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const throttle: Throttle = ({ source }) => {
    const t = now();
    const b = buckets.get(source) ?? { tokens: burst, at: t };
    buckets.delete(source);
    buckets.set(source, b);
    if (buckets.size > max) buckets.delete(buckets.keys().next().value!);
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.ceil((1 - b.tokens) / rate);
  };
  return throttle;
}
