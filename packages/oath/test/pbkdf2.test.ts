import { toHex } from "@capkit/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { importPskc, importPskcAsync } from "../src/index.js";
import { OTP } from "./vectors.js";

/**
 * PSKC password files (RFC 6030 §6.2) come from outside, and PBKDF2 is work an attacker chooses: issue 20
 * measured 1,000,000 iterations of HMAC-SHA-512 blocking the event loop 5.1 s per file, and a key length that
 * is refused anyway refused only after 2.8 s of derivation. Here the work is counted, never timed: every
 * derivation (@noble/hashes' sync and async PBKDF2, WebCrypto's deriveBits) goes through a counter.
 */
const work = vi.hoisted(() => ({ sync: 0, async: 0 }));
vi.mock("@noble/hashes/pbkdf2.js", async (original) => {
  const m = await original<typeof import("@noble/hashes/pbkdf2.js")>();
  return {
    ...m,
    pbkdf2: (...a: Parameters<typeof m.pbkdf2>) => {
      work.sync++;
      return m.pbkdf2(...a);
    },
    pbkdf2Async: (...a: Parameters<typeof m.pbkdf2Async>) => {
      work.async++;
      return m.pbkdf2Async(...a);
    },
  };
});

const fig7 = OTP.rfc6030_examples.figure7;
const password: string = fig7.expect.password;

/** RFC 6030 Figure 7 with its PBKDF2 parameters (or anything else) changed. */
function figure7(change: (xml: string) => string): string {
  const xml = change(fig7.xml as string);
  if (xml === fig7.xml) throw new Error("the change changed nothing");
  return xml;
}
const iterations = (n: number | string) => (x: string) =>
  x.replace("<IterationCount>1000</IterationCount>", `<IterationCount>${n}</IterationCount>`);
const keyLength = (n: number) => (x: string) =>
  x.replace("<KeyLength>16</KeyLength>", `<KeyLength>${n}</KeyLength>`);
const prf = (uri: string) => (x: string) => x.replace("<PRF/>", `<PRF Algorithm="${uri}"/>`);
const salt = (b64: string) => (x: string) => x.replace("Ej7/PEpyEpw=", b64);
const SHA512 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512";

function derivations(): number {
  return work.sync + work.async + deriveBits.mock.calls.length;
}
const deriveBits = vi.spyOn(globalThis.crypto.subtle, "deriveBits");

afterEach(() => {
  work.sync = 0;
  work.async = 0;
  deriveBits.mockClear();
});

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return "no error";
  } catch (e) {
    return (e as { code?: string }).code ?? "untyped";
  }
}

describe("every PBKDF2 limit is checked before deriving", () => {
  const refused: [string, string][] = [
    ["2,000,000 iterations (above the bound)", figure7(iterations(2_000_000))],
    ["999 iterations (below the bound)", figure7(iterations(999))],
    ["a non-numeric count", figure7(iterations("1e6"))],
    ["KeyLength 32 for aes128-cbc values (issue 20: refused after 2.8 s)", figure7(keyLength(32))],
    ["KeyLength 20", figure7(keyLength(20))],
    ["an unknown PRF", figure7(prf("http://www.w3.org/2001/04/xmldsig-more#hmac-md5"))],
    ["a 4-byte salt", figure7(salt("AQIDBA=="))],
    ["a salt that is not base64", figure7(salt("Ej7/PEpy*pw="))],
    ["no salt", figure7((x) => x.replace(/<Salt>[\s\S]*?<\/Salt>/, ""))],
    [
      "a value encrypted with an unknown method",
      figure7((x) =>
        x.replace(
          '<xenc:EncryptionMethod\n                        Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>',
          '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>',
        ),
      ),
    ],
    [
      "an encrypted value without ValueMAC",
      figure7((x) => x.replace(/<pskc:ValueMAC>[\s\S]*?<\/pskc:ValueMAC>/, "")),
    ],
    ["no MACMethod", figure7((x) => x.replace(/<pskc:MACMethod[\s\S]*?<\/pskc:MACMethod>/, ""))],
  ];

  for (const [what, xml] of refused) {
    it(`${what}: a typed error, no derivation (sync and async)`, async () => {
      for (const read of [importPskc, importPskcAsync]) {
        const code = await codeOf(() => read(xml, { password }));
        expect(["PSKC_INVALID", "PSKC_MAC_INVALID", "INPUT_INVALID"], `${read.name}: ${code}`).toContain(
          code,
        );
      }
      expect(derivations()).toBe(0);
    });
  }

  it("the counter counts: Figure 7 itself derives once per import, and reads the RFC's secret", async () => {
    expect(toHex(importPskc(fig7.xml, { password }).keys[0]!.secret!).toLowerCase()).toBe(
      fig7.expect.secretHex,
    );
    expect(work.sync).toBe(1);
    const r = await importPskcAsync(fig7.xml, { password });
    expect(toHex(r.keys[0]!.secret!).toLowerCase()).toBe(fig7.expect.secretHex);
    expect(deriveBits).toHaveBeenCalledTimes(1);
    expect(derivations()).toBe(2);
  });

  it("the synchronous import derives at most 10,000 iterations by default; the async one up to 1,000,000", async () => {
    const big = figure7(iterations(100_000));
    expect(() => importPskc(big, { password })).toThrow(
      /PBKDF2 iteration count must be 1000 to 10000 here \(importPskcAsync derives up to 1000000 off the event loop\)/,
    );
    expect(derivations()).toBe(0);
    // Derived, then refused by the MAC: the count changed, so the key did.
    expect(await codeOf(() => importPskcAsync(big, { password }))).toBe("PSKC_MAC_INVALID");
    expect(derivations()).toBe(1);
    // A caller who accepts blocking its thread says so.
    expect(() => importPskc(big, { password, maxIterations: 100_000 })).toThrow(
      expect.objectContaining({ code: "PSKC_MAC_INVALID" }),
    );
  });
});

/** Counts event-loop turns (timers) while `work` runs: a blocked loop counts none. */
async function turnsDuring(work: Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => {
    done = true;
  });
  await new Promise<void>((resolve) => {
    const turn = () => {
      if (done) return resolve();
      turns++;
      setTimeout(turn, 0);
    };
    setTimeout(turn, 0);
  });
  return turns;
}

describe("the derivation runs off the event loop", () => {
  it("1,000,000 iterations of HMAC-SHA-512 (WebCrypto): the event loop keeps turning", async () => {
    const xml = figure7((x) => iterations(1_000_000)(prf(SHA512)(x)));
    const turns = await turnsDuring(importPskcAsync(xml, { password }));
    expect(deriveBits).toHaveBeenCalledTimes(1);
    expect(turns).toBeGreaterThan(20);
  });

  it("where WebCrypto is missing (a page that is not a secure context), @noble/hashes yields between slices", async () => {
    const subtle = Object.getOwnPropertyDescriptor(globalThis.crypto, "subtle");
    Object.defineProperty(globalThis.crypto, "subtle", { value: undefined, configurable: true });
    try {
      const xml = figure7((x) => iterations(50_000)(prf(SHA512)(x)));
      const turns = await turnsDuring(importPskcAsync(xml, { password }));
      expect(work.async).toBe(1);
      expect(turns).toBeGreaterThan(3);
      // Same key as WebCrypto and the sync path: Figure 7 reads the RFC's secret through the fallback too.
      const r = await importPskcAsync(fig7.xml, { password });
      expect(toHex(r.keys[0]!.secret!).toLowerCase()).toBe(fig7.expect.secretHex);
    } finally {
      if (subtle) Object.defineProperty(globalThis.crypto, "subtle", subtle);
      else delete (globalThis.crypto as { subtle?: unknown }).subtle;
    }
  });
});
