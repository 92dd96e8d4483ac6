import { describe, expect, it } from "vitest";
import { listHidTokens } from "../src/index.js";

describe("HID enumeration", () => {
  it("returns a list, empty when no known token is plugged in, without crashing", () => {
    const tokens = listHidTokens();
    expect(Array.isArray(tokens)).toBe(true);
    for (const t of tokens) expect(t.vendorId).toMatch(/^[0-9a-f]{4}$/);
  });
});
