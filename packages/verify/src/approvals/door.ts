import { argumentError, CapkitError, isRecord } from "@capkit/core";
import { checkSource } from "../requests.js";

/**
 * The door's checks that `Approvals`, `SecurityEvents`, `Grants` and the `Provisioner` share: what a caller
 * passes as options (to a method, or to make the class: its stores, its clock, its actor), a page size, a place
 * to page from, a reason in words. Each refuses a wrong type or value with INPUT_INVALID before any store is
 * asked anything — `null` is not "absent", a string is not a number, NaN is not a size, bytes or a Date are
 * not an object of options.
 */

/** The largest page any list answers. */
export const MAX_PAGE = 1000;

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

/** Options given as an object, or none (undefined): anything else is bad input. */
export function checkOptions<T extends object>(value: T | undefined, what = "the options"): Partial<T> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalid(`${what} are an object`);
  return value;
}

/** A request given as an object of fields (not bytes, a Date or an array), or INPUT_INVALID naming it. */
export function checkRequest(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(what);
  return value;
}

/**
 * What a class is made with: an object of options whose stores have the methods the class calls, a clock
 * (`now`, milliseconds since the epoch: a function, not a time) and an actor for the audit trail. Checked when
 * the class is made, so that a wrong option is an error there, not a TypeError in a customer's request.
 *
 * @param stores - each option that must be an object with methods: its name, what it is, the methods called
 */
export function checkClassOptions(
  options: unknown,
  what: string,
  stores: readonly (readonly [name: string, kind: string, methods: readonly (string | symbol)[]])[],
): Record<string, unknown> {
  if (!isRecord(options)) throw argumentError("INPUT_INVALID", what, "an object", options);
  for (const [name, kind, methods] of stores) {
    const v = options[name];
    if (
      typeof v !== "object" ||
      v === null ||
      methods.some((m) => typeof (v as Record<string | symbol, unknown>)[m] !== "function")
    )
      throw argumentError("INPUT_INVALID", `options.${name}`, kind, v);
  }
  const now = options["now"];
  if (now !== undefined && typeof now !== "function")
    throw argumentError(
      "INPUT_INVALID",
      "options.now",
      "a function returning milliseconds since the epoch",
      now,
    );
  checkSource(options["actor"], "options.actor");
  return options;
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
