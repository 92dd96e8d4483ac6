import { fromHex, toHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import {
  aesCmac,
  aesCommonSessionKey,
  arpcMethod1,
  arpcMethod2,
  CryptogramCalculator,
  commonSessionKey,
  cryptogramSpec,
  deriveIccMasterKey,
  emvSessionKey,
  keyCheckValue,
  macAlg3,
  mastercardSessionKey,
  treeSessionKey,
  visaSmSessionKey,
  withOddParity,
} from "../src/index.js";
import { byId, V } from "./vectors.js";

const kcv = (key: Uint8Array, n: number) => toHex(keyCheckValue(key, n));

/** The ICC MK named by a vector: given directly, or derived from its IMK/PAN/PSN. */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
function iccMkOf(v: any): Uint8Array {
  if (v.icc_mk) return fromHex(v.icc_mk);
  const method = String(v.method).includes("Option B") ? "B" : "A";
  return deriveIccMasterKey(fromHex(v.imk ?? v.imk_ac), v.pan, v.psn, method);
}

describe("key parity and check values", () => {
  it("pyemv parity and KCV docstrings", () => {
    const p = byId("mac_iso9797_1_alg3", "pyemv-parity-doc");
    expect(toHex(withOddParity(fromHex(p.in)))).toBe(p.out);
    const k = byId("mac_iso9797_1_alg3", "pyemv-kcv-doc");
    expect(kcv(fromHex(k.key), 2)).toBe(k.kcv2);
  });
});

describe("ICC master key derivation (Book 2 A1.4)", () => {
  for (const v of V.icc_master_key_derivation) {
    it(`${v.id} (${v.method})`, () => {
      const mk = iccMkOf(v);
      if (v.icc_mk) {
        const method = String(v.method).includes("Option B") ? "B" : "A";
        expect(toHex(deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, method))).toBe(v.icc_mk);
      }
      if (v.imk_kcv2) expect(kcv(fromHex(v.imk), 2)).toBe(v.imk_kcv2);
      if (v.icc_mk_kcv2) expect(kcv(mk, 2)).toBe(v.icc_mk_kcv2);
      if (v.kcv3) expect(kcv(mk, 3)).toBe(v.kcv3);
      if (v.icc_mk_ac_kcv2) {
        expect(kcv(mk, 2)).toBe(v.icc_mk_ac_kcv2);
        expect(kcv(deriveIccMasterKey(fromHex(v.imk_smi), v.pan, v.psn, "A"), 2)).toBe(v.icc_mk_smi_kcv2);
        expect(kcv(deriveIccMasterKey(fromHex(v.imk_smc), v.pan, v.psn, "A"), 2)).toBe(v.icc_mk_smc_kcv2);
      }
    });
  }

  it("rejects a non-numeric PAN without echoing it", () => {
    expect(() => deriveIccMasterKey(new Uint8Array(16), "4111x", "00", "A")).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID", message: expect.not.stringContaining("4111x") }),
    );
  });
});

// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
function mkFor(v: any): Uint8Array {
  if (v.mk) return fromHex(v.mk);
  return iccMkOf(byId("icc_master_key_derivation", v.icc_mk_from));
}

describe("session keys (Book 2 A1.3)", () => {
  for (const v of V.session_key_derivation) {
    it(`${v.id} (${v.method})`, () => {
      const mk = mkFor(v);
      let sk: Uint8Array[] = [];
      if (v.method.startsWith("EMV CSK R=ATC")) sk = [emvSessionKey(mk, Number.parseInt(v.atc, 16))];
      else if (v.method.startsWith("EMV CSK")) sk = [commonSessionKey(mk, fromHex(v.r))];
      else if (v.method.startsWith("MasterCard SKD"))
        sk = [mastercardSessionKey(mk, Number.parseInt(v.atc, 16), fromHex(v.un))];
      else if (v.method.startsWith("Visa SM")) sk = [visaSmSessionKey(mk, Number.parseInt(v.atc, 16))];
      else if (v.method.startsWith("EMV2000 tree")) {
        const cases: [string, number, number, string, string][] = v.cases ?? [
          [v.atc, v.height ?? 8, v.branch ?? 4, v.iv ?? "00".repeat(16), v.sk],
        ];
        for (const [atc, height, branch, iv, expected] of cases) {
          const got = treeSessionKey(mk, Number.parseInt(atc, 16), { height, branch, iv: fromHex(iv) });
          expect(toHex(got), `atc ${atc} h${height} b${branch}`).toBe(expected);
        }
        return;
      } else throw new Error(`unhandled method ${v.method}`);
      if (v.sk) expect(toHex(sk[0]!)).toBe(v.sk);
      if (v.sk_kcv2) expect(kcv(sk[0]!, 2)).toBe(v.sk_kcv2);
    });
  }

  it("EMV2000 tree refuses parameters that cannot reach every ATC", () => {
    expect(() => treeSessionKey(new Uint8Array(16), 1, { height: 6, branch: 2 })).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
  });
});

describe("application cryptograms and ARPC", () => {
  for (const v of V.arqc) {
    it(v.id, () => {
      let key: Uint8Array;
      if (v.sk) key = fromHex(v.sk);
      else if (v.key?.startsWith("ICC MK")) key = mkFor(v);
      else if (v.key?.startsWith("CSK")) key = commonSessionKey(mkFor(v), fromHex(v.key.split("R=")[1]));
      else if (v.key?.startsWith("MC SKD")) key = commonSessionKey(mkFor(v), fromHex(v.key.split("R=")[1]));
      else if (v.imk)
        key = commonSessionKey(deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, "A"), fromHex(v.r));
      else key = commonSessionKey(mkFor(v), fromHex(v.r));
      if (v.sk_kcv2) expect(kcv(key, 2)).toBe(v.sk_kcv2);
      if (v.data ?? v.mac_input) {
        expect(toHex(macAlg3(key, fromHex(v.data ?? v.mac_input), v.padding ?? 2))).toBe(v.ac ?? v.arqc);
      }

      const ac = fromHex(v.ac ?? v.arqc);
      const mk =
        v.icc_mk_from || v.imk
          ? v.imk
            ? deriveIccMasterKey(fromHex(v.imk), v.pan, v.psn, "A")
            : mkFor(v)
          : undefined;
      if (v.arpc1_rc0000) expect(toHex(arpcMethod1(key, ac, fromHex("0000")))).toBe(v.arpc1_rc0000);
      if (v.arpc1_sk_rc0000) expect(toHex(arpcMethod1(key, ac, fromHex("0000")))).toBe(v.arpc1_sk_rc0000);
      if (v.arpc1_icc_mk_rc0000)
        expect(toHex(arpcMethod1(mk!, ac, fromHex("0000")))).toBe(v.arpc1_icc_mk_rc0000);
      if (v.arpc1_rc3030) expect(toHex(arpcMethod1(key, ac, fromHex("3030")))).toBe(v.arpc1_rc3030);
      if (v.arpc1_icc_mk_rc0010)
        expect(toHex(arpcMethod1(mk!, ac, fromHex("0010")))).toBe(v.arpc1_icc_mk_rc0010);
      if (v.arpc1_sk_rc0010) expect(toHex(arpcMethod1(key, ac, fromHex("0010")))).toBe(v.arpc1_sk_rc0010);
      // Interac CVN 133 answers with the session key.
      if (v.arpc_rc0000) expect(toHex(arpcMethod1(key, ac, fromHex("0000")))).toBe(v.arpc_rc0000);
      const csu = fromHex("00000000");
      if (v.arpc2_csu00000000) expect(toHex(arpcMethod2(key, ac, csu))).toBe(v.arpc2_csu00000000);
      if (v.arpc2_csu0) expect(toHex(arpcMethod2(key, ac, csu))).toBe(v.arpc2_csu0);
      if (v.arpc2_csu0_pad1234567890ABCDEF)
        expect(toHex(arpcMethod2(key, ac, csu, fromHex("1234567890ABCDEF")))).toBe(
          v.arpc2_csu0_pad1234567890ABCDEF,
        );
      if (v.arpc2_csu00000000_pad12345678)
        expect(toHex(arpcMethod2(key, ac, csu, fromHex("12345678")))).toBe(v.arpc2_csu00000000_pad12345678);
    });
  }

  it("CryptogramCalculator reproduces the CVN vectors from their parts", () => {
    const mk = iccMkOf(byId("icc_master_key_derivation", "pyemv-cvn-A"));
    // pyemv-cvn10 input: CDOL1(29) ‖ AIP ‖ ATC ‖ CVR(4)
    const cvn10 = byId("arqc", "pyemv-cvn10");
    const input = fromHex(cvn10.mac_input);
    const calc = new CryptogramCalculator(cryptogramSpec("visa-10"), mk);
    const ac = calc.compute({
      terminalData: input.subarray(0, 29),
      aip: input.subarray(29, 31),
      atc: 0x1c,
      iad: fromHex("06011203A06010"), // len 06, DKI 01, CVN 12, CVR 03A06010
    });
    expect(toHex(ac)).toBe(cvn10.ac);

    const cvn16 = byId("arqc", "pyemv-cvn16");
    const in16 = fromHex(cvn16.mac_input);
    const calc16 = new CryptogramCalculator(cryptogramSpec("mastercard-16"), mk);
    expect(
      toHex(
        calc16.compute({
          terminalData: in16.subarray(0, in16.length - 10),
          aip: in16.subarray(in16.length - 10, in16.length - 8),
          atc: 0x1c,
          un: fromHex("ABCDEF12"),
          iad: fromHex("0110A00003220000"),
        }),
      ),
    ).toBe(cvn16.ac);
  });

  it("rejects unknown cryptogram versions", () => {
    expect(() => cryptogramSpec("visa-99")).toThrow(expect.objectContaining({ code: "PROFILE_INVALID" }));
  });
});

describe("AES path", () => {
  it("AES-CMAC matches RFC 4493 examples 1 and 2", () => {
    const key = fromHex("2B7E151628AED2A6ABF7158809CF4F3C");
    expect(toHex(aesCmac(key, new Uint8Array(0)))).toBe("BB1D6929E95937287FA37D129B756746");
    expect(toHex(aesCmac(key, fromHex("6BC1BEE22E409F96E93D7E117393172A")))).toBe(
      "070A16B46B4D4144F79BDD9DD04A287C",
    );
  });

  it("AES session key is AES_MK(ATC ‖ F0 ‖ 00…) and differs per ATC", async () => {
    const { createCipheriv } = await import("node:crypto");
    const mk = fromHex("000102030405060708090A0B0C0D0E0F");
    const c = createCipheriv("aes-128-ecb", mk, null);
    c.setAutoPadding(false);
    const expected = c.update(fromHex("001CF000000000000000000000000000"));
    expect(toHex(aesCommonSessionKey(mk, 0x1c))).toBe(toHex(expected));
    expect(toHex(aesCommonSessionKey(mk, 0x1d))).not.toBe(toHex(expected));
  });
});
