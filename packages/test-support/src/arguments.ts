import { CapkitError, type CapkitErrorCode, describeValue } from "@capkit/core";
import fc from "fast-check";
import { expect, it } from "vitest";

/**
 * What a plain-JavaScript caller can pass (issue 21), and the property every public function of a package must
 * have: called with one argument (or one field of an argument) replaced by such a value, unless that value
 * happens to be valid there, it throws (or rejects with) a CapkitError with the expected code, whose message
 * names that argument and tells the truth about what was given — never a result. Each package lists its
 * functions as {@link ArgumentCase}s and runs {@link checkArguments} over them.
 */

/** Wrong types, wrong units, NaN, objects where numbers go: what plain JavaScript gets wrong. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    true,
    false,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    0.5,
    2 ** 40,
    1_733_400_000_000, // Date.now() on 5 December 2024
    1e21,
    "",
    "59",
    "1234",
    "SHA1",
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    [],
    {},
    new Date(Number.NaN),
    new Date(-1000),
    new Uint8Array(0),
    new Uint8Array(3),
    new Uint8Array(16),
    10n,
    Symbol("s"),
    () => 1,
  ),
  fc.string({ maxLength: 12 }),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 40 }),
);

/** One argument, or one field of an argument, and what is true of its refusals. */
export interface ArgumentPosition {
  /** Which argument; with `field`, that field of it. */
  readonly arg: number;
  readonly field?: string;
  /** The name the message must carry. */
  readonly names: RegExp;
  readonly codes: readonly CapkitErrorCode[];
  /** Values that are valid there (not tested: the call may succeed). */
  readonly valid: (x: unknown) => boolean;
  /**
   * For a whole argument that holds fields or items: the codes those may be refused with. An object or array
   * given there is refused for what is wrong inside it (a field missing, an item of the wrong type), not as
   * itself.
   */
  readonly inner?: readonly CapkitErrorCode[];
}

/** One public function (or constructor, or method chain) and the positions of its arguments to try. */
export interface ArgumentCase {
  readonly name: string;
  /** Valid arguments, fresh for each call. */
  readonly args: () => unknown[];
  /** Calls the function; may return a promise (an async function's refusal is a rejection). */
  readonly call: (...args: unknown[]) => unknown;
  readonly positions: readonly ArgumentPosition[];
  /**
   * Checked after each refusal, e.g. that no APDU reached the card: a refusal must come before anything is
   * spent.
   */
  readonly afterRefusal?: () => void;
}

/** Helpers for `valid`. */
export const optional = (valid: (x: unknown) => boolean) => (x: unknown) => x === undefined || valid(x);
export const integer = (min: number, max: number) => (x: unknown) =>
  typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;
export const bytes =
  (min: number, max = Number.POSITIVE_INFINITY) =>
  (x: unknown) =>
    x instanceof Uint8Array && x.length >= min && x.length <= max;
export const oneOf =
  (...values: unknown[]) =>
  (x: unknown) =>
    values.includes(x);
export const isString = (x: unknown) => typeof x === "string";
export const matching = (re: RegExp) => (x: unknown) => typeof x === "string" && re.test(x);
export const options = (x: unknown) =>
  x === undefined || (typeof x === "object" && x !== null && !Array.isArray(x));
export const never = () => false;

/** Calls `f` with `args` as plain JavaScript does: no type checking. */
export const call =
  (f: (...a: never[]) => unknown) =>
  (...args: unknown[]) =>
    Reflect.apply(f, undefined, args);
/** `new C(...args)`, as plain JavaScript does. */
export const construct =
  <T>(C: new (...a: never[]) => T) =>
  (...args: unknown[]) =>
    Reflect.construct(C, args);

/** The arguments with one position replaced by `x`. */
function withValue(c: ArgumentCase, p: ArgumentPosition, x: unknown): unknown[] {
  const args = c.args();
  if (p.field === undefined) args[p.arg] = x;
  else {
    const o = { ...(args[p.arg] as Record<string, unknown>) };
    if (x === undefined) delete o[p.field];
    else o[p.field] = x;
    args[p.arg] = o;
  }
  return args;
}

/** The error `run` throws or rejects with; a failure if it returns. */
async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  throw new Error("returned instead of throwing");
}

/** Defines, in the calling `describe` block, one test for each case's valid call and one per position. */
export function checkArguments(cases: readonly ArgumentCase[], numRuns = 150): void {
  for (const c of cases) {
    it(`${c.name}: the valid arguments work`, async () => {
      await c.call(...c.args());
    });
    for (const p of c.positions) {
      const where = p.field === undefined ? `argument ${p.arg + 1}` : `argument ${p.arg + 1}.${p.field}`;
      it(`${c.name}, ${where}`, async () => {
        await fc.assert(
          fc.asyncProperty(wrongValue, async (x) => {
            fc.pre(!p.valid(x));
            const e = await thrown(() => c.call(...withValue(c, p, x)));
            c.afterRefusal?.();
            expect(e).toBeInstanceOf(CapkitError);
            const err = e as CapkitError;
            if (
              p.inner !== undefined &&
              (Array.isArray(x) || Object.prototype.toString.call(x) === "[object Object]")
            ) {
              // Refused for its contents: a typed error of the argument's family, saying what inside is wrong.
              expect([...p.codes, ...p.inner], err.message).toContain(err.code);
              return;
            }
            expect(p.codes, err.message).toContain(err.code);
            expect(err.message).toMatch(p.names);
            // "got …" says what was given, by its type (or, for a time, its number): never something else.
            const got = /; got (.+)$/.exec(err.message)?.[1];
            if (got !== undefined)
              expect([describeValue(x), typeof x === "number" ? String(x) : ""]).toContain(got);
            if (/ is empty$/.test(err.message)) expect(x).toHaveLength(0);
          }),
          { numRuns },
        );
      });
    }
  }
}
