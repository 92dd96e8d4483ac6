import { CapkitError } from "@capkit/core";
import { expectInteger, expectOptions } from "./arguments.js";
import type { Hmac } from "./hmac.js";
import { HotpGenerator } from "./hotp.js";
import { type OathTime, unixSeconds } from "./time.js";

/**
 * TOTP (RFC 6238 §4): HOTP with the counter T = floor((time − T0) / step). Time is always passed in (Unix
 * seconds or a `Date`); the core never reads a clock, so tests and servers decide what "now" is.
 */
export interface TotpParameters {
  /** Step in seconds, 1 to 86400; 30 by default (RFC 6238 §5.2). */
  readonly step?: number;
  /** T0 in Unix seconds; 0 by default. */
  readonly t0?: number;
}

/** The longest step capkit accepts: a day. */
export const MAX_TOTP_STEP = 86400;

/**
 * The TOTP time step T = floor((time − T0) / step) of RFC 6238 §4.2.
 *
 * @param time - Unix seconds or a `Date` (milliseconds are refused: see {@link unixSeconds})
 * @throws `INPUT_INVALID` for a time that is not Unix seconds or is before T0, a step outside 1–86400, or a
 *   T0 that is not Unix seconds.
 *
 * @example
 * ```ts
 * totpStep(59); // 1
 * totpStep(new Date("2005-03-18T01:58:29Z"), { step: 30 }); // 37037036
 * ```
 */
export function totpStep(time: OathTime, params: TotpParameters = {}): number {
  const p = expectOptions<TotpParameters>(params, "the TOTP parameters");
  const step = p.step === undefined ? 30 : expectInteger(p.step, "the step", 1, MAX_TOTP_STEP);
  const t0 = p.t0 === undefined ? 0 : unixSeconds(p.t0, "T0");
  const seconds = unixSeconds(time);
  if (seconds < t0) throw new CapkitError("INPUT_INVALID", "the time is before T0");
  return Math.floor((seconds - t0) / step);
}

/**
 * The TOTP code of `key` at `time` (RFC 6238 §4), `digits` long (6 to 10, default 6).
 *
 * @param time - Unix **seconds** or a `Date`: `Date.now()` (milliseconds) is refused with `INPUT_INVALID`,
 *   never turned into the code of another millennium
 * @throws `INPUT_INVALID` for a time, digits, step or T0 out of range or of the wrong type.
 *
 * @example
 * ```ts
 * const key = new HmacKey(new TextEncoder().encode("12345678901234567890"));
 * totp(key, 59, 8); // "94287082" (RFC 6238 Appendix B)
 * totp(key, new Date()); // now, 6 digits, 30-second steps
 * ```
 */
export function totp(key: Hmac, time: OathTime, digits = 6, params: TotpParameters = {}): string {
  const gen = new HotpGenerator(key, digits);
  return gen.code(totpStep(time, params));
}
