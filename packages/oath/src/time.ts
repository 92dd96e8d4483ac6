import { CapkitError } from "@capkit/core";
import { wrong } from "./arguments.js";

/**
 * A moment for TOTP and OCRA time suites: Unix time in **seconds** (RFC 6238 §4: "the number of seconds
 * since the Unix epoch"), or a `Date`. The core never reads a clock: servers and tests decide what "now" is.
 */
export type OathTime = number | Date;

/**
 * The first number read as milliseconds, and refused: 2^40. As seconds it is the year 36,812 (oathtool takes
 * times up to there, and capkit is cross-checked against it up to there); as milliseconds it is 3 November
 * 2004, so every `Date.now()` since is at or above it. `Date.now()` taken for seconds would otherwise give
 * the code of a step some 55,000 years ahead.
 */
export const MILLISECONDS_FROM = 2 ** 40;

const EXPECTED = "Unix seconds (a number from 0) or a Date";

/**
 * `time` as Unix seconds (a fraction is kept: callers floor it into steps). A `Date` is converted; a number
 * must be finite, not negative and below {@link MILLISECONDS_FROM}. Anything else is an `INPUT_INVALID` error
 * that names `what` and says what was expected.
 *
 * @example
 * ```ts
 * unixSeconds(1_111_111_109); // 1111111109
 * unixSeconds(new Date(0)); // 0
 * unixSeconds(Date.now()); // throws INPUT_INVALID: "… must be Unix seconds; … is milliseconds …"
 * ```
 */
export function unixSeconds(time: OathTime, what = "the time"): number {
  if (typeof time === "number") {
    if (time >= 0 && time < MILLISECONDS_FROM) return time; // NaN fails both comparisons
    if (time >= MILLISECONDS_FROM && Number.isFinite(time)) {
      throw new CapkitError(
        "INPUT_INVALID",
        `${what} must be Unix seconds; ${time} is milliseconds (Date.now()): divide by 1000, or pass a Date`,
        { details: { argument: what, expected: EXPECTED } },
      );
    }
    throw wrong("INPUT_INVALID", what, EXPECTED, time, Number.isFinite(time) ? String(time) : undefined);
  }
  if (time instanceof Date) {
    const ms = time.getTime();
    if (ms >= 0) return ms / 1000;
    throw wrong("INPUT_INVALID", what, "a valid Date from 1970", time);
  }
  throw wrong("INPUT_INVALID", what, EXPECTED, time);
}
