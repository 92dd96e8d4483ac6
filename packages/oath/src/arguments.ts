import { CapkitError, type CapkitErrorCode } from "@capkit/core";

/**
 * The door of @capkit/oath: what a plain-JavaScript caller can get wrong (a type, a unit, NaN, an object where
 * a number goes) is refused here with a typed error that names the argument and says what was expected —
 * never turned into a wrong code (issue 21: a string secret once became a garbage URI, milliseconds a code for
 * the year 57,000). Messages describe what was given by its type only: the value may be a secret.
 *
 * Internal to the package: the public functions call these at their entry, once per call, outside loops.
 */

/** What a value is, for an error message: its type, never its content. */
export function describe(value: unknown): string {
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
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  if (value instanceof Uint8Array) return "a Uint8Array";
  return "an object";
}

/**
 * A typed error: `<what> must be <expected>; got <got>`, with `what` and `expected` in `details`. `got` is
 * {@link describe}'s when not given: pass a value only when it cannot be a secret.
 */
export function wrong(
  code: CapkitErrorCode,
  what: string,
  expected: string,
  value: unknown,
  got = describe(value),
): CapkitError {
  return new CapkitError(code, `${what} must be ${expected}; got ${got}`, {
    details: { argument: what, expected },
  });
}

/** Bytes: a Uint8Array (Node's Buffer is one). Strings are refused, never decoded by guess. */
export function expectBytes(
  value: unknown,
  what: string,
  code: CapkitErrorCode = "INPUT_INVALID",
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrong(code, what, "bytes (a Uint8Array)", value);
  return value;
}

export function expectString(value: unknown, what: string, code: CapkitErrorCode = "INPUT_INVALID"): string {
  if (typeof value !== "string") throw wrong(code, what, "a string", value);
  return value;
}

/** A whole number in [min, max] (a number, not a numeric string: "5" + 1 is "51" in JavaScript). */
export function expectInteger(
  value: unknown,
  what: string,
  min: number,
  max: number,
  code: CapkitErrorCode = "INPUT_INVALID",
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw wrong(code, what, `a whole number from ${min} to ${max}`, value);
  return value;
}

/** An options object: a plain object or nothing (an array or a string is a mistake). */
export function expectOptions<T extends object>(value: unknown, what: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw wrong("INPUT_INVALID", what, "an object", value);
  return value as Partial<T>;
}

export function expectBoolean(value: unknown, what: string): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean")
    throw wrong("INPUT_INVALID", what, "true or false", value);
  return value;
}

/** One of a fixed set of strings, spelt exactly. */
export function expectOneOf<const T extends string>(
  value: unknown,
  what: string,
  allowed: readonly T[],
  code: CapkitErrorCode = "INPUT_INVALID",
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    throw wrong(
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
