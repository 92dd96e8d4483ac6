import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/index.js";
import { RFC8785 } from "./vectors.js";

describe("canonical JSON against RFC 8785's examples", () => {
  it("§3.2.3: members sorted by UTF-16 code units", () => {
    expect(canonicalJson(JSON.parse(RFC8785.section_3_2_3.input))).toBe(RFC8785.section_3_2_3.output);
  });
  it("§3.2.2: string escapes and literals as the RFC writes them; its non-integer numbers refused", () => {
    const input = JSON.parse(RFC8785.section_3_2_2.input);
    expect(() => canonicalJson(input)).toThrow(expect.objectContaining({ code: "CANONICAL_JSON_INVALID" }));
    const { numbers: _, ...inSubset } = input;
    const expected = JSON.parse(RFC8785.section_3_2_2.output);
    delete expected.numbers;
    // JCS writes each member on its own: the RFC's output without "numbers" is the output of the input without it.
    const rfcText = RFC8785.section_3_2_2.output.replace(/"numbers":\[[^\]]*\],/, "");
    expect(canonicalJson(inSubset)).toBe(rfcText);
    expect(JSON.parse(rfcText)).toEqual(expected);
  });
});

describe("canonical JSON refusals", () => {
  it("refuses what is outside the subset", () => {
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 40; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    for (const bad of [
      1.5,
      2 ** 53,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      () => 1,
      new Date(0),
      { a: undefined },
      "\ud800",
      { "\udc00": 1 },
      new Array(3), // holes
      deep,
      10n,
    ])
      expect(() => canonicalJson(bad), String(bad)).toThrow(
        expect.objectContaining({ code: "CANONICAL_JSON_INVALID" }),
      );
  });
  it("is JSON.stringify with sorted members for every value of the subset, and parses back equal", () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.boolean(),
        fc.maxSafeInteger(),
        fc.string({ unit: "grapheme" }),
        tie("a"),
        tie("o"),
      ),
      a: fc.array(tie("v"), { maxLength: 4 }),
      o: fc.dictionary(fc.string({ unit: "grapheme", maxLength: 6 }), tie("v"), { maxKeys: 4 }),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});
