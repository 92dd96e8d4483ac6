import { checkFields, integerIn, integerOr, invalid } from "./requests.js";

/**
 * Throttling by source (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): the lockout counts per credential and per user, so it does
 * not see one address trying one password on many ids. A `Throttle` sees every attempt with the `source` the
 * application names (an IP address, a session) before anything is judged or counted, and answers how long that
 * source must wait — the Verifier then refuses the attempt with RATE_LIMITED (nothing tried, nothing counted).
 */
export interface ThrottleRequest {
  /** Who is asking, as the application knows it: an IP address, a session id. */
  readonly source: string;
  /** The Verifier method the attempt is: verify, resync, issueChallenge or checkFactor. */
  readonly action: "verify" | "resync" | "challenge" | "factor";
  /** The credential the attempt names, if it names one. */
  readonly id?: string | undefined;
  /** The user the attempt names, if it names one. */
  readonly user?: string | undefined;
}

/**
 * Asked before each attempt that names a source: undefined to go on; a number, the milliseconds this source
 * must wait (the attempt is then refused with RATE_LIMITED, `details.retryAfterMs`). May be asynchronous (a
 * cluster's throttle in its own store).
 */
export type Throttle = (r: ThrottleRequest) => number | undefined | Promise<number | undefined>;

/**
 * A ready throttle for one process: each source may make `burst` attempts at once and `perMinute` a minute
 * after that (a token bucket per source), for at most `sources` sources at a time (the least recently seen are
 * forgotten first, so a flood of addresses stays bounded). A cluster shares a throttle through its own store.
 *
 * @param options - `perMinute`: attempts a minute per source (1–1,000,000); `burst`: attempts at once (default
 *   `perMinute`, 1–1,000,000); `sources`: sources remembered (default 100,000, up to 10,000,000); `now`: the clock (ms since the
 *   epoch, default `Date.now`).
 * @throws `INPUT_INVALID` naming the option out of its range
 *
 * @example
 * ```ts
 * const verifier = new Verifier({ store, keys, throttle: sourceThrottle({ perMinute: 30 }) });
 * await verifier.verify({ id: "alice-card", code: "12345678", source: request.ip });
 * // the 31st attempt within a minute from that address: RATE_LIMITED, nothing judged or counted
 * ```
 */
export function sourceThrottle(options: {
  perMinute: number;
  burst?: number;
  sources?: number;
  now?: () => number;
}): Throttle {
  checkFields(options, "the throttle options", new Set(["perMinute", "burst", "sources", "now"]));
  const perMinute = integerIn(options.perMinute, 1, 1_000_000, "perMinute");
  const rate = perMinute / 60_000;
  const burst = integerOr(options.burst, perMinute, 1, 1_000_000, "burst");
  const max = integerOr(options.sources, 100_000, 1, 10_000_000, "sources");
  if (options.now !== undefined && typeof options.now !== "function")
    throw invalid("now is a function returning ms since the epoch");
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
