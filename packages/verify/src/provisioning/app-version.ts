import { CapkitError } from "@capkit/core";

/**
 * App versions as the app reports them: 1 to 4 dot-separated numbers (`5`, `5.2`, `5.2.0`, `5.2.0.117`),
 * compared number by number, a missing number counting as 0 (`5.2` = `5.2.0`). Anything else is refused at
 * the door: a floor compared as text would put `10.0` before `9.0`.
 */
const APP_VERSION = /^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$/;

/**
 * The version's numbers; INPUT_INVALID when it is not 1–4 dot-separated numbers.
 *
 * @param version - the version as the app reports it
 * @param what - how the error names it (default "an app version")
 *
 * @example
 * ```ts
 * parseAppVersion("5.2.0"); // [5, 2, 0]
 * parseAppVersion("5.2-beta"); // INPUT_INVALID
 * ```
 */
export function parseAppVersion(version: unknown, what = "an app version"): number[] {
  if (typeof version !== "string" || !APP_VERSION.test(version))
    throw new CapkitError("INPUT_INVALID", `${what} is 1 to 4 numbers separated by dots (e.g. 5.2.0)`);
  return version.split(".").map(Number);
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`. */
export function compareAppVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `version` (as bound on an instance, possibly malformed) is below `floor`; malformed counts as below. */
export function belowFloor(version: string, floor: readonly number[] | undefined): boolean {
  if (floor === undefined) return false;
  if (!APP_VERSION.test(version)) return true;
  return compareAppVersions(version.split(".").map(Number), floor) < 0;
}
