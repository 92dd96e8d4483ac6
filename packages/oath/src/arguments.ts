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
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? "an invalid Date" : ms < 0 ? "a Date before 1970" : "a Date";
  }
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

/**
 * A record: an object of fields, not an array, a Date, bytes or a Map (whose fields would all read as missing
 * and be reported as such, which is not what was wrong). Objects of any realm and class instances pass.
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

/** An options object: a record, or nothing (then every option takes its default). */
export function expectOptions<T extends object>(
  value: unknown,
  what: string,
  code: CapkitErrorCode = "INPUT_INVALID",
): Partial<T> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw wrong(code, what, "an object", value);
  return value as Partial<T>;
}

/** A record that must be given (no default). */
export function expectRecord<T extends object>(
  value: unknown,
  what: string,
  expected = "an object",
  code: CapkitErrorCode = "INPUT_INVALID",
): T {
  if (!isRecord(value)) throw wrong(code, what, expected, value);
  return value as T;
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
