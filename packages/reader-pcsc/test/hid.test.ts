import { describe, expect, it } from "vitest";
import { decodeKeyboardReports, listHidTokens } from "../src/index.js";

/** Reports as a keyboard sends them: press (modifiers, 0, key…) then release (all zero). */
const press = (usage: number, modifiers = 0) => [
  Uint8Array.of(modifiers, 0, usage, 0, 0, 0, 0, 0),
  new Uint8Array(8),
];
const typed = (usages: number[], modifiers = 0) => [
  ...usages.flatMap((u) => press(u, modifiers)),
  ...press(0x28),
];
const SHIFT = 0x02;
// Usages of 1 2 3 4 5 6 on the top row, and on the keypad.
const TOP = [0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23];
const PAD = [0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e];

describe("keyboard-wedge OTP capture", () => {
  it("a US-configured token on a US host types digits", () => {
    expect(decodeKeyboardReports(typed(TOP), "us")).toEqual({ text: "123456", complete: true });
  });

  it("the same token on a French AZERTY host types the symbols of the top row", () => {
    expect(decodeKeyboardReports(typed(TOP), "fr").text).toBe("&é\"'(-");
  });

  it("an AZERTY-configured token sends Shift + top row: digits on a French host", () => {
    expect(decodeKeyboardReports(typed(TOP, SHIFT), "fr").text).toBe("123456");
    expect(decodeKeyboardReports(typed(TOP, 0x20), "fr").text).toBe("123456"); // right Shift
  });

  it("keypad digits are the same on every layout", () => {
    expect(decodeKeyboardReports(typed(PAD), "us").text).toBe("123456");
    expect(decodeKeyboardReports(typed(PAD), "fr").text).toBe("123456");
  });

  it("a held key counts once; a repeated digit needs its release; rollover reports count each new key", () => {
    const held = [
      Uint8Array.of(0, 0, 0x1e, 0, 0, 0, 0, 0),
      Uint8Array.of(0, 0, 0x1e, 0, 0, 0, 0, 0),
      new Uint8Array(8),
    ];
    expect(decodeKeyboardReports([...held, ...press(0x1e), ...press(0x28)], "us").text).toBe("11");
    const rollover = [
      Uint8Array.of(0, 0, 0x1e, 0, 0, 0, 0, 0),
      Uint8Array.of(0, 0, 0x1e, 0x1f, 0, 0, 0, 0),
      new Uint8Array(8),
    ];
    expect(decodeKeyboardReports(rollover, "us")).toEqual({ text: "12", complete: false });
  });

  it("drops a leading report ID and stops at Enter", () => {
    const withId = typed([0x1e, 0x1f]).map((r) => Uint8Array.of(1, ...r));
    expect(decodeKeyboardReports([...withId, ...press(0x20)], "us")).toEqual({ text: "12", complete: true });
  });

  it("AZERTY letters sit on other keys (Yubico modhex on a French host)", () => {
    expect(decodeKeyboardReports(typed([0x06, 0x05, 0x14, 0x1a, 0x33]), "fr").text).toBe("cbazm");
  });
});

describe("HID enumeration", () => {
  it("returns a list, empty when no known token is plugged in, without crashing", () => {
    const tokens = listHidTokens();
    expect(Array.isArray(tokens)).toBe(true);
    for (const t of tokens) expect(t.vendorId).toMatch(/^[0-9a-f]{4}$/);
  });
});
