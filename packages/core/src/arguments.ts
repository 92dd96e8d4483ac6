import { CapkitError, type CapkitErrorCode } from "./errors.js";

/*
 * The door of every capkit package: what a plain-JavaScript caller can get wrong (a type, a unit, NaN, an
 * object where a number goes) is refused with a typed error that names the argument and says what was
 * expected — never turned into a wrong answer (a string secret once became a garbage otpauth URI,
 * milliseconds a TOTP code for the year 57,000). Messages describe what was given by its type only: the value
 * may be a secret. The public functions call these at their entry, once per call, outside loops.
 */

/**
 * What a value is, for an error message: its type, never its content (`"a string"`, `"NaN"`, `"an array"`,
 * `"a Date before 1970"`).
 *
 * @example
 * ```ts
 * describeValue("GEZDGNBV"); // "a string"
 * describeValue(Number.NaN); // "NaN"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return `${value}`;
    return "a number";
  }
  if (typeof value === "string") return value === "" ? "an empty string" : "a string";
  if (typeof value === "bigint") return "a bigint";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? "an invalid Date" : ms < 0 ? "a Date before 1970" : "a Date";
  }
  if (value instanceof Uint8Array) return "a Uint8Array";
  return "an object";
}

/**
 * A typed error: `<what> must be <expected>; got <got>`, with `what` (as `argument`) and `expected` in
 * `details`. `got` is {@link describeValue}'s when not given: pass a text only when the value cannot be a
 * secret.
 *
 * @param code - the error's code (`INPUT_INVALID` unless a family has its own, e.g. `OTP_SECRET_INVALID`)
 * @param what - the argument as the caller knows it (`"the counter"`, `"key 1's secret"`)
 * @param expected - what it must be (`"a whole number from 0 to 9007199254740991"`)
 * @param value - what was given; only its type reaches the message
 * @param got - what to say was given instead of its type
 *
 * @example
 * ```ts
 * throw argumentError("INPUT_INVALID", "the counter", "a whole number", "5");
 * // CapkitError INPUT_INVALID: the counter must be a whole number; got a string
 * ```
 */
export function argumentError(
  code: CapkitErrorCode,
  what: string,
  expected: string,
  value: unknown,
  got = describeValue(value),
): CapkitError {
  return new CapkitError(code, `${what} must be ${expected}; got ${got}`, {
    details: { argument: what, expected },
  });
}

/**
 * Bytes: a Uint8Array (Node's Buffer is one). Strings are refused, never decoded by guess.
 *
 * @returns the value, typed
 * @throws `code` (`INPUT_INVALID` by default) for anything else
 */
export function expectBytes(
  value: unknown,
  what: string,
  code: CapkitErrorCode = "INPUT_INVALID",
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw argumentError(code, what, "bytes (a Uint8Array)", value);
  return value;
}

/**
 * A string.
 *
 * @returns the value, typed
 * @throws `code` (`INPUT_INVALID` by default) for anything else
 */
export function expectString(value: unknown, what: string, code: CapkitErrorCode = "INPUT_INVALID"): string {
  if (typeof value !== "string") throw argumentError(code, what, "a string", value);
  return value;
}

/**
 * A whole number in [min, max] (a number, not a numeric string: `"5" + 1` is `"51"` in JavaScript).
 *
 * @returns the value, typed
 * @throws `code` (`INPUT_INVALID` by default) for anything else, NaN and fractions included
 */
export function expectInteger(
  value: unknown,
  what: string,
  min: number,
  max: number,
  code: CapkitErrorCode = "INPUT_INVALID",
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw argumentError(code, what, `a whole number from ${min} to ${max}`, value);
  return value;
}

/**
 * Whether a value is a record: an object of fields, not an array, a Date, bytes or a Map (whose fields would
 * all read as missing and be reported as such, which is not what was wrong). Objects of any realm and class
 * instances pass.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  // The common case first (a literal); then other realms and class instances, by their tag.
  return (
    proto === Object.prototype ||
    proto === null ||
    Object.prototype.toString.call(value) === "[object Object]"
  );
}

/**
 * An options object: a record, or nothing (then every option takes its default).
 *
 * @returns the record, or `{}` for nothing
 * @throws `code` (`INPUT_INVALID` by default) for anything else (an array, a string, null…)
 */
export function expectOptions<T extends object>(
  value: unknown,
  what: string,
  code: CapkitErrorCode = "INPUT_INVALID",
): Partial<T> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw argumentError(code, what, "an object", value);
  return value as Partial<T>;
}

/**
 * A record that must be given (no default).
 *
 * @param expected - what to call it in the message (`"an object"` by default)
 * @throws `code` (`INPUT_INVALID` by default) for anything but a record
 */
export function expectRecord<T extends object>(
  value: unknown,
  what: string,
  expected = "an object",
  code: CapkitErrorCode = "INPUT_INVALID",
): T {
  if (!isRecord(value)) throw argumentError(code, what, expected, value);
  return value as T;
}

/**
 * `true`, `false`, or nothing (an option left to its default).
 *
 * @throws `INPUT_INVALID` for anything else (`"yes"`, `1`…)
 */
export function expectBoolean(value: unknown, what: string): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean")
    throw argumentError("INPUT_INVALID", what, "true or false", value);
  return value;
}

/**
 * One of a fixed set of strings, spelt exactly.
 *
 * @throws `code` (`INPUT_INVALID` by default), listing the allowed values, for anything else
 */
export function expectOneOf<const T extends string>(
  value: unknown,
  what: string,
  allowed: readonly T[],
  code: CapkitErrorCode = "INPUT_INVALID",
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    throw argumentError(
      code,
      what,
      allowed
        .map((a) => `"${a}"`)
        .join(", ")
        .replace(/, ([^,]*)$/, " or $1"),
      value,
    );
  return value as T;
}
