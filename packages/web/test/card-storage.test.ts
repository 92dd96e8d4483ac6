import { newSimCardState } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { restoreCardState, saveCardState } from "../src/card-storage.js";

/** What the reader keeps in the browser, with a Map standing in for localStorage. */
function memoryStorage() {
  const m = new Map<string, string>();
  return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe("card state in the browser", () => {
  it("keeps the larger ATC of the issued card and the stored one", () => {
    const s = memoryStorage();
    const issued = newSimCardState("sesame", "1234");
    expect(restoreCardState(issued, s)).toEqual(issued); // first time: the issued card, saved
    saveCardState({ ...issued, atc: issued.atc + 5, pinTries: 2 }, s);
    const restored = restoreCardState(issued, s);
    expect(restored.atc).toBe(issued.atc + 5); // a reload never rewinds the card
    expect(restored.pinTries).toBe(2);
    // The issuer's copy ahead of the browser's (e.g. codes used from another browser): the issuer's ATC wins.
    expect(restoreCardState({ ...issued, atc: issued.atc + 9 }, s).atc).toBe(issued.atc + 9);
  });

  it("ignores a stored card with other keys or unreadable JSON", () => {
    const s = memoryStorage();
    const issued = newSimCardState("sesame", "1234");
    const other = newSimCardState("sesame", "1234");
    saveCardState({ ...other, pan: issued.pan, atc: 999 }, s);
    expect(restoreCardState(issued, s)).toEqual(issued);
    s.m.set(`capkit-sim-card:${issued.pan}`, "{not json");
    expect(restoreCardState(issued, s)).toEqual(issued);
  });
});
