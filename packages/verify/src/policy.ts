import { checkFields, integerIn, invalid } from "./requests.js";

/**
 * The verification policy (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6; RFC 4226 §7, RFC 6238 §5): `VerifierOptions.policy` gives
 * the fields to change, each checked (INPUT_INVALID names the first out of its range); the others keep
 * {@link DEFAULT_POLICY}. The windows are frozen into each credential at its enrolment: a later policy changes
 * new enrolments only.
 */
export interface Policy {
  /** Consecutive failures that lock a credential (or a user, for credentials that belong to one). */
  readonly maxFailures: number;
  /** HOTP codes accepted up to this many counter values ahead (RFC 4226 §7.4 look-ahead). */
  readonly hotpLookAhead: number;
  /** TOTP steps accepted before the current one (RFC 6238 §5.2: one step of network delay). */
  readonly totpPast: number;
  /** TOTP steps accepted after the current one (a token's clock a little fast). */
  readonly totpFuture: number;
  /** TOTP: centre the window on each token's recorded drift (new enrolments; RFC 6238 §6). */
  readonly totpFollowDrift: boolean;
  /** CAP: ATC values searched after the last accepted one (cards also count payments). */
  readonly capAtcWindow: number;
  /** Server-issued challenges expire after this long. */
  readonly challengeTtlMs: number;
  /** Outstanding challenges per credential; issuing one more drops the oldest (a flood stays bounded). */
  readonly maxChallengesPerCredential: number;
  /** Resync with two consecutive codes searches this far ahead (HOTP counters, CAP ATCs). */
  readonly resyncWindow: number;
  /**
   * How long after an accept the same request again is a replay — answered "rejected" with `replayed: true`,
   * without counting (a double submit, a proxy retrying), or `accepted` again when it carries the same
   * `requestId`. After it, the same code again is a failure like any other.
   */
  readonly replayWindowMs: number;
  /**
   * A lock is lifted this long after it was set, and the count starts again (a timed release); 0, the
   * default: only an administrator lifts it (unlock, unlockUser).
   */
  readonly lockoutReleaseMs: number;
}

/**
 * The defaults: lockout at the 5th consecutive failure, never released by time; HOTP look-ahead 10 (RFC 4226
 * §7.4); TOTP ±1 step (RFC 6238 §5.2); CAP ATC window 256; challenges valid 120 s, 8 outstanding per credential;
 * resync within 1000; replays recognised for 5 minutes.
 */
export const DEFAULT_POLICY: Policy = {
  maxFailures: 5,
  hotpLookAhead: 10,
  totpPast: 1,
  totpFuture: 1,
  totpFollowDrift: false,
  capAtcWindow: 256,
  challengeTtlMs: 120_000,
  maxChallengesPerCredential: 8,
  resyncWindow: 1000,
  replayWindowMs: 300_000,
  lockoutReleaseMs: 0,
};

/** The range of each numeric field (the door for `VerifierOptions.policy`). */
const RANGES: Record<Exclude<keyof Policy, "totpFollowDrift">, readonly [number, number]> = {
  maxFailures: [1, 1000],
  hotpLookAhead: [0, 1000],
  totpPast: [0, 100],
  totpFuture: [0, 100],
  capAtcWindow: [1, 0xffff],
  challengeTtlMs: [1000, 86_400_000],
  maxChallengesPerCredential: [1, 1000],
  resyncWindow: [1, 100_000],
  replayWindowMs: [0, 86_400_000],
  lockoutReleaseMs: [0, 30 * 86_400_000],
};

/** The policy with `changes` applied, every field checked: INPUT_INVALID names the first bad one. */
export function policyWith(changes: unknown): Policy {
  if (changes === undefined) return DEFAULT_POLICY;
  checkFields(changes, "the policy", new Set(Object.keys(DEFAULT_POLICY)));
  const p = { ...DEFAULT_POLICY, ...(changes as Partial<Policy>) };
  for (const [k, [min, max]] of Object.entries(RANGES))
    integerIn(p[k as keyof typeof RANGES], min, max, `policy.${k}`);
  if (typeof p.totpFollowDrift !== "boolean") throw invalid("policy.totpFollowDrift is true or false");
  return p;
}
