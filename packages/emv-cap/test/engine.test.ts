import { CapkitError, fromHex, toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CardConnection,
  encodeTlv,
  generateCapCode,
  listApplications,
  pinBlock,
  plaintextPin,
  ReplayConnection,
  readCapApplication,
  readerProfile,
  TracingConnection,
  tlv,
  transmitApdu,
} from "../src/index.js";
import { loadTranscript, SpyConnection, withResponse } from "./helpers.js";

const french = () => loadTranscript("french-visa-dpa-identify");
const sesame = readerProfile("sesame");
const identify = { mode: "identify" as const };

async function failure(p: Promise<unknown>): Promise<CapkitError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CapkitError);
    return e as CapkitError;
  }
  throw new Error("expected a failure");
}

const sentVerify = (spy: SpyConnection) => spy.sent.some((c) => c.startsWith("0020"));

/** A PSE record listing one application: 70 { 61 { 4F aid, 50 label, 87 priority } }. */
function pseRecord(aid: string, label: string, priority: number): string {
  const entry = tlv(0x61, [
    tlv(0x4f, fromHex(aid)),
    tlv(0x50, new TextEncoder().encode(label)),
    tlv(0x87, Uint8Array.of(priority)),
  ]);
  return `${toHex(encodeTlv(tlv(0x70, [entry])))}9000`;
}
const PSE_FCI = `${toHex(encodeTlv(tlv(0x6f, [tlv(0x84, new TextEncoder().encode("1PAY.SYS.DDF01")), tlv(0xa5, [tlv(0x88, Uint8Array.of(1))])])))}9000`;

describe("PIN safety", () => {
  it("refuses to VERIFY with one try left, sending no VERIFY", async () => {
    const spy = new SpyConnection(new ReplayConnection(withResponse(french(), "80CA9F17", "9F1701019000")));
    const e = await failure(generateCapCode(spy, identify, { profile: sesame, pin: "1234" }));
    expect(e.code).toBe("PIN_TRIES_LOW");
    expect(sentVerify(spy)).toBe(false);
  });

  it("refuses when the card does not report its try counter, unless forced", async () => {
    const t = withResponse(french(), "80CA9F17", "6A88");
    const spy = new SpyConnection(new ReplayConnection(t));
    expect((await failure(generateCapCode(spy, identify, { profile: sesame, pin: "1234" }))).code).toBe(
      "PIN_TRIES_UNKNOWN",
    );
    expect(sentVerify(spy)).toBe(false);
    const forced = await generateCapCode(new ReplayConnection(t), identify, {
      profile: sesame,
      pin: "1234",
      force: true,
    });
    expect(forced.code).toBe("34656023");
  });

  it("with one try left and force, it verifies", async () => {
    const t = withResponse(french(), "80CA9F17", "9F1701019000");
    const r = await generateCapCode(new ReplayConnection(t), identify, {
      profile: sesame,
      pin: "1234",
      force: true,
    });
    expect(r.code).toBe("34656023");
  });

  it("reports a blocked PIN before verifying", async () => {
    const spy = new SpyConnection(new ReplayConnection(withResponse(french(), "80CA9F17", "9F1701009000")));
    expect((await failure(generateCapCode(spy, identify, { profile: sesame, pin: "1234" }))).code).toBe(
      "PIN_BLOCKED",
    );
    expect(sentVerify(spy)).toBe(false);
  });

  it("maps VERIFY answers: 63C2 wrong PIN with tries left, 63C0 and 6983 blocked, and stops", async () => {
    for (const [sw, code, left] of [
      ["63C2", "PIN_WRONG", 2],
      ["63C0", "PIN_BLOCKED", 0],
      ["6983", "PIN_BLOCKED", undefined],
    ] as const) {
      const spy = new SpyConnection(new ReplayConnection(withResponse(french(), "0020", sw)));
      const e = await failure(generateCapCode(spy, identify, { profile: sesame, pin: "9999" }));
      expect(e.code).toBe(code);
      if (left !== undefined) expect(e.details?.["triesLeft"]).toBe(left);
      expect(spy.sent.some((c) => c.startsWith("80AE"))).toBe(false);
    }
  });

  it("rejects a malformed PIN before any APDU, without echoing it", async () => {
    for (const pin of ["123", "12a4", "1234567890123", ""]) {
      const spy = new SpyConnection(new ReplayConnection(french()));
      const e = await failure(generateCapCode(spy, identify, { profile: sesame, pin }));
      expect(e.code).toBe("PIN_INVALID");
      if (pin) expect(e.message).not.toContain(pin);
      expect(spy.sent).toEqual([]);
    }
  });

  it("builds the EMV plaintext PIN block", () => {
    expect(toHex(pinBlock("1234"))).toBe("241234FFFFFFFFFF");
    expect(toHex(pinBlock("12345"))).toBe("2512345FFFFFFFFF");
    expect(toHex(pinBlock("123456789012"))).toBe("2C123456789012FF");
  });
});

describe("no PIN digit in traces, errors or logs", () => {
  it("holds for random PINs, right or wrong", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9]{4,12}$/), fc.boolean(), async (pin, wrong) => {
        const t = wrong ? withResponse(french(), "0020", "63C2") : french();
        const logged: string[] = [];
        const conn = new TracingConnection(new ReplayConnection(t), {
          onExchange: (e) => logged.push(JSON.stringify(e)),
        });
        let errorText = "";
        try {
          await generateCapCode(conn, identify, {
            profile: sesame,
            pin,
            onStep: (s) => logged.push(JSON.stringify(s)),
          });
        } catch (e) {
          const err = e as CapkitError;
          errorText = JSON.stringify({ m: err.message, h: err.hint, d: err.details, s: err.stack });
        }
        const everything = JSON.stringify(conn.transcript()) + logged.join("\n") + errorText;
        expect(everything).not.toContain(toHex(pinBlock(pin)).slice(0, 2 + pin.length));
        expect(everything).toContain("0020008008****************");
        if (errorText) expect(errorText).not.toContain(pin);
      }),
      { numRuns: 100 },
    );
  });
});

describe("warm reset and application selection", () => {
  it("warm-resets a card whose ATR starts 3F before talking to it", async () => {
    const t = { ...french(), atr: "3F6525082104" };
    const spy = new SpyConnection(new ReplayConnection(t));
    const r = await generateCapCode(spy, identify, { profile: sesame, pin: "1234" });
    expect(r.code).toBe("34656023");
    expect(spy.resets).toEqual(["warm"]);
  });

  it("warm-resets and starts again when a SELECT answers 6E00", async () => {
    const base = french();
    const t = { ...base, exchanges: [{ c: "00A4040007A0000000038002", r: "6E00" }, ...base.exchanges] };
    const spy = new SpyConnection(new ReplayConnection(t));
    const r = await generateCapCode(spy, identify, { profile: sesame, pin: "1234" });
    expect(r.code).toBe("34656023");
    expect(spy.resets).toEqual(["warm"]);
  });

  it("treats 6D00 (instruction not supported) on the first SELECT like 6E00: one warm reset", async () => {
    const base = french();
    const t = { ...base, exchanges: [{ c: "00A4040007A0000000038002", r: "6D00" }, ...base.exchanges] };
    const spy = new SpyConnection(new ReplayConnection(t));
    const r = await generateCapCode(spy, identify, { profile: sesame, pin: "1234" });
    expect(r.code).toBe("34656023");
    expect(spy.resets).toEqual(["warm"]);
  });

  it("warm-resets when the GPO answers 6D00 or 6E00", async () => {
    for (const sw of ["6D00", "6E00"]) {
      const base = french();
      const gpo = base.exchanges.findIndex((e) => e.c.startsWith("80A8"));
      const t = {
        ...base,
        exchanges: [
          ...base.exchanges.slice(0, gpo + 1).map((e, i) => (i === gpo ? { ...e, r: sw } : e)),
          ...base.exchanges,
        ],
      };
      const spy = new SpyConnection(new ReplayConnection(t));
      const r = await generateCapCode(spy, identify, { profile: sesame, pin: "1234" });
      expect(r.code).toBe("34656023");
      expect(spy.resets).toEqual(["warm"]);
    }
  });

  it("after one warm reset, a card still answering 6D00 gets a typed error, not a loop", async () => {
    const t = {
      ...french(),
      atr: "3F6525082204689000",
      exchanges: [
        { c: "00A4040007A0000000038002", r: "6D00" },
        { c: "00A4040007A0000000038002", r: "6D00" },
      ],
    };
    const spy = new SpyConnection(new ReplayConnection(t));
    await expect(generateCapCode(spy, identify, { profile: sesame, pin: "1234" })).rejects.toMatchObject({
      code: "CARD_NOT_SUPPORTED",
      details: { sw: "6D00" },
    });
    expect(spy.resets).toEqual(["warm"]);
  });

  it("falls back to the PSE and picks a listed CAP application", async () => {
    const base = french();
    const aid = "A0000001118002";
    const fci = "6F108407A0000001118002A5055F2D02656E9000";
    const tail = base.exchanges.filter((e) => !e.c.startsWith("00A4"));
    const t = {
      ...base,
      exchanges: [
        { c: "00A4040007A0000000038002", r: "6A82" },
        { c: "00A4040007A0000000048002", r: "6A82" },
        { c: "00A404000E315041592E5359532E4444463031", r: PSE_FCI },
        { c: "00B2010C00", r: pseRecord("A0000000031010", "VISA", 2) },
        { c: "00B2020C00", r: pseRecord(aid, "POSTFINANCE", 1) },
        { c: "00B2030C00", r: "6A83" },
        { c: `00A4040007${aid}`, r: fci },
        ...tail,
      ],
    };
    const apps = await listApplications(new ReplayConnection(t));
    expect(apps.map((a) => a.aid)).toEqual(["A0000000031010", aid]);
    const r = await generateCapCode(new ReplayConnection(t), identify, { profile: sesame, pin: "1234" });
    expect(r.aid).toBe(aid);
    expect(r.code).toBe("34656023");
  });

  it("says which applications it found when none is CAP", async () => {
    const t = {
      format: "capkit-transcript/1" as const,
      atr: "3B021450",
      exchanges: [
        { c: "00A4040007A0000000038002", r: "6A82" },
        { c: "00A4040007A0000000048002", r: "6A82" },
        { c: "00A404000E315041592E5359532E4444463031", r: PSE_FCI },
        { c: "00B2010C00", r: pseRecord("A0000000031010", "VISA", 1) },
        { c: "00B2020C00", r: "6A83" },
      ],
    };
    const e = await failure(
      generateCapCode(new ReplayConnection(t), identify, { profile: sesame, pin: "1234" }),
    );
    expect(e.code).toBe("NO_CAP_APPLICATION");
    expect(e.hint).toContain("A0000000031010");
  });

  it("a forced AID is the only one tried", async () => {
    const spy = new SpyConnection(new ReplayConnection(french()));
    const e = await failure(readCapApplication(spy, { profile: sesame, aid: "A0000000048002" }));
    expect(e.code).toBe("TRANSCRIPT_MISMATCH");
    expect(spy.sent).toEqual(["00A4040007A000000004800200"]);
  });

  it("reads the application without a PIN (card info)", async () => {
    const app = await readCapApplication(new ReplayConnection(french()), { profile: sesame });
    expect(app.aid).toBe("A0000000038002");
    expect(app.label).toBe("VISA Auth");
    expect(toHex(app.ipb!)).toBe("8001FFFFFF000000000000000000000000");
    expect(app.iaf).toBe(0);
    expect(app.cdol1.length).toBe(8);
  });
});

describe("inputs are checked before any APDU", () => {
  const bad = [
    { mode: "respond" as const },
    { mode: "respond" as const, challenge: "123456789" },
    { mode: "respond" as const, challenge: "12a4" },
    { mode: "identify" as const, challenge: "1234" },
    { mode: "sign" as const, challenge: "1234" },
    { mode: "sign" as const, challenge: "1234", amount: "12.345" },
    { mode: "respond" as const, challenge: "1234", tds: ["1"] },
    { mode: "identify" as const, tds: [] },
  ];
  for (const inputs of bad) {
    it(JSON.stringify(inputs), async () => {
      const spy = new SpyConnection(new ReplayConnection(french()));
      const e = await failure(generateCapCode(spy, inputs, { profile: sesame, pin: "1234" }));
      expect(e.code).toBe("INPUT_INVALID");
      expect(spy.sent).toEqual([]);
    });
  }

  it("sign on a card whose IAF has no amount flag is refused before the PIN", async () => {
    const spy = new SpyConnection(new ReplayConnection(french()));
    const e = await failure(
      generateCapCode(
        spy,
        { mode: "sign", challenge: "1234", amount: "10" },
        { profile: sesame, pin: "1234" },
      ),
    );
    expect(e.code).toBe("CARD_NOT_SUPPORTED");
    expect(sentVerify(spy)).toBe(false);
  });
});

describe("T=0 handling, once for every transport", () => {
  /** A card that answers like T=0: 61xx for data, 6Cxx when Le is wrong. */
  function t0Card(): CardConnection & { sent: string[] } {
    const sent: string[] = [];
    return {
      atr: Uint8Array.of(0x3b, 0x02, 0x14, 0x50),
      sent,
      async transmit(cmd) {
        const hex = toHex(cmd);
        sent.push(hex);
        if (hex === "80CA9F1700") return Uint8Array.of(0x6c, 0x04);
        if (hex === "80CA9F1704") return Uint8Array.of(0x9f, 0x17, 0x01, 0x03, 0x90, 0x00);
        if (hex.startsWith("00A4")) return Uint8Array.of(0x61, 0x03);
        if (hex === "00C0000003") return Uint8Array.of(1, 2, 3, 0x61, 0x02);
        if (hex === "00C0000002") return Uint8Array.of(4, 5, 0x90, 0x00);
        return Uint8Array.of(0x6d, 0x00);
      },
      async close() {},
    };
  }

  it("chains GET RESPONSE on 61xx", async () => {
    const card = t0Card();
    const r = await transmitApdu(card, { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: Uint8Array.of(1), le: 256 });
    expect(toHex(r.data)).toBe("0102030405");
    expect(r.sw).toBe(0x9000);
  });

  it("resends with the right Le on 6Cxx", async () => {
    const card = t0Card();
    const r = await transmitApdu(card, { cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x17, le: 256 });
    expect(toHex(r.data)).toBe("9F170103");
    expect(card.sent).toEqual(["80CA9F1700", "80CA9F1704"]);
  });

  it("stops a card that answers 61xx forever", async () => {
    const loop: CardConnection = {
      atr: new Uint8Array(2),
      transmit: async () => Uint8Array.of(0x61, 0x01),
      close: async () => {},
    };
    await expect(transmitApdu(loop, { cla: 0, ins: 0xb2, p1: 1, p2: 0x0c, le: 256 })).rejects.toMatchObject({
      code: "CARD_ERROR",
    });
  });
});

describe("pin entry", () => {
  it("a host PIN entry zeroes nothing it does not own and reports its kind", () => {
    expect(plaintextPin("1234").kind).toBe("host");
  });
});
