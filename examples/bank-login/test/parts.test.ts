import { randomBytes } from "node:crypto";
import { codePointText, HOSTILE_NAMES, REFUSED_RANGES } from "@capkit/test-support/hostile-text";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestThreshold } from "../../../bench/bank-login.js";
import { GRID_CELLS, Keypads, LAYOUT_TTL_MS } from "../src/keypad.js";
import { Hosts, isLoopback } from "../src/web/hosts.js";
import { Throttle } from "../src/web/throttle.js";
import { readTransfer } from "../src/web/transfer-form.js";

/** The bank's parts on their own: the throttle, the keypad's sealed layouts, the host allow-list. */
describe("Throttle", () => {
  it("lets a burst through, then one per period, and says how long to wait", () => {
    let now = 0;
    const t = new Throttle({ burst: 3, perSecond: 1 / 10 }, () => now);
    expect([t.take("a"), t.take("a"), t.take("a")]).toEqual([0, 0, 0]);
    expect(t.take("a")).toBe(10);
    expect(t.take("b")).toBe(0); // another key has its own bucket
    now += 4000;
    expect(t.take("a")).toBe(6);
    now += 6000;
    expect(t.take("a")).toBe(0);
  });

  it("keeps memory bounded without forgetting a limited key: full buckets go, else new keys are refused", () => {
    let now = 0;
    const t = new Throttle({ burst: 1, perSecond: 1 / 60 }, () => now, 2);
    expect([t.take("x"), t.take("y")]).toEqual([0, 0]);
    expect(t.take("z")).toBeGreaterThan(0); // no room, and x and y are still limited
    expect(t.take("x")).toBeGreaterThan(0);
    now += 60_000; // x and y are full again: they can go
    expect(t.take("z")).toBe(0);
  });
});

describe("Keypads", () => {
  const key = randomBytes(32);

  it("places the ten digits in 16 cells and maps clicked cells back, once", () => {
    const k = new Keypads(key, () => 1000);
    const layout = k.issue();
    expect(layout.cells).toHaveLength(GRID_CELLS);
    expect(layout.cells.filter((d) => d !== undefined).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const cell = (d: number) => layout.cells.indexOf(d).toString(16);
    const clicked = [4, 0, 9, 9, 1, 2].map(cell).join("");
    expect(k.read(layout.id, clicked)).toEqual({ ok: true, password: "409912" });
    expect(k.read(layout.id, clicked)).toEqual({ ok: false, why: "layout" });
  });

  it("refuses a blank cell, a forged or foreign layout, and an expired one", () => {
    let now = 1000;
    const k = new Keypads(key, () => now);
    const a = k.issue();
    const blank = a.cells.indexOf(undefined).toString(16);
    expect(k.read(a.id, blank.repeat(6))).toEqual({ ok: false, why: "cells" });
    const b = k.issue();
    const flipped = Buffer.from(b.id, "base64url");
    flipped[20]! ^= 1;
    expect(k.read(flipped.toString("base64url"), "000000").ok).toBe(false);
    expect(new Keypads(randomBytes(32), () => now).read(k.issue().id, "000000")).toEqual({
      ok: false,
      why: "layout",
    });
    const c = k.issue();
    now += LAYOUT_TTL_MS;
    expect(k.read(c.id, "012345")).toEqual({ ok: false, why: "layout" });
  });
});

describe("Hosts", () => {
  it("answers only to its own names and port, and to writes from its own origins", () => {
    const h = new Hosts(["bank.example"], 3000);
    for (const host of [
      "127.0.0.1:3000",
      "localhost:3000",
      "LOCALHOST:3000",
      "[::1]:3000",
      "bank.example:3000",
    ])
      expect([host, h.allowsHost(host)]).toEqual([host, true]);
    for (const host of [
      undefined,
      "127.0.0.1",
      "127.0.0.1:3001",
      "evil.example:3000",
      "bank.example.evil:3000",
    ])
      expect([host, h.allowsHost(host)]).toEqual([host, false]);
    expect(h.allowsWriteFrom(undefined, "same-origin")).toBe(true);
    expect(h.allowsWriteFrom("http://localhost:3000", "same-origin")).toBe(true);
    expect(h.allowsWriteFrom("null", undefined)).toBe(false);
    expect(h.allowsWriteFrom("http://evil.example", undefined)).toBe(false);
    expect(h.allowsWriteFrom(undefined, "cross-site")).toBe(false);
  });

  it("knows loopback when it sees it", () => {
    expect(["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "pro.localhost"].every(isLoopback)).toBe(
      true,
    );
    expect(["0.0.0.0", "::", "192.168.1.2", "bank.example"].some(isLoopback)).toBe(false);
  });
});

describe("bestThreshold (bench/bank-login.ts)", () => {
  it("is 1 for samples a threshold separates, about 0.5 for the same distribution", () => {
    expect(bestThreshold([1, 2, 3], [4, 5, 6])).toBe(1);
    expect(bestThreshold([4, 5, 6], [1, 2, 3])).toBe(1);
    const same = Array.from({ length: 200 }, (_, i) => i);
    expect(
      bestThreshold(
        same.filter((i) => i % 2),
        same.filter((i) => !(i % 2)),
      ),
    ).toBeLessThan(0.52);
  });
});

describe("readTransfer: the payee's name (@capkit/provision's display-safe text)", () => {
  const form = (name: string) =>
    new URLSearchParams({ iban: "FR7630006000011234567890189", name, amount: "150,00" });
  const refused = (name: string) => {
    const r = readTransfer(form(name));
    expect("error" in r && r.error, JSON.stringify(name)).toMatch(/^Le nom du bénéficiaire /);
  };

  it("any name holding a refused code point is refused, whatever is around it: never mended into a space", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20, unit: "grapheme" }),
        // A form's fields are USVStrings: a lone surrogate arrives as U+FFFD, shown as it is.
        fc
          .oneof(...REFUSED_RANGES.map(([min, max]) => fc.integer({ min, max })))
          .filter((cp) => cp < 0xd800 || cp > 0xdfff),
        fc.string({ maxLength: 20, unit: "grapheme" }),
        (before, cp, after) => refused(`${before}${codePointText(cp)}${after}`),
      ),
      { numRuns: 500 },
    );
  });

  it("the table's names: refused, or kept as the document will hold them (NFC, spaces typed twice or around dropped)", () => {
    for (const [what, name, , created] of HOSTILE_NAMES) {
      if (/\p{Cs}/u.test(name)) continue; // a form cannot carry one (see above)
      const mended = name.replace(/ {2,}/g, " ").replace(/^ | $/g, "");
      const r = readTransfer(form(name));
      if (created === "refused" && mended === name) expect("error" in r, what).toBe(true);
      if (created !== "refused") expect("payee" in r && r.payee.name, what).toBe(created);
    }
    expect(readTransfer(form("  Cafe\u0301  Martin ")) as unknown).toMatchObject({
      payee: { name: "Caf\u00e9 Martin" },
    });
  });
});
