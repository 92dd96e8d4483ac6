/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { describeValue } from "@capkit/core";
import type { ArgumentPosition } from "@capkit/test-support/arguments";
import type { Page } from "playwright-core";
import { expect } from "vitest";

/**
 * The elements' doors as plain JavaScript in a page meets them (issue 21): each public method or registry
 * function called with one argument, or one field of it, replaced by a value of the wrong type. What is true of
 * every refusal is @capkit/test-support/arguments' property — a CapkitError with the expected code, its message
 * naming the argument and saying truly what was given — checked here on values the page builds itself (a
 * Symbol, a function or a bigint cannot be sent to it).
 */

/** What plain JavaScript may hand an element; the same function builds them in Node (to judge) and in the page. */
export const wrongValues = (): unknown[] => [
  undefined,
  null,
  true,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  0.5,
  2 ** 40,
  1_733_400_000_000,
  "",
  "59",
  "1234",
  "SHA1",
  "bad id!",
  [],
  [1, 2],
  {},
  { a: 1 },
  new Date(Number.NaN),
  new Uint8Array(3),
  10n,
  Symbol("s"),
  () => 1,
];

/**
 * One argument (or a field of it) of a method of an element on the page, or of a function the page exposes:
 * where it is, and what is true of its refusals (as in @capkit/test-support/arguments).
 */
export interface Door extends ArgumentPosition {
  /** The element (a CSS selector) whose method is called, or the global object holding the function. */
  readonly target: { readonly element: string } | { readonly global: string };
  readonly method: string;
  /** Valid arguments (JSON). */
  readonly args: readonly unknown[];
}

/**
 * A `define…Elements(registry)` function the page exposes on `window[global]`: anything but a registry (or
 * nothing, the page's own) refused.
 */
export function registryDoor(global: string, method: string): Door {
  return {
    target: { global },
    method,
    args: [],
    arg: 0,
    names: /^the registry must be a CustomElementRegistry/,
    codes: ["INPUT_INVALID"],
    valid: (x) => x === undefined,
  };
}

interface Outcome {
  readonly i: number;
  readonly returned?: true;
  readonly name?: string | undefined;
  readonly code?: string | undefined;
  readonly message?: string | undefined;
}

/** Calls the door with every wrong value in the page and judges each refusal in Node. */
export async function checkDoor(page: Page, door: Door): Promise<void> {
  const values = await page.evaluateHandle(wrongValues);
  const { target, method, args, arg } = door;
  const outcomes = await page.evaluate(
    async ([values, d]) => {
      const out: Outcome[] = [];
      const holder = (
        "element" in d.target
          ? document.querySelector(d.target.element)
          : (window as unknown as Record<string, unknown>)[d.target.global]
      ) as Record<string, (...a: unknown[]) => unknown>;
      for (let i = 0; i < values.length; i++) {
        const a = JSON.parse(JSON.stringify(d.args)) as unknown[];
        if (d.field === undefined) a[d.arg] = values[i];
        else {
          const o = { ...(a[d.arg] as Record<string, unknown>) };
          if (values[i] === undefined) delete o[d.field];
          else o[d.field] = values[i];
          a[d.arg] = o;
        }
        try {
          await holder[d.method]!(...a);
          out.push({ i, returned: true });
        } catch (e) {
          const err = e as { name?: string; code?: string; message?: string };
          out.push({ i, name: err.name, code: err.code, message: String(err.message) });
        }
      }
      return out;
    },
    [values, { target, method, args, arg, field: door.field }] as const,
  );
  const wrong = wrongValues();
  for (const o of outcomes) {
    const x = wrong[o.i];
    if (door.valid(x)) continue;
    const where = `${method}, argument ${arg + 1}${door.field ? `.${door.field}` : ""} = ${describeValue(x)}`;
    expect(o.returned, `${where}: returned`).toBeUndefined();
    expect(o.name, `${where}: ${o.message}`).toBe("CapkitError");
    const record = Object.prototype.toString.call(x) === "[object Object]" || Array.isArray(x);
    if (door.inner !== undefined && record) {
      expect([...door.codes, ...door.inner] as (string | undefined)[], `${where}: ${o.message}`).toContain(
        o.code,
      );
      continue;
    }
    expect(door.codes as readonly (string | undefined)[], `${where}: ${o.message}`).toContain(o.code);
    expect(o.message, where).toMatch(door.names);
    const got = /; got (.+)$/.exec(o.message ?? "")?.[1];
    if (got !== undefined) expect(got, where).toBe(describeValue(x));
  }
}
