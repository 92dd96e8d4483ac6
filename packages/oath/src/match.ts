import { expectInteger, expectOptions, expectString, wrong } from "./arguments.js";
import { HotpGenerator } from "./hotp.js";
import type { OathTime } from "./time.js";
import { type TotpParameters, totpStep } from "./totp.js";

/**
 * Pure verification helpers: which counter or time step does a code match? State (last counter, used steps,
 * failures) and policy live in @capkit/verify. Every candidate in the window is computed and compared — no
 * early return — so the time taken does not tell where (or whether) the code matched (better-auth/utils#24).
 */

/**
 * Parses a code typed by a person: digits only, exactly the expected length (speakeasy accepted " 26920").
 * Anything else — a number included — is not a code: `undefined`.
 */
export function parseCode(code: string, digits: number): number | undefined {
  if (typeof code !== "string" || code.length !== digits) return undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(code);
}

/**
 * The arguments every matcher shares: a generator, and the code as a string. A number is refused rather than
 * matched: 012345 as a number has lost its leading zero, and 1e6 is not "1000000".
 */
function checkMatch(gen: HotpGenerator, code: string): void {
  if (!(gen instanceof HotpGenerator)) throw wrong("INPUT_INVALID", "the generator", "a HotpGenerator", gen);
  expectString(code, "the code");
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

/** Where an HOTP code matched. */
export interface HotpMatch {
  readonly counter: number;
  /** How far ahead of the expected counter the token was. */
  readonly offset: number;
}

/**
 * HOTP look-ahead (RFC 4226 §7.4): the code is tried at `counter` (the next expected value) and up to
 * `lookAhead` values after it (0 to 1000, default 10) — forward only, never behind (guyht/notp#18).
 *
 * @param code - the code as typed, a string of exactly `gen.digits` digits (anything else never matches)
 * @returns the matched counter and how far ahead it was, or `undefined`
 * @throws `INPUT_INVALID` for a code that is not a string, a counter or look-ahead out of range.
 *
 * @example
 * ```ts
 * matchHotp(gen, "969429", 0, 10); // { counter: 3, offset: 3 }
 * ```
 */
export function matchHotp(
  gen: HotpGenerator,
  code: string,
  counter: number,
  lookAhead = 10,
): HotpMatch | undefined {
  checkMatch(gen, code);
  expectInteger(lookAhead, "the look-ahead", 0, 1000);
  expectInteger(counter, "the counter", 0, Number.MAX_SAFE_INTEGER - lookAhead);
  const c = scan(gen, code, counter, counter + lookAhead);
  return c === undefined ? undefined : { counter: c, offset: c - counter };
}

/** The TOTP step and T0, and which steps around the current one a code may match. */
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

/** Where a TOTP code matched. */
export interface TotpMatch {
  readonly step: number;
  /** Matched step minus the current step: −1 = the previous code. */
  readonly offset: number;
}

/** The widest TOTP window on either side, in steps. */
export const MAX_TOTP_WINDOW = 100;

/**
 * TOTP matching (RFC 6238 §5.2): the code is tried at the current step, `past` steps before it and `future`
 * steps after it (0 to 100 each, default 1), never before `notBefore`.
 *
 * @param code - the code as typed, a string of exactly `gen.digits` digits (anything else never matches)
 * @param time - Unix seconds or a `Date` (milliseconds are refused)
 * @returns the matched step and its offset from the current one, or `undefined`
 * @throws `INPUT_INVALID` for a code that is not a string, a time that is not Unix seconds, a window out of
 *   range.
 *
 * @example
 * ```ts
 * matchTotp(gen, "287082", Date.now() / 1000, { past: 1, future: 1 }); // { step, offset } or undefined
 * ```
 */
export function matchTotp(
  gen: HotpGenerator,
  code: string,
  time: OathTime,
  window: TotpWindow = {},
): TotpMatch | undefined {
  checkMatch(gen, code);
  const w = expectOptions<TotpWindow>(window, "the TOTP window");
  const past = w.past === undefined ? 1 : expectInteger(w.past, "the past window", 0, MAX_TOTP_WINDOW);
  const future =
    w.future === undefined ? 1 : expectInteger(w.future, "the future window", 0, MAX_TOTP_WINDOW);
  const notBefore =
    w.notBefore === undefined ? 0 : expectInteger(w.notBefore, "notBefore", 0, Number.MAX_SAFE_INTEGER);
  const now = totpStep(time, w);
  const s = scan(gen, code, Math.max(0, now - past, notBefore), now + future);
  return s === undefined ? undefined : { step: s, offset: s - now };
}
