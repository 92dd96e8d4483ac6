import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  capCodeValue,
  decodeTlv,
  flattenTlv,
  formatCode,
  fromHex,
  parseGacResponse,
  parseTranscript,
  STATIC_VISA_IPB,
} from "../src/index.js";

/**
 * The public recordings of physical readers (fixtures/field-recordings.json): each transcript is well formed,
 * and the code capkit extracts from each recorded GENERATE AC answer is the one the recording states, as
 * computed independently by fixtures/field-codes.py (never by capkit).
 */
interface Recording {
  id: string;
  transcript: string;
  inputs: { mode: string; challenge?: string; tds?: string[] };
  code: "ipb" | "tds" | "static-visa-ipb" | "belgian";
  expected: { code: string | null; from: string };
  placeholders: string[];
  source: string[];
}

const read = (path: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8"));
const MANIFEST = read("field-recordings.json") as {
  recordings: Recording[];
  sources: Record<string, string>;
  placeholderKinds: Record<string, string>;
};
const INDEPENDENT = read("field-codes.json") as {
  recordings: Record<string, { code: string | null; codeIfShown?: string; bits: number }>;
};

function recorded(r: Recording) {
  const t = parseTranscript(read(r.transcript));
  const data = new Map<number, Uint8Array>();
  for (const e of t.exchanges) {
    if (!/^00(A4|B2)/.test(e.c) || !e.r.endsWith("9000") || e.r.length <= 4) continue;
    for (const o of flattenTlv(decodeTlv(fromHex(e.r.slice(0, -4).replace(/\*/g, "0")))))
      if (!data.has(o.tag)) data.set(o.tag, o.value);
  }
  const gac = t.exchanges.find((e) => e.c.startsWith("80AE80"));
  if (!gac) throw new Error(`${r.id}: no GENERATE AC #1`);
  return { t, data, response: parseGacResponse(fromHex(gac.r.slice(0, -4))) };
}

describe("public field recordings", () => {
  it("every recording names known sources and placeholder kinds, and has an independent result", () => {
    expect(MANIFEST.recordings.length).toBeGreaterThanOrEqual(12);
    for (const r of MANIFEST.recordings) {
      for (const s of r.source) expect(MANIFEST.sources, r.id).toHaveProperty(s);
      for (const p of r.placeholders) expect(MANIFEST.placeholderKinds, r.id).toHaveProperty(p);
      expect(INDEPENDENT.recordings[r.id]?.code, r.id).toBe(r.expected.code);
      expect(r.expected.from.length, r.id).toBeGreaterThan(10);
    }
  });

  for (const r of MANIFEST.recordings.filter((x) => x.code !== "belgian")) {
    it(`${r.id}: capkit's IPB extraction gives ${r.expected.code ?? "the code a reader would have shown"}`, () => {
      const { data, response } = recorded(r);
      const ipb = r.code === "static-visa-ipb" ? fromHex(STATIC_VISA_IPB) : data.get(0x9f56)!;
      const psn = data.get(0x5f34);
      const { value, bits } = capCodeValue({
        response,
        ipb,
        iaf: data.get(0x9f55)?.[0] ?? 0,
        ...(psn ? { psn } : {}),
        ...(r.inputs.tds ? { tds: r.inputs.tds } : {}),
      });
      const independent = INDEPENDENT.recordings[r.id]!;
      expect(bits).toBe(independent.bits);
      expect(formatCode(value)).toBe(independent.code ?? independent.codeIfShown);
    });
  }
});
