import { readFileSync } from "node:fs";
import { concat, fromHex, toHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import {
  CryptogramCalculator,
  CryptogramDataSelection,
  cryptogramSpec,
  deriveIccMasterKey,
  macAlg3,
  missingCryptogramTags,
  parseCapIssuerRecord,
  parseDol,
} from "../src/index.js";

/**
 * 48 application cryptograms computed by an independent implementation (pyemv's `cvn.py`, see the fixture's
 * `_note`) for 8 CVNs × 2 real CDOL1 shapes (Dutch/Portuguese `…9F35019F45029F4C089F3403` and Belgian
 * `…9F4C029F3403`) × 3 ATCs. The expected AC comes from the fixture, never from our code.
 */
interface Vector {
  id: string;
  cryptogramVersion: string;
  imk: string;
  pan: string;
  psn: string;
  cdol1: string;
  cdol1Data: string;
  aip: string;
  atc: string;
  iad: string;
  ac: string;
}
const FIXTURE = JSON.parse(
  readFileSync(new URL("./fixtures/cvn-data-selection.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };

describe("cryptograms of cards whose CDOL1 holds more than the cryptogram covers", () => {
  it("has the 48 vectors", () => {
    expect(FIXTURE.vectors).toHaveLength(48);
  });

  for (const v of FIXTURE.vectors) {
    it(`${v.id} → ${v.ac}`, () => {
      const spec = cryptogramSpec(v.cryptogramVersion);
      const mk = deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, spec.masterKey);
      const selection = new CryptogramDataSelection(parseDol(fromHex(v.cdol1)));
      const cdol1Data = fromHex(v.cdol1Data);
      const ac = new CryptogramCalculator(spec, mk).compute({
        terminalData: selection.select(cdol1Data),
        aip: fromHex(v.aip),
        atc: Number.parseInt(v.atc, 16),
        un: selection.unpredictableNumber(cdol1Data),
        iad: fromHex(v.iad),
      });
      expect(toHex(ac)).toBe(v.ac);
    });
  }

  it("a MAC over the whole GENERATE AC data field matches none of them (why selection by tag matters)", () => {
    for (const v of FIXTURE.vectors.filter((x) => x.cryptogramVersion === "visa-10")) {
      const spec = cryptogramSpec("visa-10");
      const mk = deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, spec.masterKey);
      const cvr = fromHex(v.iad).subarray(3, 7);
      const whole = concat(fromHex(v.cdol1Data), fromHex(v.aip), fromHex(v.atc), cvr);
      expect(toHex(macAlg3(mk, whole, 1))).not.toBe(v.ac);
    }
  });

  it("picks the Table 26 elements by tag, whatever their order in the CDOL1", () => {
    // Hand-built: the same eight elements reversed, with an extra 9F35 in the middle. The selection is in
    // Table 26 order: 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37.
    const cdol1 = parseDol(fromHex("9F37049C019A035F2A029F350195059F1A029F03069F0206"));
    const data = fromHex(
      `11223344 09 260101 0978 22 0000008000 0250 000000000000 000000001234`.replace(/ /g, ""),
    );
    const s = new CryptogramDataSelection(cdol1);
    expect(toHex(s.select(data))).toBe(
      "000000001234" + "000000000000" + "0250" + "0000008000" + "0978" + "260101" + "09" + "11223344",
    );
    expect(toHex(s.unpredictableNumber(data))).toBe("11223344");
  });

  it("names the Table 26 tags a CDOL1 lacks, and a record with such a CDOL1 is refused", () => {
    expect(missingCryptogramTags(parseDol(fromHex("9F02069F03069F1A0295055F2A029A039C01")))).toEqual([
      "9F37",
    ]);
    expect(() => new CryptogramDataSelection(parseDol(fromHex("9F0206")))).toThrow(
      expect.objectContaining({
        code: "CDOL_INCOMPLETE",
        details: { missing: ["9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37"] },
      }),
    );
    expect(() =>
      parseCapIssuerRecord({
        format: "capkit-cap-issuer/1",
        pan: "5413339000001513",
        psn: "01",
        profile: "sesame",
        cryptogramVersion: "visa-10",
        aid: "A0000000038002",
        aip: "1000",
        cdol1: "9F02069F03069F1A0295055F2A029A039C01",
        iaf: "80",
        ipb: "00",
        iad: "06010A03A48000",
        key: { kind: "test-imk", imk: "0123456789ABCDEFFEDCBA9876543210", derivation: "A" },
      }),
    ).toThrow(expect.objectContaining({ code: "CDOL_INCOMPLETE" }));
  });

  it("refuses CDOL1 data of the wrong length", () => {
    const s = new CryptogramDataSelection(parseDol(fromHex(FIXTURE.vectors[0]!.cdol1)));
    expect(() => s.select(new Uint8Array(29))).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
  });
});
