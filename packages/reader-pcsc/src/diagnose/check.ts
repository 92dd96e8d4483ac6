/**
 * One diagnosis step as data (docs/architecture.md §7: diagnostics as a library, the CLI only prints): what was checked, the
 * verdict, what was found, and what to do about it. `data` carries the machine-readable findings.
 */
export type Verdict = "ok" | "warn" | "fail";

export interface Check {
  /** A stable identifier: pcscd, readers, reader, atr, application, pin-tries, pin-pad, hid, versions… */
  readonly id: string;
  /** What the line is about, for people ("card in Gemalto PC Twin Reader 00 00: PIN tries"). */
  readonly check: string;
  readonly verdict: Verdict;
  readonly detail: string;
  readonly hint?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export function check(
  id: string,
  what: string,
  verdict: Verdict,
  detail: string,
  extra: { hint?: string; data?: Record<string, unknown> } = {},
): Check {
  return {
    id,
    check: what,
    verdict,
    detail,
    ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
    ...(extra.data !== undefined ? { data: extra.data } : {}),
  };
}

/** The worst verdict of a diagnosis: what its exit status reports. */
export function worstVerdict(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.verdict === "fail")) return "fail";
  if (checks.some((c) => c.verdict === "warn")) return "warn";
  return "ok";
}
