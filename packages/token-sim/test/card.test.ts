import { toHex } from "@capkit/core";
import {
  CapCodeModel,
  type CapInputs,
  generateCapCode,
  parseCapIssuerRecord,
  readerProfile,
  TracingConnection,
  testIccMasterKey,
} from "@capkit/emv-cap";
import { describe, expect, it } from "vitest";
import {
  issuerRecordOf,
  newSimCardState,
  SIM_CARD_PROFILES,
  SIM_COLD_ATR,
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
          const constants = model.application.application;
          const date = constants.terminalData["9A"] === "010101" ? "000000" : "010101";
          const other = new CapCodeModel(record, testIccMasterKey(record), {
            ...model.profile,
            applications: [{ ...constants, terminalData: { ...constants.terminalData, "9A": date } }],
          });
          expect(other.forInputs(m.inputs)(r.atc)).not.toBe(r.value);
        }
      });
    }
  }

  it("a currency on a card that signs the amount only (uk, IAF A0): the same code, and a warning saying so", async () => {
    const state = newSimCardState("uk", "4321");
    const sign = { mode: "sign", challenge: "4455", amount: "15.00" } as const;
    const options = { profile: readerProfile("uk"), pin: "4321" };
    const plain = await generateCapCode(new SimulatedCard(state), sign, options);
    const withCurrency = await generateCapCode(
      new SimulatedCard(state),
      { ...sign, currency: "826" },
      options,
    );
    expect(withCurrency.code).toBe(plain.code);
    expect(plain.warnings).toEqual([]);
    expect(withCurrency.warnings).toEqual([
      "this card signs the amount only (its IAF has b6 set): the currency 826 is not in the code",
    ]);
  });

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

describe("cards without a CAP application: their payment application, as the reader uses it", () => {
  const cases = [
    { name: "belgian-maestro", id: "payment-belgian", formula: "belgian", reader: "belgian" },
    { name: "uk-visa-debit", id: "visa-debit", formula: "ipb", reader: "uk" },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: CAP/DPA first, then the payment application with a warning; the issuer model agrees`, async () => {
      const card = new SimulatedCard(newSimCardState(c.name, "4321"));
      const traced = new TracingConnection(card);
      const profile = readerProfile(c.reader);
      const record = parseCapIssuerRecord(JSON.parse(JSON.stringify(card.issuerRecord())));
      expect(record.readerApplication).toBe(c.id);
      const model = new CapCodeModel(record, testIccMasterKey(record));
      for (const inputs of [{ mode: "identify" }, { mode: "respond", challenge: "20261205" }] as const) {
        const r = await generateCapCode(traced, inputs, { profile, pin: "4321" });
        expect(r.readerApplication).toBe(c.id);
        expect(r.formula).toBe(c.formula);
        expect(r.warnings.join("\n")).toContain(
          `no CAP/DPA application answered: used the payment application ${card.profile.aid}`,
        );
        expect(model.forInputs(inputs)(r.atc)).toBe(r.value);
      }
      // The CAP/DPA applications were asked for before the payment one.
      const selects = traced
        .transcript()
        .exchanges.filter((e) => e.c.startsWith("00A4"))
        .map((e) => e.c.slice(10, -2));
      expect(selects.slice(0, 2)).toEqual(profile.aids);
      expect(selects.indexOf(card.profile.aid)).toBeGreaterThan(1);
    });
  }

  it("uk-visa-debit: the constants no recording shows, and the static Visa IPB, are said", async () => {
    const card = new SimulatedCard(newSimCardState("uk-visa-debit", "4321"));
    const r = await generateCapCode(
      card,
      { mode: "identify" },
      { profile: readerProfile("uk"), pin: "4321" },
    );
    const w = r.warnings.join("\n");
    expect(w).toContain("no command or code of such a session is public");
    expect(w).toContain("no IPB (9F56): used the profile's fallback 0000FFFFFF0000000000000000000020B938");
  });

  it("a profile without payment applications does not use one: NO_CAP_APPLICATION names the profiles that do", async () => {
    const card = new SimulatedCard(newSimCardState("belgian-maestro", "4321"));
    const e = await generateCapCode(
      card,
      { mode: "identify" },
      { profile: readerProfile("sesame"), pin: "4321" },
    ).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "NO_CAP_APPLICATION" });
    expect((e as { hint: string }).hint).toContain("belgian (Bancontact (Belgian card)");
    expect(card.state.pinTries).toBe(3);
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
      expect(toHex(card.atr)).toBe(SIM_COLD_ATR);
      expect(SIM_COLD_ATR.slice(0, 2)).toBe("3F");
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
