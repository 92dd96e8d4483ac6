import { readFileSync } from "node:fs";
import { toHex } from "@capkit/core";
import { newSimCardState, SIM_ATR, SIM_COLD_ATR, SimulatedCard } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import {
  decodeAtr,
  driverFor,
  nameAtr,
  parseSmartcardList,
  pinTriesCheck,
  RedactingRecorder,
  supportReport,
  worstVerdict,
} from "../src/index.js";

// Three entries copied from pcsc-tools' smartcard_list.txt (Ludovic Rousseau, GPL-2.0-or-later; Debian
// pcsc-tools 1.6.x, /usr/share/pcsc/smartcard_list.txt), in its format: ATR pattern, then tab-indented lines.
const LIST = `#
# excerpt
3B 02 14 50
\tSchlumberger Multiflex 3k

3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A
\tNXP/Philips MIFARE Classic 1K (as per PCSC std part3)
\thttp://www.nxp.com/

3F 65 25 .. .. 04 6C 90 .0
\tCarte Bancaire (French banking card)
`;

describe("ATR decoding (ISO/IEC 7816-3 §8.2), golden values decoded by hand", () => {
  it("3B 02 14 50: direct, no interface bytes, T=0 implied, historical 14 50, no TCK", () => {
    expect(decodeAtr("3B021450")).toEqual({
      atr: "3B021450",
      convention: "direct",
      protocols: ["T=0"],
      historicalBytes: "1450",
    });
  });

  it("3B 8F 80 01 …: TD1 (T=0), TD2 (T=1), 15 historical bytes, TCK 6A correct", () => {
    // T0 = 8F: TD1 follows, K = 15. TD1 = 80: TD2 follows, T=0. TD2 = 01: T=1. TCK: XOR of T0…6A = 0
    // (computed with Python: functools.reduce(operator.xor, bytes.fromhex("8F80…6A")) == 0).
    expect(decodeAtr("3B8F8001804F0CA000000306030001000000006A")).toEqual({
      atr: "3B8F8001804F0CA000000306030001000000006A",
      convention: "direct",
      protocols: ["T=0", "T=1"],
      historicalBytes: "804F0CA00000030603000100000000",
      checksumOk: true,
    });
    expect(decodeAtr("3B8F8001804F0CA000000306030001000000006B").checksumOk).toBe(false);
  });

  it("3F 65 25 00 …: inverse convention (a French card), TB1 and TC1, 5 historical bytes", () => {
    expect(decodeAtr("3F65250024046C9000")).toMatchObject({
      convention: "inverse",
      protocols: ["T=0"],
      historicalBytes: "24046C9000",
    });
  });

  it("TA1 = 96 is Fi 512 / Di 32 (Tables 7 and 8); truncated ATRs are refused", () => {
    expect(decodeAtr("3B119601").ta1).toBe("Fi/Di 512/32");
    expect(() => decodeAtr("3B8F80")).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
    expect(() => decodeAtr("3A00")).toThrow(/neither 3B nor 3F/);
  });
});

describe("naming from smartcard_list.txt", () => {
  const list = parseSmartcardList(LIST);
  it("matches exact and wildcard patterns, without the links", () => {
    expect(nameAtr(list, "3B021450")).toEqual(["Schlumberger Multiflex 3k"]);
    expect(nameAtr(list, "3F65250024046C9000")).toEqual(["Carte Bancaire (French banking card)"]);
    expect(nameAtr(list, "3B8F8001804F0CA000000306030001000000006A")).toEqual([
      "NXP/Philips MIFARE Classic 1K (as per PCSC std part3)",
    ]);
    expect(nameAtr(list, "3B021451")).toEqual([]);
  });
});

describe("PIN tries advice", () => {
  it("0 tries: blocked, only the bank can unblock (not an ATM)", () => {
    const c = pinTriesCheck("PIN tries", 0);
    expect(c.verdict).toBe("fail");
    expect(c.detail).toContain("blocked");
    expect(c.hint).toMatch(/only the bank can unblock/);
    expect(c.hint).not.toMatch(/ATM resets/);
  });
  it("1 try: a warning; 3: ok, none spent; unknown: a warning", () => {
    expect(pinTriesCheck("p", 1).verdict).toBe("warn");
    expect(pinTriesCheck("p", 3)).toMatchObject({ verdict: "ok", detail: "3 left (none spent)" });
    expect(pinTriesCheck("p", undefined).verdict).toBe("warn");
    expect(worstVerdict([pinTriesCheck("p", 3), pinTriesCheck("p", 1)])).toBe("warn");
  });
});

describe("reader drivers", () => {
  const drivers = [
    { friendlyName: "capkit test", name: "vpcd (vsmartcard virtual reader)", path: "/x/libifdvpcd.so" },
    { name: "ifd-ccid", version: "1.5.2", path: "/usr/lib/pcsc/drivers/ifd-ccid.bundle" },
  ];
  it("a reader.conf reader by its friendly name, else the USB drivers", () => {
    expect(driverFor("capkit test 00 00", drivers)).toBe(
      "vpcd (vsmartcard virtual reader) (/x/libifdvpcd.so)",
    );
    expect(driverFor("Gemalto PC Twin Reader 00 00", drivers)).toBe("ifd-ccid 1.5.2 (USB)");
  });
});

describe("redaction for the support bundle", () => {
  it("masks PAN, expiry and name values inside templates and keeps the rest", async () => {
    // 70 15 { 5A 08 <PAN>, 5F24 03 <YYMMDD>, 9F07 02 FF00 }: 10 + 6 + 5 = 21 = 0x15 bytes.
    const record = "70155A0849701234567890125F24032812319F0702FF00";
    // Then a proprietary response carrying the same PAN outside any tag: found by its bytes.
    const proprietary = "0102034970123456789012FF";
    const responses = [record, proprietary];
    const rec = new RedactingRecorder({
      atr: Uint8Array.of(0x3b, 0x00),
      transmit: async () => Uint8Array.from(Buffer.from(`${responses.shift()}9000`, "hex")),
      close: async () => {},
    });
    await rec.transmit(Uint8Array.of(0x00, 0xb2, 0x01, 0x0c, 0x00));
    await rec.transmit(Uint8Array.of(0x80, 0xca, 0x9f, 0x7f, 0x00));
    expect(rec.exchanges).toEqual([
      { c: "00B2010C00", r: `70155A08${"*".repeat(16)}5F2403${"*".repeat(6)}9F0702FF00`, sw: "9000" },
      { c: "80CA9F7F00", r: `010203${"*".repeat(16)}FF`, sw: "9000" },
    ]);
  });

  it("a recorded session with a simulated card has no PAN, track 2, expiry or PIN in it", async () => {
    const state = newSimCardState("sesame", "4826");
    const card = new SimulatedCard(state);
    const rec = new RedactingRecorder(card);
    const { readCapApplication } = await import("@capkit/emv-cap");
    await readCapApplication(rec);
    await rec.transmit(Uint8Array.from(Buffer.from("00200080082448 26FFFFFFFFFF".replace(" ", ""), "hex")));
    const text = JSON.stringify(
      supportReport({ checks: [], versions: {}, exchanges: [{ reader: "r", exchanges: rec.exchanges }] }),
    );
    expect(text).not.toContain(state.pan);
    expect(text).not.toContain("244826");
    expect(text).not.toContain(state.imk);
    expect(text).toContain("0020008008****************");
    expect(text).toMatch(/5A08\*{16}/);
    expect(toHex(card.atr)).toBe(SIM_ATR);
  });

  it("a recorded CAP session keeps no usable code: the AC of both GENERATE AC answers is masked", async () => {
    const card = new SimulatedCard(newSimCardState("uk", "4826"));
    const rec = new RedactingRecorder(card);
    const { generateCapCode, readerProfile } = await import("@capkit/emv-cap");
    const r = await generateCapCode(rec, { mode: "identify" }, { profile: readerProfile("uk"), pin: "4826" });
    const gac = rec.exchanges.filter((e) => e.c.startsWith("80AE"));
    expect(gac).toHaveLength(2);
    for (const e of gac) expect(e.r).toMatch(/^80..(..){3}\*{16}/); // format 1: CID, ATC, then the AC
    expect(JSON.stringify(rec.exchanges)).not.toContain(r.cryptogram.ac);
  });
});

describe("the simulator's ATR names no real product", () => {
  it("no entry of this machine's smartcard_list.txt (pcsc-tools) matches either simulated ATR", () => {
    const list = parseSmartcardList(readFileSync("/usr/share/pcsc/smartcard_list.txt", "utf8"));
    expect(list.length).toBeGreaterThan(1000);
    for (const atr of [SIM_ATR, SIM_COLD_ATR]) {
      expect(nameAtr(list, atr), atr).toEqual([]);
      expect(decodeAtr(atr).protocols).toEqual(["T=0"]);
    }
    // The list does name the ATRs the simulator had before (the check would catch one).
    expect(nameAtr(list, "3B021450")).toEqual(["Schlumberger Multiflex 3k"]);
  });
});
