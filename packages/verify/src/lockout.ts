/**
 * The lockout rule, in one place (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): failures are counted per lockout subject (a user,
 * or a credential without one, or an unknown id or user); the `maxFailures`-th consecutive one locks it; a
 * success clears the count. With `releaseMs` (Policy.lockoutReleaseMs, 0 = never, the default) a lock is lifted
 * by time: once `releaseMs` have passed since it locked, the subject counts from zero again — its next failure
 * is the first of a new run of `maxFailures`. The memory store applies the rule below in TypeScript; SQLite and
 * PostgreSQL apply `lockoutSql`, the same rule in SQL, inside the statement that decides.
 */
export interface LockoutRule {
  /** The consecutive failure that locks (`Policy.maxFailures`). */
  readonly maxFailures: number;
  /** A lock is lifted this long after it was set; 0: only by an administrator. */
  readonly releaseMs: number;
}

/** A subject's count as kept by a store. `lockedAt`: when it locked (undefined for a lock from before 0.3). */
export interface LockoutState {
  failures: number;
  locked: boolean;
  lockedAt?: number | undefined;
}

/** A lock whose time has passed. */
function released(s: LockoutState, rule: LockoutRule, now: number): boolean {
  return s.locked && rule.releaseMs > 0 && s.lockedAt !== undefined && s.lockedAt <= now - rule.releaseMs;
}

/** Locked now: locked, and not yet released by time. */
export function isLocked(s: LockoutState, rule: LockoutRule, now: number): boolean {
  return s.locked && !released(s, rule, now);
}

/** Counts one failure on `s`, in place; a released lock starts the count again. */
export function countFailure(s: LockoutState, rule: LockoutRule, now: number): void {
  const again = released(s, rule, now);
  const failures = again ? 1 : s.failures + 1;
  const locked = again ? failures >= rule.maxFailures : s.locked || failures >= rule.maxFailures;
  if (locked && (again || !s.locked)) s.lockedAt = now;
  if (!locked) s.lockedAt = undefined;
  s.failures = failures;
  s.locked = locked;
}

/** Clears the count (a success on a subject not locked now; a released lock goes too). */
export function clearFailures(s: LockoutState): void {
  s.failures = 0;
  s.locked = false;
  s.lockedAt = undefined;
}

/**
 * The same rule in SQL, for a row with `failures`, `locked`, `locked_at` (qualified by `row` when given), with
 * the placeholders of the statement's maximum, time and release. SQLite and PostgreSQL both read it (SQLite's
 * booleans are 0 and 1).
 */
export function lockoutSql(q: { max: string; now: string; release: string }, row?: string) {
  const r = row ? `${row}.` : "";
  // Typed once here: PostgreSQL would otherwise infer INTEGER for a time in ms (SQLite reads the same CAST).
  const p = { max: q.max, now: `CAST(${q.now} AS BIGINT)`, release: `CAST(${q.release} AS BIGINT)` };
  const released = `(${r}locked AND ${p.release} > 0 AND ${r}locked_at IS NOT NULL AND ${r}locked_at <= ${p.now} - ${p.release})`;
  /** The new values of failures, locked and locked_at when one failure is counted. */
  const failures = `CASE WHEN ${released} THEN 1 ELSE ${r}failures + 1 END`;
  const locked = `CASE WHEN ${released} THEN 1 >= ${p.max} ELSE ${r}locked OR ${r}failures + 1 >= ${p.max} END`;
  const lockedAt = `CASE WHEN ${released} THEN CASE WHEN 1 >= ${p.max} THEN ${p.now} END
    WHEN ${r}locked THEN ${r}locked_at WHEN ${r}failures + 1 >= ${p.max} THEN ${p.now} END`;
  return {
    /** Locked now. */
    live: `(${r}locked AND NOT ${released})`,
    failures,
    locked,
    lockedAt,
    /** The SET list that counts one failure. */
    fail: `failures = ${failures}, locked = ${locked}, locked_at = ${lockedAt}`,
  };
}
