import { argumentError, expectOneOf, expectRecord } from "@capkit/core";

/**
 * One diagnosis step as data (https://github.com/capkit/capkit/blob/main/docs/architecture.md §7: diagnostics as a
 * library, the CLI only prints): what was checked, the
 * verdict, what was found, and what to do about it. `data` carries the machine-readable findings.
 */
export type Verdict = "ok" | "warn" | "fail";
const VERDICTS: readonly Verdict[] = ["ok", "warn", "fail"];

/** One diagnosis step as data. */
export interface Check {
  /** A stable identifier: pcscd, readers, reader, atr, application, pin-tries, pin-pad, hid, versions… */
  readonly id: string;
  /** What the line is about, for people ("card in Gemalto PC Twin Reader 00 00: PIN tries"). */
  readonly check: string;
  /** ok, warn or fail. */
  readonly verdict: Verdict;
  /** What was found, for people. */
  readonly detail: string;
  /** What to do about it. */
  readonly hint?: string;
  /** The findings, for programs. */
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
  if (!Array.isArray(checks as unknown))
    throw argumentError("INPUT_INVALID", "the checks", "an array of checks", checks);
  checks.forEach((c: unknown, i) => {
    expectRecord(c, `check ${i + 1}`, "a check ({ id, verdict, … })");
    expectOneOf((c as Check).verdict, `check ${i + 1}'s verdict`, VERDICTS);
  });
  if (checks.some((c) => c.verdict === "fail")) return "fail";
  if (checks.some((c) => c.verdict === "warn")) return "warn";
  return "ok";
}
