import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { atcBitMap, atcConstraint, candidateAtcs } from "../src/cap/atc-bits.js";

/**
 * Golden values worked by hand from the IPB rule (EMV CAP: the IPB selects bits of [PSN] ‖ CID ‖ ATC ‖ AC ‖
 * IAD, read MSB first; the first selected bit is the code's most significant). Each case names the bytes.
 */
describe("which ATC bits a CAP code carries", () => {
  it("IPB 00 00 FF (CID, ATC high, ATC low): the code is the ATC's low byte", () => {
    const map = atcBitMap("0000FF", "80");
    expect(map.mask).toBe(0x00ff);
    expect(atcConstraint(map, 0xa5)).toEqual({ mask: 0x00ff, value: 0xa5 });
  });

  it("with the PSN in the IPB (IAF bit 0x40) every position moves one byte right", () => {
    // Data = PSN ‖ CID ‖ ATC(2): IPB 00 00 00 F0 selects the high nibble of the ATC's low byte.
    const map = atcBitMap("000000F0", "C0");
    expect(map.mask).toBe(0x00f0);
    expect(atcConstraint(map, 0b1010)).toEqual({ mask: 0x00f0, value: 0xa0 });
  });

  it("ATC bits then AC bits: the ATC bits are the code's high-order bits; candidates agree with them", () => {
    // IPB 00 00 0F F0: ATC low nibble (code bits 7..4), then the AC's first nibble (code bits 3..0).
    const map = atcBitMap("00000FF0", "80");
    const c = atcConstraint(map, 0x5c);
    expect(c).toEqual({ mask: 0x000f, value: 0x0005 });
    expect(candidateAtcs(0x10, 0x40, c)).toEqual([0x15, 0x25, 0x35, 0x45]);
    expect(candidateAtcs(0xfff0, 0x100, c)).toEqual([0xfff5]); // never past 0xFFFF
  });

  it("the stepped scan finds exactly the ATCs of the window that agree, for any mask and value", () => {
    // The rule itself, ATC by ATC: the definition the stepped scan must match.
    const naive = (last: number, window: number, mask: number, value: number) => {
      const out: number[] = [];
      for (let atc = last + 1; atc <= Math.min(0xffff, last + window); atc++)
        if ((atc & mask) === value) out.push(atc);
      return out;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 0x1ff, 0xff, 0xffff, 0xf0, 0x0f)),
        fc.integer({ min: 0, max: 0xffff }),
        (last, window, mask, v) => {
          const c = { mask, value: v & mask };
          expect(candidateAtcs(last, window, c)).toEqual(naive(last, window, mask, c.value));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
