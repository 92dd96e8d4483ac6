import { toHex } from "@capkit/core";
import {
  CapCodeModel,
  type CapInputs,
  generateCapCode,
  parseCapIssuerRecord,
  readerProfile,
  testIccMasterKey,
} from "@capkit/emv-cap";
import { describe, expect, it } from "vitest";
import {
  issuerRecordOf,
  newSimCardState,
  SIM_CARD_PROFILES,
  type SimCardState,
  SimulatedCard,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));
const apdu = async (card: SimulatedCard, c: string) => toHex(await card.transmit(hex(c)));

const modes: { name: string; inputs: CapInputs; profiles: string[] }[] = [
  { name: "identify", inputs: { mode: "identify" }, profiles: ["sesame", "mastercard-cap", "uk"] },
  {
    name: "respond",
    inputs: { mode: "respond", challenge: "12345678" },
    profiles: ["sesame", "mastercard-cap", "uk"],
  },
  {
    name: "sign",
    inputs: { mode: "sign", challenge: "4455", amount: "1234.56", currency: "978" },
    profiles: ["mastercard-cap"],
  },
  {
    name: "sign (amount only)",
    inputs: { mode: "sign", challenge: "4455", amount: "15.00" },
    profiles: ["uk"],
  },
  {
    name: "identify + TDS",
    inputs: { mode: "identify", tds: ["1234", "3101234567"] },
    profiles: ["sesame", "mastercard-cap", "uk"],
  },
];

describe("round trip: engine over SimulatedCard → code → issuer recomputation", () => {
  for (const m of modes) {
    for (const profile of m.profiles) {
      it(`${profile} ${m.name}`, async () => {
        const card = new SimulatedCard(newSimCardState(profile, "4321"));
        const record = parseCapIssuerRecord(JSON.parse(JSON.stringify(card.issuerRecord())));
        // The PIN is in no field, neither as itself nor as a PIN block (the random PAN and keys may hold the
        // digits 4321 by chance, so the test looks for the PIN where a leak would put it).
        const json = JSON.stringify(record);
        expect(json).not.toMatch(/pin/i);
        expect(json).not.toContain('"4321"');
        expect(json).not.toContain("24321F");
        const model = new CapCodeModel(record, testIccMasterKey(record));
        const codeAt = model.forInputs(m.inputs);
        for (let i = 0; i < 3; i++) {
          const r = await generateCapCode(card, m.inputs, {
            profile: readerProfile(SIM_CARD_PROFILES[profile]!.readerProfile),
            pin: "4321",
          });
          expect(r.warnings).toEqual([]);
          expect(r.atc).toBe(card.state.atc);
          expect(codeAt(r.atc)).toBe(r.value);
          // A constant of another reader changes the cryptogram: the code no longer matches.
          const other = new CapCodeModel(record, testIccMasterKey(record), {
            ...model.profile,
            terminalData: {
              ...model.profile.terminalData,
              "9A": model.profile.terminalData["9A"] === "010101" ? "000000" : "010101",
            },
          });
          expect(other.forInputs(m.inputs)(r.atc)).not.toBe(r.value);
        }
      });
    }
  }

  it("a T=0 card gives the same codes through GET RESPONSE", async () => {
    const state = newSimCardState("sesame", "1234");
    const plain = await generateCapCode(new SimulatedCard(state), { mode: "identify" }, { pin: "1234" });
    const t0 = await generateCapCode(
      new SimulatedCard(state, { t0: true }),
      { mode: "identify" },
      { pin: "1234" },
    );
    expect(t0.code).toBe(plain.code);
  });
});

describe("card behaviour", () => {
  const fresh = (onStateChange?: (s: SimCardState) => void) =>
    new SimulatedCard(newSimCardState("sesame", "1234"), onStateChange ? { onStateChange } : {});

  it("lists its application in the PSE", async () => {
    const card = fresh();
    expect(await apdu(card, "00A404000E315041592E5359532E4444463031")).toMatch(/9000$/);
    expect(await apdu(card, "00B2010C00")).toContain("4F07A0000000038002");
    expect(await apdu(card, "00B2020C00")).toBe("6A83");
  });

  it("increments the ATC on GPO and reports state changes", async () => {
    const seen: number[] = [];
    const card = fresh((s) => seen.push(s.atc));
    const before = card.state.atc;
    await apdu(card, "00A4040007A000000003800200");
    expect(await apdu(card, "80A8000002830000")).toBe("800610000801010090" + "00");
    expect(card.state.atc).toBe(before + 1);
    expect(seen).toEqual([before + 1]);
  });

  it("PIN try counter: 63C2, 63C1, 63C0, then 6983; a right PIN resets it", async () => {
    const card = fresh();
    await apdu(card, "00A4040007A000000003800200");
    await apdu(card, "80A8000002830000");
    expect(await apdu(card, "0020008008249999FFFFFFFFFF")).toBe("63C2");
    expect(await apdu(card, "80CA9F1700")).toBe("9F1701029000");
    expect(await apdu(card, "0020008008241234FFFFFFFFFF")).toBe("9000");
    expect(await apdu(card, "80CA9F1700")).toBe("9F1701039000");
    for (const expected of ["63C2", "63C1", "63C0", "6983"])
      expect(await apdu(card, "0020008008249999FFFFFFFFFF")).toBe(expected);
    expect(await apdu(card, "0020008008241234FFFFFFFFFF")).toBe("6983");
  });

  it("ARQC only after the PIN (6985), AAC second, a third refused", async () => {
    const card = fresh();
    const gac1 = `80AE80001D${"00".repeat(29)}00`;
    const gac2 = `80AE00001F5A33${"00".repeat(29)}00`;
    await apdu(card, "00A4040007A000000003800200");
    await apdu(card, "80A8000002830000");
    expect(await apdu(card, gac1)).toBe("6985");
    await apdu(card, "0020008008241234FFFFFFFFFF");
    expect(await apdu(card, gac1)).toMatch(/^771E9F270180.*9000$/);
    expect(await apdu(card, gac2)).toMatch(/^771E9F270100.*9000$/);
    expect(await apdu(card, gac2)).toBe("6985");
    expect(await apdu(card, `80AE90001D${"00".repeat(29)}00`)).toBe("6985");
  });

  it("answers unsupported commands with proper status words", async () => {
    const card = fresh();
    expect(await apdu(card, "00A4040007A000000099999900")).toBe("6A82");
    expect(await apdu(card, "00840000")).toBe("6D00");
    expect(await apdu(card, "B0A4040000")).toBe("6E00");
    expect(await apdu(card, "80A8000002830000")).toBe("6985");
    expect(await apdu(card, "80CA9F7F00")).toBe("6A88");
  });

  it("a removed card fails with CARD_REMOVED", async () => {
    const card = fresh();
    card.remove();
    await expect(card.transmit(hex("00A4040007A000000003800200"))).rejects.toMatchObject({
      code: "CARD_REMOVED",
    });
    card.insert();
    expect(await apdu(card, "00A4040007A000000003800200")).toMatch(/9000$/);
  });

  it("new cards get valid Luhn PANs, random keys, and an issuer record without the PIN", () => {
    const a = newSimCardState("uk", "2468");
    const b = newSimCardState("uk", "2468");
    expect(a.imk).not.toBe(b.imk);
    const luhnOk = (pan: string) =>
      [...pan].reverse().reduce((s, ch, i) => {
        let d = Number(ch);
        if (i % 2) {
          d *= 2;
          if (d > 9) d -= 9;
        }
        return s + d;
      }, 0) %
        10 ===
      0;
    expect(luhnOk(a.pan)).toBe(true);
    expect(JSON.stringify(issuerRecordOf(a))).not.toContain('"pin"');
  });
});

describe("the French cold state (python-emv issue 33)", () => {
  for (const sw of ["6D00", "6E00"] as const) {
    it(`answers ${sw} from power-on until a warm reset, shows a 3F ATR, and the engine gets its code`, async () => {
      const state = newSimCardState("sesame", "1234");
      const card = new SimulatedCard(state, { coldState: sw });
      expect(toHex(card.atr)).toBe("3F6525082204689000");
      expect(await apdu(card, "00A4040007A0000000038002")).toBe(sw);
      card.warmReset();
      expect((await apdu(card, "00A4040007A0000000038002")).endsWith("9000")).toBe(true);
      card.powerOff();
      card.powerOn();
      expect(await apdu(card, "00A4040007A0000000038002")).toBe(sw);

      const r = await generateCapCode(
        card,
        { mode: "identify" },
        { profile: readerProfile("sesame"), pin: "1234" },
      );
      const model = new CapCodeModel(card.issuerRecord(), testIccMasterKey(card.issuerRecord()));
      expect(r.value).toBe(model.forInputs({ mode: "identify" })(r.atc));
    });
  }

  it("a connection that cannot warm-reset gets CARD_NOT_SUPPORTED, and no ATC is spent", async () => {
    const card = new SimulatedCard(newSimCardState("sesame", "1234"), { coldState: "6D00" });
    const noReset = { atr: card.atr, transmit: (c: Uint8Array) => card.transmit(c), close: async () => {} };
    const atc = card.state.atc;
    await expect(
      generateCapCode(noReset, { mode: "identify" }, { profile: readerProfile("sesame"), pin: "1234" }),
    ).rejects.toMatchObject({ code: "CARD_NOT_SUPPORTED" });
    expect(card.state.atc).toBe(atc);
  });
});
