import { CapkitError, fromHex, toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeTlv,
  describeSw,
  encodeCommand,
  encodeTlv,
  fillDol,
  findTlv,
  formatTagValue,
  maskedCommandHex,
  parseCommand,
  parseDol,
  parseGacResponse,
  parseResponse,
  type Tlv,
  tagName,
  tlv,
} from "../src/index.js";

/** Throws only our typed error, or nothing. */
function onlyTyped(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CapkitError)) throw e;
  }
}

const primitiveTag = fc.oneof(
  fc.integer({ min: 0x01, max: 0x1e }).map((t) => t | 0x80), // one byte, context class, primitive
  fc.integer({ min: 0x01, max: 0x7f }).map((t) => 0x9f00 | t), // two bytes
  fc
    .integer({ min: 0x80, max: 0xff })
    .chain((b2) => fc.integer({ min: 0, max: 0x7f }).map((b3) => 0xdf0000 | (b2 << 8) | b3)),
);
const constructedTag = fc.constantFrom(0x61, 0x6f, 0x70, 0x77, 0xa5, 0xbf0c);
const tree: fc.Arbitrary<Tlv> = fc.letrec<{ node: Tlv }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.tuple(primitiveTag, fc.uint8Array({ maxLength: 300 })).map(([tag, value]) => tlv(tag, value)),
    fc
      .tuple(constructedTag, fc.array(tie("node"), { maxLength: 4 }))
      .map(([tag, children]) => tlv(tag, children)),
  ),
})).node;

describe("BER-TLV", () => {
  it("decodes a real FCI with nesting, labels and the IAF", () => {
    const fci = fromHex(
      "6F2E8407A0000000048002A5239F38039F35015F2D026672BF0C159F5501005F2C020056DF0709424B53303536303038",
    );
    const objects = decodeTlv(fci);
    expect(toHex(findTlv(objects, 0x84)!.value)).toBe("A0000000048002");
    expect(toHex(findTlv(objects, 0x9f55)!.value)).toBe("00");
    expect(formatTagValue(0xdf07, findTlv(objects, 0xdf07)!.value)).toBe("BKS056008");
    expect(tagName(0x9f56)).toContain("IPB");
  });

  it("round-trips encode → decode → encode", () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 5 }), (objects) => {
        const bytes = encodeTlv(objects);
        expect(toHex(encodeTlv(decodeTlv(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("long lengths (81, 82) and multi-byte tags", () => {
    const big = tlv(0xdf8101, new Uint8Array(300).fill(7));
    const bytes = encodeTlv(big);
    expect(toHex(bytes.subarray(0, 6))).toBe("DF810182012C");
    const back = decodeTlv(bytes)[0]!;
    expect(back.tag).toBe(0xdf8101);
    expect(back.value.length).toBe(300);
  });

  it("skips 00/FF padding between objects", () => {
    const objects = decodeTlv(fromHex("00005A01120000FF9F3602000100"));
    expect(objects.map((o) => o.tag)).toEqual([0x5a, 0x9f36]);
  });

  it("rejects truncation, indefinite lengths and limit breaches with typed errors", () => {
    expect(() => decodeTlv(fromHex("5A0512"))).toThrow(expect.objectContaining({ code: "TLV_MALFORMED" }));
    expect(() => decodeTlv(fromHex("708000"))).toThrow(expect.objectContaining({ code: "TLV_MALFORMED" }));
    expect(() => decodeTlv(fromHex("5A850100000000"))).toThrow(
      expect.objectContaining({ code: "TLV_LIMIT" }),
    );
    expect(() => decodeTlv(fromHex("5A83FFFFFF"))).toThrow(expect.objectContaining({ code: "TLV_LIMIT" }));
    expect(() => decodeTlv(fromHex("9FFFFFFF0100"))).toThrow(expect.objectContaining({ code: "TLV_LIMIT" }));
    let nested: Tlv = tlv(0x5a, Uint8Array.of(1));
    for (let i = 0; i < 20; i++) nested = tlv(0x70, [nested]);
    expect(() => decodeTlv(encodeTlv(nested))).toThrow(expect.objectContaining({ code: "TLV_LIMIT" }));
    expect(() =>
      decodeTlv(
        new Uint8Array(10000).fill(0x5a).map((v, i) => (i % 2 ? 0 : v)),
        { maxObjects: 100 },
      ),
    ).toThrow(expect.objectContaining({ code: "TLV_LIMIT" }));
  });

  it("random bytes never make the TLV, DOL, APDU or GAC parsers throw anything but our typed error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        onlyTyped(() => decodeTlv(bytes));
        onlyTyped(() => parseDol(bytes));
        onlyTyped(() => parseCommand(bytes));
        onlyTyped(() => parseResponse(bytes));
        onlyTyped(() => parseGacResponse(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it("structured random input near the formats is handled too", () => {
    fc.assert(
      fc.property(fc.constantFrom(0x70, 0x77, 0x80, 0x6f), fc.uint8Array({ maxLength: 60 }), (t, body) => {
        const bytes = Uint8Array.of(t, body.length, ...body);
        onlyTyped(() => decodeTlv(bytes));
        onlyTyped(() => parseGacResponse(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("DOL", () => {
  it("fills by format: n right-aligned, b left-aligned, missing as zeros", () => {
    const dol = parseDol(fromHex("9F02069F37049F3501DF0103"));
    const values = new Map([
      [0x9f02, fromHex("1234")],
      [0x9f37, fromHex("0102030405")],
      [0x9f35, fromHex("34")],
    ]);
    expect(toHex(fillDol(dol, values))).toBe("000000001234" + "01020304" + "34" + "000000");
  });
});

describe("APDU", () => {
  it("encodes and parses the four cases", () => {
    const cases = [
      { cla: 0, ins: 0xa4, p1: 4, p2: 0 },
      { cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x17, le: 256 },
      { cla: 0, ins: 0x20, p1: 0, p2: 0x80, data: fromHex("241234FFFFFFFFFF") },
      { cla: 0x80, ins: 0xae, p1: 0x80, p2: 0, data: fromHex("0102"), le: 256 },
    ];
    expect(cases.map((c) => toHex(encodeCommand(c)))).toEqual([
      "00A40400",
      "80CA9F1700",
      "0020008008241234FFFFFFFFFF",
      "80AE800002010200",
    ]);
    for (const c of cases) expect(parseCommand(encodeCommand(c))).toEqual(c);
  });

  it("rejects bad headers and lengths", () => {
    expect(() => encodeCommand({ cla: 256, ins: 0, p1: 0, p2: 0 })).toThrow(
      expect.objectContaining({ code: "APDU_INVALID" }),
    );
    expect(() => encodeCommand({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(256) })).toThrow(
      expect.objectContaining({ code: "APDU_INVALID" }),
    );
    expect(() => parseCommand(fromHex("00A4040005AA"))).toThrow(
      expect.objectContaining({ code: "APDU_INVALID" }),
    );
    expect(() => parseResponse(fromHex("90"))).toThrow(expect.objectContaining({ code: "APDU_INVALID" }));
  });

  it("describes status words", () => {
    expect(describeSw(0x63c2)).toBe("verification failed, 2 tries left");
    expect(describeSw(0x6983)).toContain("blocked");
    expect(describeSw(0x6a82)).toContain("not found");
    expect(describeSw(0x6d00)).toContain("instruction");
    expect(describeSw(0x6985)).toContain("conditions");
    expect(describeSw(0x6110)).toContain("16 response bytes");
  });

  it("masks PIN commands and nothing else", () => {
    expect(maskedCommandHex(fromHex("0020008008241234FFFFFFFFFF"))).toBe("0020008008****************");
    expect(maskedCommandHex(fromHex("8024000208241234FFFFFFFFFF00"))).toBe("8024000208****************00");
    expect(maskedCommandHex(fromHex("80CA9F1700"))).toBe("80CA9F1700");
  });
});
