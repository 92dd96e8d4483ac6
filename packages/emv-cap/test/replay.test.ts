import { fromHex, toHex } from "@capkit/core";
import { describe, expect, it } from "vitest";
import {
  generateCapCode,
  parseTranscript,
  ReplayConnection,
  readerProfile,
  TracingConnection,
} from "../src/index.js";
import { loadTranscript } from "./helpers.js";

const t = (exchanges: { c: string; r: string }[]) => ({
  format: "capkit-transcript/1",
  atr: "3B021450",
  exchanges,
});

describe("capkit-transcript/1 replay", () => {
  it("a * matches any nibble (the masked PIN block)", async () => {
    const conn = new ReplayConnection(t([{ c: "0020008008****************", r: "9000" }]));
    expect(toHex(await conn.transmit(fromHex("0020008008249876FFFFFFFFFF")))).toBe("9000");
  });

  it("case-4 commands match with or without the trailing Le 00, both ways", async () => {
    const conn = new ReplayConnection(
      t([
        { c: "80A80000028300", r: "01" + "9000" },
        { c: "80A8000002830000", r: "02" + "9000" },
      ]),
    );
    expect(toHex(await conn.transmit(fromHex("80A8000002830000")))).toBe("019000");
    expect(toHex(await conn.transmit(fromHex("80A80000028300")))).toBe("029000");
  });

  it("an exchange is used once; the first unused match wins", async () => {
    const conn = new ReplayConnection(
      t([
        { c: "80CA9F1700", r: "9F1701039000" },
        { c: "80CA9F1700", r: "9F1701029000" },
      ]),
    );
    expect(toHex(await conn.transmit(fromHex("80CA9F1700")))).toBe("9F1701039000");
    expect(toHex(await conn.transmit(fromHex("80CA9F1700")))).toBe("9F1701029000");
    await expect(conn.transmit(fromHex("80CA9F1700"))).rejects.toMatchObject({ code: "TRANSCRIPT_MISMATCH" });
  });

  it("strict mode requires the recorded order", async () => {
    const rec = t([
      { c: "00A4040007A0000000038002", r: "9000" },
      { c: "80CA9F1700", r: "9F1701039000" },
    ]);
    const loose = new ReplayConnection(rec);
    expect(toHex(await loose.transmit(fromHex("80CA9F1700")))).toBe("9F1701039000");
    const strict = new ReplayConnection(rec, { strict: true });
    await expect(strict.transmit(fromHex("80CA9F1700"))).rejects.toMatchObject({
      code: "TRANSCRIPT_MISMATCH",
      message: expect.stringContaining("next recorded command is 00A4040007A0000000038002"),
    });
  });

  it("a mismatch names the command, PIN masked", async () => {
    const conn = new ReplayConnection(t([{ c: "80CA9F1700", r: "9000" }]));
    const err = await conn.transmit(fromHex("0020008008241234FFFFFFFFFF")).catch((e) => e);
    expect(err.code).toBe("TRANSCRIPT_MISMATCH");
    expect(err.message).toContain("0020008008****************");
    expect(err.message).not.toContain("1234");
  });

  it("rejects malformed transcripts with typed errors", () => {
    for (const bad of [
      "not json",
      {},
      { format: "capkit-transcript/2", atr: "3B", exchanges: [] },
      { format: "capkit-transcript/1", atr: "XYZ", exchanges: [] },
      { format: "capkit-transcript/1", atr: "3B", exchanges: [{ c: "00A4", r: "9000" }] },
      { format: "capkit-transcript/1", atr: "3B", exchanges: [{ c: "00A40400", r: "90" }] },
      { format: "capkit-transcript/1", atr: "3B", exchanges: [{ c: "00A40400", r: "9000" }], note: 3 },
    ]) {
      expect(() => parseTranscript(bad)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/TRANSCRIPT_INVALID|HEX_INVALID/) }),
      );
    }
  });

  it("accepts spaces and lower case, and normalises", () => {
    const p = parseTranscript({
      format: "capkit-transcript/1",
      atr: "3b 02 14 50",
      exchanges: [{ c: "80ca 9f17 00", r: "9f17 0103 9000" }],
    });
    expect(p.exchanges[0]).toEqual({ c: "80CA9F1700", r: "9F1701039000" });
    expect(p.atr).toBe("3B021450");
  });

  it("a traced session replays strictly to the same code", async () => {
    const traced = new TracingConnection(new ReplayConnection(loadTranscript("natwest-respond-12345678")), {
      note: "test",
    });
    const inputs = { mode: "respond" as const, challenge: "12345678" };
    const profile = readerProfile("mastercard-cap");
    const first = await generateCapCode(traced, inputs, { profile, pin: "4321" });
    const recording = traced.transcript();
    expect(recording.note).toBe("test");
    expect(JSON.stringify(recording)).not.toContain("4321");
    const again = await generateCapCode(
      new ReplayConnection(JSON.stringify(recording), { strict: true }),
      inputs,
      { profile, pin: "4321" },
    );
    expect(again.code).toBe(first.code);
  });
});
