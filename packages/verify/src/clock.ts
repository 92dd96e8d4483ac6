/**
 * The time TOTP codes are judged at (docs/architecture.md §6, "Server clock steps"). A server's wall clock can
 * step — a VM resumed, an NTP step, an operator's `date` — and a step of +120 s used to make every honest TOTP
 * code fail and count towards the lockout. The steady clock runs on the monotonic clock, so a step does not move
 * it, and follows the wall clock only at a bounded rate (`slew`, 1 %: a 120 s step is absorbed over 3 h 20 min),
 * so the slow corrections NTP makes (parts per million) pass through and it never goes backwards.
 */
export function steadyClock(
  options: { wall?: () => number; monotonic?: () => number; slew?: number } = {},
): () => number {
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
