import { CapkitError } from "@capkit/core";

/**
 * The door's checks that `Approvals`, `SecurityEvents` and `Grants` share: what a caller passes as options, a
 * page size, a place to page from, a reason in words. Each refuses a wrong type or value with INPUT_INVALID
 * before any store is asked anything — `null` is not "absent", a string is not a number, NaN is not a size.
 */

/** The largest page any list answers. */
export const MAX_PAGE = 1000;

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

/** Options given as an object, or none (undefined): anything else is bad input. */
export function checkOptions<T extends object>(value: T | undefined, what = "the options"): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(`${what} are an object`);
  return value;
}

/** A page size: a whole number of 1 or more (larger ones answer `MAX_PAGE`), `fallback` when absent. */
export function pageLimit(value: unknown, fallback = 100): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    throw invalid(`a page size is a whole number from 1 (at most ${MAX_PAGE} are answered)`);
  return Math.min(MAX_PAGE, value);
}

/** A place to page from (a receipt's place, an event's seq, a grant's epoch): a whole number, 0 or more. */
export function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw invalid(`${what} is a whole number (0 or more)`);
  return value;
}

const WORDS = /^[^\p{Cc}]{1,200}$/u;

/** A reason or a cause, for the audit trail: 1–200 characters, no control characters. */
export function checkWords(value: unknown, what: string): string {
  if (typeof value !== "string" || !WORDS.test(value))
    throw invalid(`${what} is 1–200 characters, no control characters`);
  return value;
}
