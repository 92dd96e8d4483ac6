import { asciiToBytes, toHex } from "@capkit/core";
import {
  type CapInputs,
  generateCapCode,
  ReplayConnection,
  readerProfile,
  redactTranscript,
  TracingConnection,
} from "@capkit/emv-cap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newSimCardState, SIM_CARD_PROFILES, SimulatedCard } from "../src/index.js";

/** Trace a whole CAP session of a simulated card, as `capkit cap code --trace` does. */
async function tracedSession(card: SimulatedCard, inputs: CapInputs, pin: string) {
  const traced = new TracingConnection(card);
  const profile = readerProfile(card.profile.readerProfile);
  const result = await generateCapCode(traced, inputs, { profile, pin });
  return { result, transcript: traced.transcript(), profile };
}

const luhn = (partial: string) => {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return partial + String((10 - (sum % 10)) % 10);
};

describe("shareable traces: cardholder data and the code's cryptogram masked; the dialogue still replays", () => {
  it("for random simulated cards, no redacted trace holds the PAN, expiry, track 2, name, PIN or AC; each replays its whole dialogue but gives no code, and the unredacted one the same code", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(SIM_CARD_PROFILES)),
        fc.stringMatching(/^[0-9]{11,18}$/).map(luhn),
        fc.record({ yy: fc.integer({ min: 26, max: 40 }), mm: fc.integer({ min: 1, max: 12 }) }),
        fc.stringMatching(/^[0-9]{4}$/),
        fc.oneof(
          fc.constant<CapInputs>({ mode: "identify" }),
          fc.stringMatching(/^[0-9]{1,8}$/).map((challenge): CapInputs => ({ mode: "respond", challenge })),
        ),
        fc.boolean(),
        async (profileName, pan, { yy, mm }, pin, inputs, t0) => {
          const expiry = `${yy}${String(mm).padStart(2, "0")}31`;
          const state = { ...newSimCardState(profileName, pin), pan, expiry };
          const card = new SimulatedCard(state, { t0 });
          const { result, transcript, profile } = await tracedSession(card, inputs, pin);
          // The unredacted trace does hold them (else this test proves nothing).
          const raw = JSON.stringify(transcript);
          expect(raw).toContain(pan.length % 2 ? `${pan}F` : pan);

          const redacted = redactTranscript(transcript);
          const text = JSON.stringify(redacted);
          expect(text).not.toContain(pan);
          expect(text).not.toContain(pan.slice(0, -1)); // odd-length PANs in BCD
          expect(text).not.toContain(toHex(asciiToBytes(pan)));
          expect(text).not.toContain(`5F2403${expiry}`);
          // Track 2 (PAN D YYMM …): its whole value is masked.
          const record = redacted.exchanges.find(
            (e) => e.c.startsWith("00B2") && /^70(81..|..)57/.test(e.r),
          )!;
          expect(record.r).toMatch(/57([0-9A-F]{2})\*+5A/);
          expect(text).not.toContain(toHex(asciiToBytes("CAPKIT/TEST CARD")));
          const verify = redacted.exchanges.find((e) => e.c.startsWith("0020"))!;
          expect(verify.c).toBe(`0020008008${"*".repeat(16)}`);

          // The cryptogram of both GENERATE AC answers (through GET RESPONSE on a T=0 card) is masked.
          expect(raw).toContain(result.cryptogram.ac);
          expect(text).not.toContain(result.cryptogram.ac);
          expect(text).toMatch(/9F2608\*{16}|80..(..){3}\*{16}/);

          // Replayed with any PIN (the VERIFY is masked): the whole dialogue, then no code, said so.
          const replay = new ReplayConnection(redacted);
          const e = await generateCapCode(replay, inputs, { profile, pin: "0000" }).catch((x: unknown) => x);
          expect(e).toMatchObject({ code: "CODE_NOT_KEPT", details: { atc: result.atc, aid: result.aid } });
          expect(replay.remaining).toBe(0);
          // The unredacted trace — a lab's own card — replays to the same code.
          const lab = await generateCapCode(new ReplayConnection(transcript), inputs, {
            profile,
            pin: "0000",
          });
          expect(lab.code).toBe(result.code);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("masks inside any template, keeps lengths and status words, and is idempotent", async () => {
    const { transcript } = await tracedSession(
      new SimulatedCard(newSimCardState("sesame", "1234")),
      { mode: "identify" },
      "1234",
    );
    const once = redactTranscript(transcript);
    expect(redactTranscript(once)).toEqual(once);
    const record = once.exchanges.find((e) => e.c.startsWith("00B2") && e.r.includes("5A08"))!;
    expect(record.r).toMatch(/5A08\*{16}/);
    expect(record.r).toMatch(/5F2403\*{6}/);
    expect(record.r.endsWith("9000")).toBe(true);
    for (const [e, o] of once.exchanges.map((x, i) => [x, transcript.exchanges[i]!] as const)) {
      expect(e.r.length).toBe(o.r.length);
      expect(e.c.length).toBe(o.c.length);
    }
  });

  it("finds the PAN outside its tag too (here in a proprietary response)", () => {
    const t = {
      format: "capkit-transcript/1" as const,
      atr: "3B021450",
      exchanges: [
        { c: "00B2010C00", r: "70135A0849701234567890125F24033012315F34010190 00".replace(/ /g, "") },
        { c: "80CA010100", r: "DF01084970123456789012 9000".replace(/ /g, "") },
        { c: "80CA0102084970123456789012", r: "9000" },
      ],
    };
    const text = JSON.stringify(redactTranscript(t));
    expect(text).not.toContain("4970123456789012");
    expect(text).toContain("DF0108****************9000");
  });
});
