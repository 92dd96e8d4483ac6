import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AID_MAESTRO,
  AID_MASTERCARD_CAP,
  belgianCodeBits,
  belgianCodeValue,
  CAP_ISSUER_FORMAT,
  CapCodeModel,
  type CapInputs,
  type CapIssuerRecord,
  CryptogramCalculator,
  cdolValues,
  cryptogramSpec,
  fromHex,
  ipbBitCount,
  MAX_IPB_BITS,
  parseCapIssuerRecord,
  readerProfile,
  selectIpbBits,
  toHex,
  treeSessionKey,
  unsignedInputs,
} from "../src/index.js";
import { byId } from "./vectors.js";

/** The issuer-side model (CapCodeModel): the trees, IAD shapes and code rules real cards and readers use. */

const CDOL1_29 = "9F02069F03069F1A0295055F2A029A039C019F3704";

describe("EMV2000 trees: any (b, H) the specification allows (EMV 4.1 Book 2 A1.3)", () => {
  const TREE = JSON.parse(readFileSync(new URL("./fixtures/tree-keys.json", import.meta.url), "utf8")) as {
    mk: string;
    cases: { branch: number; height: number; atc: number; sk: string }[];
  };

  for (const c of TREE.cases) {
    it(`b=${c.branch} H=${c.height} ATC ${c.atc}: the session key of the independent program (tree-keys.py)`, () => {
      const mk = fromHex(TREE.mk);
      expect(toHex(treeSessionKey(mk, c.atc, { branch: c.branch, height: c.height }))).toBe(c.sk);
      // The same tree by its cryptogram version name, as an issuer record or profile writes it.
      const spec = cryptogramSpec(`emv2000-tree-b${c.branch}-h${c.height}`);
      expect(toHex(new CryptogramCalculator(spec, mk).sessionKey(c.atc))).toBe(c.sk);
    });
  }

  it("emv2000-tree is emvlab's b=4 H=8, the same as emv2000-tree-b4-h8", () => {
    expect(cryptogramSpec("emv2000-tree")).toEqual(cryptogramSpec("emv2000-tree-b4-h8"));
    // One object per name, as key providers and the code model compare specs by identity.
    expect(cryptogramSpec("emv2000-tree-b2-h16")).toBe(cryptogramSpec("emv2000-tree-b2-h16"));
  });

  it("refuses a tree whose leaves do not cover every ATC, and absurd sizes, naming the rule", () => {
    for (const name of [
      "emv2000-tree-b3-h8", // 3^8 = 6561
      "emv2000-tree-b2-h15",
      "emv2000-tree-b1-h16",
      "emv2000-tree-b2-h17",
      "emv2000-tree-b65537-h1",
      "emv2000-tree-b4",
    ]) {
      expect(() => cryptogramSpec(name), name).toThrow(expect.objectContaining({ code: "PROFILE_INVALID" }));
    }
    expect(() => cryptogramSpec("emv2000-tree-b3-h8")).toThrow(/b\^H ≥ 65536/);
    expect(cryptogramSpec("emv2000-tree-b65536-h1").sessionKey).toEqual({
      kind: "emv2000-tree",
      branch: 65536,
      height: 1,
    });
  });
});

describe("emvlab.org's CAP calculator, end to end through the issuer record and CapCodeModel", () => {
  // emvlab MACs the CVR A50006040000 (its "ICC data" 1000 xxxx A50006040000) and returns the Visa-shaped IAD
  // 06770A03A48000: an IAD shape the CVN's rule cannot slice the MAC'd data from, so the record says it.
  const record = (cardData?: string): CapIssuerRecord =>
    parseCapIssuerRecord({
      format: CAP_ISSUER_FORMAT,
      pan: "5413330000000019",
      psn: "00",
      profile: "mastercard-cap",
      cryptogramVersion: "emv2000-tree",
      aid: AID_MASTERCARD_CAP,
      aip: "1000",
      cdol1: CDOL1_29,
      iaf: "A0",
      ipb: "00001F00000000000FFFFF00000000008000",
      iad: "06770A03A48000",
      ...(cardData ? { cardData } : {}),
      key: { kind: "reference", id: "emvlab" },
    });
  const cases: [string, CapInputs][] = [
    ["emvlab-identify-baseline", { mode: "identify" }],
    ["emvlab-respond-baseline", { mode: "respond", challenge: "11223344" }],
    ["emvlab-sign-baseline", { mode: "sign", challenge: "445566", amount: "1234.56" }],
  ];
  for (const [id, inputs] of cases) {
    it(`${id}: ${byId("cap_end_to_end_with_keys", id).otp}`, () => {
      const v = byId("cap_end_to_end_with_keys", id);
      const model = new CapCodeModel(record("A50006040000"), fromHex(v.icc_mk));
      expect(toHex(model.cdol1Data(inputs))).toBe(v.terminal_data);
      const atc = Number.parseInt(v.atc, 16);
      expect(model.forInputs(inputs)(atc)).toBe(v.otp);
      expect(toHex(model.cryptogram(model.cdol1Data(inputs), atc))).toBe(v.cid_atc_ac_iad.slice(6, 22));
    });
  }

  it("without the card data, the emvlab IAD is refused (too short for the CVR rule), not guessed", () => {
    const v = byId("cap_end_to_end_with_keys", "emvlab-identify-baseline");
    const model = new CapCodeModel(record(), fromHex(v.icc_mk));
    expect(() => model.forInputs({ mode: "identify" })).toThrow(/IAD of 7 bytes is too short/);
  });
});

describe("inputs a card does not sign are said, not silently dropped", () => {
  const uk = readerProfile("uk").applications[0]!;
  const sign = { mode: "sign", challenge: "1234", amount: "10.00" } as const;

  it("a currency for a card that signs the amount only (IAF A0): a warning, and the same CDOL1 data", () => {
    expect(unsignedInputs(sign, 0xa0)).toEqual([]);
    expect(unsignedInputs({ ...sign, currency: "826" }, 0xa0)).toEqual([
      "this card signs the amount only (its IAF has b6 set): the currency 826 is not in the code",
    ]);
    expect(cdolValues(uk, { ...sign, currency: "826" }, 0xa0).has(0x5f2a)).toBe(false);
    // With amount and currency (IAF 80) the currency is signed, and nothing is said.
    expect(unsignedInputs({ ...sign, currency: "826" }, 0x80)).toEqual([]);
    expect(toHex(cdolValues(uk, { ...sign, currency: "826" }, 0x80).get(0x5f2a)!)).toBe("0826");
  });
});

describe("the IPB width: at most 53 bits, and why", () => {
  it("the Luxembourg Maestro's 53-bit IPB is read; one more bit is refused, saying why", () => {
    const lux = fromHex("0000FFFFFFFFFF00000000000000FF00003E");
    expect(ipbBitCount(lux)).toBe(MAX_IPB_BITS);
    const data = new Uint8Array(18).fill(0xff);
    expect(selectIpbBits(data, lux).value).toBe(2 ** 53 - 1);
    const wider = fromHex("0000FFFFFFFFFF00000000000000FF00007E");
    expect(() => selectIpbBits(data, wider)).toThrow(
      expect.objectContaining({ code: "CARD_NOT_SUPPORTED", message: expect.stringContaining("16 digits") }),
    );
  });
});

/** A Belgian Maestro card's issuer record (its payment application, no IPB: the Belgian formula). */
const MAESTRO_RECORD = {
  format: CAP_ISSUER_FORMAT,
  pan: "6703110000000012",
  psn: "01",
  profile: "belgian",
  cryptogramVersion: "mastercard-16",
  aid: AID_MAESTRO,
  aip: "3800",
  cdol1: `${CDOL1_29}9F35019F3403`,
  iaf: "00",
  ipb: "",
  iad: "0110A50003040000000000000000000000FF",
  key: { kind: "reference", id: "x" },
};

describe("the Belgian formula (payment applications read by a Vasco 810)", () => {
  it("gives the recorded 53780079 for the anonymised ATC 1234 and AC 1234567890ABCDEF", () => {
    expect(belgianCodeValue({ atcBytes: fromHex("1234"), ac: fromHex("1234567890ABCDEF") })).toBe(53780079);
  });

  it("is one to one: the 26 bits come back from any code, and only codes a card can give have them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 26 - 1 }), (v) => {
        const ac = new Uint8Array(8);
        ac[5] = (v >> 24) & 0x03;
        ac[6] = (v >> 16) & 0xff;
        ac[7] = v & 0xff;
        const code = belgianCodeValue({ atcBytes: Uint8Array.of(0, (v >> 8) & 0xff), ac });
        expect(code).toBeLessThan(1e8);
        expect(belgianCodeBits(code)).toBe(v);
      }),
    );
    expect(belgianCodeBits(70_000_000)).toBeUndefined(); // last digit 0, so v = 70000000 ≥ 2^26
    expect(belgianCodeBits(1e8)).toBeUndefined();
  });

  it("the issuer model searches only the ATCs whose low byte the code carries", () => {
    const record = parseCapIssuerRecord({ ...MAESTRO_RECORD, readerApplication: "payment-belgian" });
    const model = new CapCodeModel(record, new Uint8Array(16).fill(1));
    expect(model.application.application.id).toBe("payment-belgian");
    const code = 53780079; // ATC low byte 0x34
    const atcs = model.candidateAtcs(0, 0x300, code);
    expect(atcs).toEqual([0x34, 0x134, 0x234]);
    const f = model.forInputs({ mode: "identify" });
    for (const atc of [1, 2, 300]) {
      const c = f(atc);
      expect(model.candidateAtcs(0, 0x300, c)).toContain(atc);
    }
  });

  it("an issuer record for a Maestro card read by the belgian profile must say which constants its reader sends", () => {
    const base = MAESTRO_RECORD;
    expect(() => new CapCodeModel(parseCapIssuerRecord(base), new Uint8Array(16))).toThrow(
      expect.objectContaining({ code: "PROFILE_INVALID", hint: expect.stringContaining("payment-belgian") }),
    );
    expect(
      () =>
        new CapCodeModel(parseCapIssuerRecord({ ...base, readerApplication: "nope" }), new Uint8Array(16)),
    ).toThrow(expect.objectContaining({ code: "PROFILE_INVALID" }));
    const other = new CapCodeModel(
      parseCapIssuerRecord({ ...base, readerApplication: "maestro-payment" }),
      new Uint8Array(16),
    );
    expect(other.application.application.code).toBe("ipb");
  });
});
