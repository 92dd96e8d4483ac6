import { readFileSync } from "node:fs";
import { type CapInputs, generateCapCode, readerProfile } from "@capkit/emv-cap";
import { describe, expect, it } from "vitest";
import { SIM_CARD_FORMAT, SIM_CARD_PROFILES, SimulatedCard } from "../src/index.js";

/**
 * Codes whose expected values do not come from capkit: `fixtures/golden-codes.py` computes them with an
 * independent Python implementation (method in the fixture's `_note`, itself checked against pyemv's
 * cryptograms). Each simulated card runs the real engine with its matching reader profile.
 */
interface GoldenCase {
  profile: string;
  inputs: CapInputs;
  cdol1Data: string;
  ac: string;
  code: string;
}
const GOLDEN = JSON.parse(readFileSync(new URL("./fixtures/golden-codes.json", import.meta.url), "utf8")) as {
  imk: string;
  psn: string;
  atcBefore: number;
  pans: Record<string, string>;
  cases: GoldenCase[];
};

const describeInputs = (i: CapInputs) =>
  [i.mode, i.challenge, i.amount, i.currency, i.tds?.join("+")].filter((x) => x !== undefined).join(" ");

describe("golden codes for every simulated profile × mode (independent Python computation)", () => {
  it("covers every profile with identify, respond and TDS, and sign wherever the IAF allows it", () => {
    for (const [name, p] of Object.entries(SIM_CARD_PROFILES)) {
      const modes = GOLDEN.cases.filter((c) => c.profile === name).map((c) => describeInputs(c.inputs));
      const signs = (Number.parseInt(p.iaf, 16) & 0x80) !== 0;
      expect(modes.length, name).toBe(signs ? 4 : 3);
    }
  });

  for (const g of GOLDEN.cases) {
    it(`${g.profile}: ${describeInputs(g.inputs)} → ${g.code}`, async () => {
      const card = new SimulatedCard({
        format: SIM_CARD_FORMAT,
        profile: g.profile,
        pan: GOLDEN.pans[g.profile]!,
        psn: GOLDEN.psn,
        expiry: "301231",
        imk: GOLDEN.imk,
        pin: "1234",
        pinTryLimit: 3,
        pinTries: 3,
        atc: GOLDEN.atcBefore,
      });
      const result = await generateCapCode(card, g.inputs, {
        profile: readerProfile(card.profile.readerProfile),
        pin: "1234",
      });
      expect(result.cdol1.map((e) => e.value).join("")).toBe(g.cdol1Data);
      expect(result.cryptogram.ac).toBe(g.ac);
      expect(result.code).toBe(g.code);
      expect(result.atc).toBe(GOLDEN.atcBefore + 1);
    });
  }
});
