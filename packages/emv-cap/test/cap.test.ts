import { describe, expect, it } from "vitest";
import {
  AID_MASTERCARD_CAP,
  AID_VISA_DPA,
  CryptogramCalculator,
  capCodeValue,
  cdolValues,
  cryptogramSpec,
  deriveIccMasterKey,
  displayCode,
  encodeCommand,
  fillDol,
  formatCode,
  fromHex,
  keyCheckValue,
  macAlg3,
  parseDol,
  parseGacResponse,
  READER_PROFILES,
  ReplayConnection,
  readerApplicationFor,
  readerApplicationWarnings,
  readerProfile,
  selectIpbBits,
  tdsBlock,
  tdsMac,
  toHex,
  treeSessionKey,
} from "../src/index.js";
import { loadTranscript } from "./helpers.js";
import { V } from "./vectors.js";

describe("CDOL1 filling (python-emv vectors, uk profile)", () => {
  for (const v of V.cap_cdol1_fill) {
    it(v.id, () => {
      const inputs = v.inputs.value
        ? { mode: "sign" as const, challenge: v.inputs.challenge, amount: v.inputs.value }
        : v.inputs.challenge
          ? { mode: "respond" as const, challenge: v.inputs.challenge }
          : { mode: "identify" as const };
      // UK cards carry IAF A0: the amount enters the cryptogram, the currency does not.
      const values = cdolValues(readerProfile("uk").applications[0]!, inputs, 0xa0);
      const data = fillDol(parseDol(fromHex(v.cdol1)), values);
      const apdu = encodeCommand({ cla: 0x80, ins: 0xae, p1: 0x80, p2: 0, data, le: 256 });
      expect(toHex(apdu)).toBe(v.apdu);
    });
  }
});

describe("OTP from GENERATE AC responses", () => {
  for (const v of V.cap_otp_from_gac_response) {
    it(v.id, () => {
      const response = v.gac_response
        ? parseGacResponse(fromHex(v.gac_response))
        : {
            cid: Number.parseInt(v.cid, 16),
            atc: 0,
            atcBytes: fromHex(v.atc),
            ac: fromHex(v.ac),
            iad: fromHex(v.iad),
            format: 1 as const,
          };
      const iaf = v.iaf ? Number.parseInt(v.iaf, 16) : 0;
      const got = capCodeValue({
        response,
        ipb: fromHex(v.ipb),
        iaf,
        ...(v.psn ? { psn: fromHex(v.psn) } : {}),
      });
      expect(got.value).toBe(v.otp);
      if (v.display) expect(formatCode(got.value)).toBe(v.display);
    });
  }

  it("IPB longer than the data reads zero bits and says so", () => {
    const r = selectIpbBits(Uint8Array.of(0xff), Uint8Array.of(0x80, 0x80));
    expect(r).toEqual({ value: 2, bits: 2, truncated: true });
  });

  it("displays 8 digits as two groups", () => {
    expect(displayCode("04822527")).toBe("0482 2527");
    expect(displayCode("1234567890")).toBe("12 3456 7890");
  });
});

describe("Mode 2 + TDS (MISC-056 §3.9)", () => {
  const v = V.cap_mode2_tds[0];
  it("builds the TDS block", () => {
    expect(toHex(tdsBlock(v.tds_numbers))).toBe(v.tds_block.slice(0, 16));
  });
  it("gives the MISC-056 code", () => {
    const response = {
      cid: 0x80,
      atc: 0x2a,
      atcBytes: fromHex(v.atc),
      ac: fromHex(v.ac),
      iad: new Uint8Array(0),
      format: 1 as const,
    };
    expect(capCodeValue({ response, ipb: fromHex(v.ipb), tds: v.tds_numbers }).value).toBe(v.otp);
    expect(tdsMac(fromHex(v.ac), v.tds_numbers).length).toBe(8);
  });
  it("rejects more than 10 numbers or numbers over 10 digits", () => {
    expect(() => tdsBlock(Array(11).fill("1"))).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
    expect(() => tdsBlock(["12345678901"])).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
  });
});

describe("end to end with keys", () => {
  for (const v of V.cap_end_to_end_with_keys) {
    it(v.id, () => {
      const ipb = fromHex(v.ipb);
      if (v.id.startsWith("emvlab")) {
        const mk = fromHex(v.icc_mk);
        const atc = Number.parseInt(v.atc, 16);
        const sk = treeSessionKey(mk, atc, { height: 8, branch: 4 });
        expect(toHex(sk)).toBe(v.session_key);
        const ac = macAlg3(sk, fromHex(v.terminal_data + v.icc_data), 2);
        const data = fromHex(v.cid_atc_ac_iad);
        expect(toHex(ac)).toBe(toHex(data.subarray(3, 11)));
        expect(selectIpbBits(data, ipb).value).toBe(v.otp);
        return;
      }
      const mk = deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, "A");
      if (v.udk) expect(toHex(mk)).toBe(v.udk);
      if (v.icc_mk) expect(toHex(mk)).toBe(v.icc_mk);
      const kcv = v.udk_kcv ?? v.icc_mk_kcv;
      if (kcv) expect(toHex(keyCheckValue(mk, 3))).toBe(kcv);
      const input = fromHex(v.mac_input);
      const spec =
        v.id === "synthetic-S1" ? "visa-10" : v.id === "synthetic-S2" ? "mastercard-16" : "visa-18";
      const calc = new CryptogramCalculator(cryptogramSpec(spec), mk);
      // S1 gives the format-1 response; S2/S3 give CID‖ATC‖AC‖IAD (S3 with the PSN in front).
      const fields: string = v.cid_atc_ac_iad ?? v.psn_cid_atc_ac_iad?.slice(2);
      const response = parseGacResponse(
        fromHex(v.gac_response_fmt1 ?? `80${(fields.length / 2).toString(16).toUpperCase()}${fields}`),
      );
      if (v.session_key && !v.session_key.startsWith("none")) {
        const un = input.subarray(25, 29);
        expect(toHex(calc.sessionKey(response.atc, un))).toBe(v.session_key);
      }
      const ac = calc.compute({
        terminalData: input.subarray(0, 29),
        aip: input.subarray(29, 31),
        atc: response.atc,
        un: input.subarray(25, 29),
        iad: response.iad,
      });
      expect(toHex(ac)).toBe(v.arqc);
      expect(toHex(response.ac)).toBe(v.arqc);
      const iaf = v.iaf ? Number.parseInt(v.iaf, 16) : 0;
      expect(capCodeValue({ response, ipb, iaf, psn: fromHex(v.psn) }).value).toBe(v.otp);
    });
  }
});

describe("reader profiles hold constants per application (docs/architecture.md §3.4)", () => {
  const constants = (profile: string, aid: string) =>
    readerApplicationFor(readerProfile(profile), { aid, belgian: false }).application;

  it("one Vasco 810 (belgian): date 010101 to Visa DPA, 000000 to MasterCard CAP, nothing else differs", () => {
    const dpa = constants("belgian", AID_VISA_DPA);
    const cap = constants("belgian", AID_MASTERCARD_CAP);
    expect(cap.terminalData).toEqual({
      "95": "8000000000",
      "9A": "000000",
      "9F35": "34",
      "9F34": "010002",
      "9F33": "208000",
    });
    expect(dpa.terminalData).toEqual({ ...cap.terminalData, "9A": "010101" });
    expect([dpa.arc, cap.arc]).toEqual(["5A33", "5A33"]);
  });

  it("the generic profiles carry EMV-CAP's constants for their own scheme, and only those", () => {
    const mc = readerProfile("mastercard-cap");
    const visa = readerProfile("visa-dpa");
    expect(mc.applications.map((a) => a.aids)).toEqual([[AID_MASTERCARD_CAP]]);
    expect(visa.applications.map((a) => a.aids)).toEqual([[AID_VISA_DPA]]);
    expect(constants("mastercard-cap", AID_MASTERCARD_CAP).terminalData).toEqual(
      constants("belgian", AID_MASTERCARD_CAP).terminalData,
    );
    expect(constants("visa-dpa", AID_VISA_DPA).terminalData).toEqual(
      constants("belgian", AID_VISA_DPA).terminalData,
    );
    expect(mc.aids[0]).toBe(AID_MASTERCARD_CAP);
    expect(visa.aids[0]).toBe(AID_VISA_DPA);
  });

  it("a profile on an application it has no constants for uses its first set, and says so", () => {
    const profile = readerProfile("sesame");
    const r = readerApplicationFor(profile, { aid: AID_MASTERCARD_CAP, belgian: false });
    expect(r).toEqual({ application: profile.applications[0], fallback: true });
    const [warning] = readerApplicationWarnings(profile, AID_MASTERCARD_CAP, r);
    expect(warning).toContain("no constants for application A0000000048002");
    expect(warning).toContain("mastercard-cap");
  });

  it("a table's own names only: constructor is neither a profile nor a cryptogram version", () => {
    for (const name of ["constructor", "toString", "__proto__"]) {
      expect(() => readerProfile(name)).toThrow(expect.objectContaining({ code: "PROFILE_INVALID" }));
      expect(() => cryptogramSpec(name)).toThrow(expect.objectContaining({ code: "PROFILE_INVALID" }));
    }
  });

  it("every built-in profile's constants name where they come from", () => {
    for (const p of Object.values(READER_PROFILES))
      for (const a of p.applications) expect(a.source.length, `${p.name}/${a.id}`).toBeGreaterThan(40);
  });
});

describe("the engine over the public APDU traces", () => {
  const cases = [
    {
      name: "french-visa-dpa-identify",
      profile: "sesame",
      inputs: { mode: "identify" as const },
      code: "34656023",
      atc: 0x10,
      left: 1,
    },
    {
      name: "natwest-respond-12345678",
      profile: "mastercard-cap",
      inputs: { mode: "respond" as const, challenge: "12345678" },
      code: "04822527",
      atc: 0x42,
      left: 1,
    },
    {
      name: "belgian-identify-tds-1234",
      profile: "mastercard-cap",
      inputs: { mode: "identify" as const, tds: ["1234"] },
      code: "23719593",
      atc: 0x5a,
      // and the SELECT of Visa DPA that a Vasco 810 sends first (a placeholder, field-recordings.json)
      left: 2,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const { generateCapCode } = await import("../src/index.js");
      const conn = new ReplayConnection(loadTranscript(c.name));
      const result = await generateCapCode(conn, c.inputs, {
        profile: readerProfile(c.profile),
        pin: "1234",
      });
      expect(result.code).toBe(c.code);
      expect(result.display).toBe(`${c.code.slice(0, 4)} ${c.code.slice(4)}`);
      expect(result.atc).toBe(c.atc);
      expect(result.cryptogram.type).toBe("ARQC");
      expect(result.warnings).toEqual([]);
      // SELECT is recorded twice by EMV-CAP; we send it once: exactly one exchange left over.
      expect(conn.remaining).toBe(c.left);
    });
  }
});
