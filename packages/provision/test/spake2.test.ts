import { fromHex, toHex } from "@capkit/core";
import { p256 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { spake2Confirm, spake2Finish, spake2Start } from "../src/index.js";
import { RFC9382 } from "./vectors.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => toHex(b).toLowerCase();
const scalar = (h: string) => BigInt(`0x${h}`);

describe("RFC 9382 Appendix B (SPAKE2-P256-SHA256-HKDF-HMAC)", () => {
  for (const v of RFC9382.vectors) {
    it(`A='${v.A}', B='${v.B}': shares, TT, keys and confirmations, both roles`, () => {
      const w = scalar(v.w);
      const a = spake2Start("A", w, scalar(v.x));
      const b = spake2Start("B", w, scalar(v.y));
      expect(hex(a.share)).toBe(v.pA);
      expect(hex(b.share)).toBe(v.pB);
      const context = { idA: utf8(v.A), idB: utf8(v.B) };
      const ka = spake2Finish(a, w, b.share, context);
      const kb = spake2Finish(b, w, a.share, context);
      for (const k of [ka, kb]) {
        expect(hex(k.transcript)).toBe(v.TT);
        expect(hex(k.transcript)).toContain(v.K);
        expect(hex(k.ke)).toBe(v.Ke);
        expect(hex(k.kcA)).toBe(v.KcA);
        expect(hex(k.kcB)).toBe(v.KcB);
        expect(hex(k.confirmA)).toBe(v.A_conf);
        expect(hex(k.confirmB)).toBe(v.B_conf);
      }
      expect(spake2Confirm(ka, "A", kb.confirmB)).toBe(true);
      expect(spake2Confirm(kb, "B", ka.confirmA)).toBe(true);
    });
  }
});

describe("SPAKE2 refusals", () => {
  const w = 12345678901234567890n;
  const a = spake2Start("A", w);
  const ctx = { idA: utf8("a"), idB: utf8("b") };
  it("refuses shares that are not uncompressed points of P-256, the identity, or a masked identity", () => {
    const bad = [
      new Uint8Array(0),
      new Uint8Array(65),
      fromHex(`04${"ff".repeat(64)}`),
      fromHex(RFC9382.M), // compressed
      fromHex(`00${"00".repeat(64)}`),
    ];
    for (const share of bad)
      expect(() => spake2Finish(a, w, share, ctx)).toThrow(
        expect.objectContaining({ code: "PAKE_INPUT_INVALID" }),
      );
    // pB = w·N, a valid point: K would be the identity whatever x is.
    const wN = p256.Point.fromHex(RFC9382.N).multiply(w).toBytes(false);
    expect(() => spake2Finish(a, w, wN, ctx)).toThrow(
      expect.objectContaining({ code: "PAKE_INPUT_INVALID" }),
    );
  });
  it("refuses w and scalars outside [1, p−1]", () => {
    expect(() => spake2Start("A", 0n)).toThrow(expect.objectContaining({ code: "PAKE_INPUT_INVALID" }));
    expect(() => spake2Start("A", w, 0n)).toThrow(expect.objectContaining({ code: "PAKE_INPUT_INVALID" }));
  });
});

describe("SPAKE2 properties", () => {
  const w32 = fc.bigInt({ min: 1n, max: 2n ** 255n });
  it("the same w agrees; random different passwords never agree and fail key confirmation", () => {
    fc.assert(
      fc.property(w32, w32, fc.uint8Array({ maxLength: 16 }), (w1, w2, aad) => {
        const ctx = { idA: utf8("device"), idB: utf8("bank"), aad };
        const a = spake2Start("A", w1);
        const b = spake2Start("B", w2);
        const ka = spake2Finish(a, w1, b.share, ctx);
        const kb = spake2Finish(b, w2, a.share, ctx);
        const agree = hex(ka.ke) === hex(kb.ke);
        expect(agree).toBe(w1 === w2);
        expect(spake2Confirm(kb, "B", ka.confirmA)).toBe(w1 === w2);
        expect(spake2Confirm(ka, "A", kb.confirmB)).toBe(w1 === w2);
      }),
      { numRuns: 40 },
    );
  });
  it("different AAD on each side fails key confirmation", () => {
    const w = 77n;
    const a = spake2Start("A", w);
    const b = spake2Start("B", w);
    const ka = spake2Finish(a, w, b.share, { idA: utf8("a"), idB: utf8("b"), aad: utf8("x") });
    const kb = spake2Finish(b, w, a.share, { idA: utf8("a"), idB: utf8("b"), aad: utf8("y") });
    expect(hex(ka.ke)).toBe(hex(kb.ke));
    expect(spake2Confirm(kb, "B", ka.confirmA)).toBe(false);
  });
});
