import { argumentError } from "@capkit/core";
import { checkOptions } from "./requests.js";

/**
 * The time TOTP codes are judged at (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Server clock steps"). A server's wall clock can
 * step — a VM resumed, an NTP step, an operator's `date` — and a step of +120 s used to make every honest TOTP
 * code fail and count towards the lockout. The steady clock runs on the monotonic clock, so a step does not move
 * it, and follows the wall clock only at a bounded rate (`slew`, 1 %: a 120 s step is absorbed over 3 h 20 min),
 * so the slow corrections NTP makes (parts per million) pass through and it never goes backwards.
 *
 * @param options - `wall`: the wall clock (ms since the epoch, default `Date.now`); `monotonic`: a clock that
 *   never steps (ms, default `performance.now`); `slew`: how fast it follows the wall clock, a fraction of the
 *   time elapsed (0 to 1, default 0.01)
 * @returns the clock: ms since the epoch, whole, never going backwards
 * @throws `INPUT_INVALID` naming the option that is wrong
 *
 * @example
 * ```ts
 * const now = steadyClock();
 * now(); // Date.now() at the start, then the monotonic time since, drawn towards Date.now() at 1 % at most
 * ```
 */
export function steadyClock(
  options: { wall?: () => number; monotonic?: () => number; slew?: number } = {},
): () => number {
  checkOptions(options, "the steady clock's options", ["wall", "monotonic", "slew"]);
  for (const k of ["wall", "monotonic"] as const)
    if (options[k] !== undefined && typeof options[k] !== "function")
      throw argumentError("INPUT_INVALID", k, "a function returning milliseconds", options[k]);
  const s = options.slew;
  if (s !== undefined && (typeof s !== "number" || !(s >= 0 && s <= 1)))
    throw argumentError("INPUT_INVALID", "slew", "a number from 0 to 1", s);
  const wall = options.wall ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const slew = options.slew ?? 0.01;
  let t = wall();
  let m = monotonic();
  return () => {
    const m2 = monotonic();
    const elapsed = Math.max(0, m2 - m);
    const gap = wall() - (t + elapsed);
    t += elapsed + Math.max(-slew * elapsed, Math.min(slew * elapsed, gap));
    m = m2;
    return Math.floor(t);
  };
}
