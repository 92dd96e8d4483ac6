import { CapkitError } from "@capkit/core";
import type { HotpGenerator } from "./hotp.js";
import { type TotpParameters, totpStep } from "./totp.js";

/**
 * Pure verification helpers: which counter or time step does a code match? State (last counter, used steps,
 * failures) and policy live in @capkit/verify. Every candidate in the window is computed and compared — no
 * early return — so the time taken does not tell where (or whether) the code matched (better-auth/utils#24).
 */

/** Parses a code typed by a person: digits only, exactly the expected length (speakeasy accepted " 26920"). */
export function parseCode(code: string, digits: number): number | undefined {
  if (typeof code !== "string" || code.length !== digits) return undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(code);
}

function scan(gen: HotpGenerator, code: string, first: number, last: number): number | undefined {
  const wanted = parseCode(code, gen.digits);
  if (wanted === undefined) return undefined;
  let found = -1;
  for (let c = first; c <= last; c++) {
    // Integer equality has no early exit; the branch-free select keeps the first match.
    const hit = gen.value(c) === wanted;
    found = found < 0 && hit ? c : found;
  }
  return found < 0 ? undefined : found;
}

export interface HotpMatch {
  readonly counter: number;
  /** How far ahead of the expected counter the token was. */
  readonly offset: number;
}

/**
 * HOTP look-ahead (RFC 4226 §7.4): the code is tried at `counter` (the next expected value) and up to
 * `lookAhead` values after it — forward only, never behind (guyht/notp#18).
 */
export function matchHotp(
  gen: HotpGenerator,
  code: string,
  counter: number,
  lookAhead = 10,
): HotpMatch | undefined {
  if (!Number.isInteger(lookAhead) || lookAhead < 0 || lookAhead > 1000) {
    throw new CapkitError("INPUT_INVALID", "the look-ahead is 0 to 1000");
  }
  const c = scan(gen, code, counter, counter + lookAhead);
  return c === undefined ? undefined : { counter: c, offset: c - counter };
}

export interface TotpWindow extends TotpParameters {
  /** Steps accepted before the current one (network delay, RFC 6238 §5.2 recommends 1). */
  readonly past?: number;
  /** Steps accepted after it (a token clock running fast). */
  readonly future?: number;
  /**
   * The first step that may match: a verifier passes its last accepted step + 1, so a code equal by chance to
   * an already used step's code (1 in 10^digits) is still found at its own step (RFC 6238 §5.2: never accept
   * a second attempt, never refuse the first).
   */
  readonly notBefore?: number;
}

export interface TotpMatch {
  readonly step: number;
  /** Matched step minus the current step: −1 = the previous code. */
  readonly offset: number;
}

const validWindow = (w: number) => Number.isInteger(w) && w >= 0 && w <= 100;

export function matchTotp(
  gen: HotpGenerator,
  code: string,
  time: number,
  window: TotpWindow = {},
): TotpMatch | undefined {
  const past = window.past ?? 1;
  const future = window.future ?? 1;
  if (!validWindow(past) || !validWindow(future))
    throw new CapkitError("INPUT_INVALID", "TOTP windows are 0 to 100 steps");
  const now = totpStep(time, window);
  const s = scan(gen, code, Math.max(0, now - past, window.notBefore ?? 0), now + future);
  return s === undefined ? undefined : { step: s, offset: s - now };
}
