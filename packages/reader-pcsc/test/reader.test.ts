import { toHex } from "@capkit/core";
import { generateCapCode } from "@capkit/emv-cap";
import { newSimCardState, SIM_ATR, SimulatedCard } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { emvPinVerifyStructure, PcscConnection, parseFeatures, pcscError } from "../src/index.js";
import { loadPcsclite } from "../src/load.js";
import { pinVerifyFromStructure } from "./pinpad-emulation.js";
import { scriptedReader } from "./scripted-reader.js";

describe("PIN-pad VERIFY (PC/SC part 10)", () => {
  it("builds the PIN_VERIFY_STRUCTURE for the EMV plaintext PIN block", () => {
    expect(toHex(emvPinVerifyStructure())).toBe(
      // timers, formats, min/max digits, OK key, 1 message, lang 0409, msg 0, no prologue, 13 APDU bytes
      "1E1E" +
        "894804" +
        "0C04" +
        "02" +
        "01" +
        "0904" +
        "00" +
        "000000" +
        "0D000000" +
        "0020008008" +
        "20FFFFFFFFFFFFFF",
    );
  });

  it("a reader following the structure writes the EMV PIN block", () => {
    expect(toHex(pinVerifyFromStructure(emvPinVerifyStructure(), "1234"))).toBe("0020008008241234FFFFFFFFFF");
    expect(toHex(pinVerifyFromStructure(emvPinVerifyStructure(), "12345"))).toBe(
      "00200080082512345FFFFFFFFF",
    );
  });

  it("parses GET_FEATURE_REQUEST TLVs", () => {
    expect(
      parseFeatures(Uint8Array.of(0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x12, 0x04, 0x42, 0x33, 0x00, 0x12)),
    ).toEqual(
      new Map([
        [0x06, 0x42330006],
        [0x12, 0x42330012],
      ]),
    );
    expect(parseFeatures(Uint8Array.of(0x06, 0x04, 0x42))).toEqual(new Map());
  });

  it("the CAP engine verifies on the keypad: the host never sends the PIN", async () => {
    const state = newSimCardState("sesame", "2580");
    const card = new SimulatedCard(state);
    const { handle } = scriptedReader(card, { keypadPin: "2580" });
    const conn = await PcscConnection.open(handle);
    const pin = await conn.pinpad();
    expect(pin?.kind).toBe("pinpad");
    const sent: string[] = [];
    const spy = {
      atr: conn.atr,
      transmit: async (c: Uint8Array) => {
        sent.push(toHex(c));
        return conn.transmit(c);
      },
      close: () => conn.close(),
    };
    const r = await generateCapCode(spy, { mode: "identify" }, { pin: pin! });
    const reference = await generateCapCode(new SimulatedCard(state), { mode: "identify" }, { pin: "2580" });
    expect(r.code).toBe(reference.code);
    expect(sent.some((c) => c.startsWith("0020"))).toBe(false);
  });

  it("a wrong PIN typed on the keypad is a wrong PIN", async () => {
    const { handle } = scriptedReader(new SimulatedCard(newSimCardState("sesame", "2580")), {
      keypadPin: "1111",
    });
    const conn = await PcscConnection.open(handle);
    await expect(
      generateCapCode(conn, { mode: "identify" }, { pin: (await conn.pinpad())! }),
    ).rejects.toMatchObject({
      code: "PIN_WRONG",
    });
  });

  it("a reader without features has no PIN pad", async () => {
    const { handle } = scriptedReader(new SimulatedCard(newSimCardState("sesame", "2580")), {
      features: false,
    });
    const conn = await PcscConnection.open(handle);
    expect(await conn.pinpad()).toBeUndefined();
  });
});

describe("PcscConnection", () => {
  it("connects exclusively by default (a CAP session is not interleaved), shared on request", async () => {
    const card = new SimulatedCard(newSimCardState("sesame", "1234"));
    const a = scriptedReader(card);
    await PcscConnection.open(a.handle);
    const b = scriptedReader(card);
    await PcscConnection.open(b.handle, { share: "shared" });
    expect([a.calls[0], b.calls[0]]).toEqual(["connect exclusive", "connect shared"]);
  });

  it("an empty response means the card was removed", async () => {
    const { handle } = scriptedReader(new SimulatedCard(newSimCardState("sesame", "1234")));
    const conn = await PcscConnection.open({ ...handle, transmit: async () => new Uint8Array(0) });
    await expect(conn.transmit(Uint8Array.of(0, 0xa4, 4, 0))).rejects.toMatchObject({ code: "CARD_REMOVED" });
  });

  it("a warm reset is disconnect(reset) + connect; close leaves the card powered, once", async () => {
    const { handle, calls } = scriptedReader(new SimulatedCard(newSimCardState("sesame", "1234")));
    const conn = await PcscConnection.open(handle);
    expect(toHex(await conn.reset("warm"))).toBe(SIM_ATR);
    await conn.close();
    await conn.close();
    expect(calls).toEqual(["connect exclusive", "disconnect reset", "connect exclusive", "disconnect leave"]);
    await expect(conn.transmit(Uint8Array.of(0, 0xa4, 4, 0))).rejects.toMatchObject({ code: "CARD_ERROR" });
  });
});

describe("PC/SC errors", () => {
  it("map SCARD codes to typed errors with a hint", () => {
    const cases: [string, string][] = [
      ["SCardEstablishContext error: Service not available.(0x8010001d)", "PCSCD_NOT_RUNNING"],
      ["SCardTransmit error: RPC transport error.(0x80100013)", "PCSCD_NOT_RUNNING"],
      ["SCardConnect error: Sharing violation.(0x8010000b)", "CARD_BUSY"],
      ["SCardTransmit error: Sharing violation.(0x8010000b)", "CARD_BUSY"],
      ["SCardTransmit error: Card was removed.(0x80100069)", "CARD_REMOVED"],
      ["SCardConnect error: No smart card inserted.(0x8010000c)", "NO_CARD"],
      ["SCardConnect error: Unknown reader specified.(0x80100009)", "NO_READER"],
      ["SCardGetStatusChange error: Command timeout.(0x8010000a)", "TIMEOUT"],
      ["SCardControl error: Feature not supported.(0x8010001f)", "PINPAD_UNSUPPORTED"],
      ["something else", "CARD_ERROR"],
    ];
    for (const [message, code] of cases) {
      const e = pcscError(new Error(message), "test");
      expect(e.code, message).toBe(code);
      if (code !== "CARD_ERROR") expect(e.hint).toBeTruthy();
    }
  });

  it("the native module loads (built against libpcsclite by the set-up)", () => {
    expect(typeof loadPcsclite()).toBe("function");
  });
});
