import { CapkitError } from "@capkit/core";
import type { Hmac } from "./hmac.js";
import { HotpGenerator } from "./hotp.js";

/**
 * TOTP (RFC 6238 §4): HOTP with the counter T = floor((time − T0) / step). Time is always passed in (Unix
 * seconds); the core never reads a clock, so tests and servers decide what "now" is.
 */
export interface TotpParameters {
  /** Step in seconds; 30 by default (RFC 6238 §5.2). */
  readonly step?: number;
  /** T0, Unix seconds; 0 by default. */
  readonly t0?: number;
}

export function totpStep(time: number, params: TotpParameters = {}): number {
  const step = params.step ?? 30;
  const t0 = params.t0 ?? 0;
  if (!Number.isInteger(step) || step < 1 || step > 86400)
    throw new CapkitError("INPUT_INVALID", "the step is 1 to 86400 seconds");
  if (!Number.isFinite(time) || time < t0) throw new CapkitError("INPUT_INVALID", "the time is before T0");
  return Math.floor((time - t0) / step);
}

export function totp(key: Hmac, time: number, digits = 6, params: TotpParameters = {}): string {
  return new HotpGenerator(key, digits).code(totpStep(time, params));
}
