import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type CapInputs,
  CapkitError,
  type CommandApdu,
  cdolValues,
  decodeTlv,
  encodeCommand,
  fillDol,
  flattenTlv,
  fromHex,
  GAC_REFERENCE,
  generateAc,
  generateCapCode,
  parseDol,
  READER_PROFILES,
  ReplayConnection,
  readerProfile,
  TAG,
  type Transcript,
  toHex,
} from "../src/index.js";
import { SpyConnection } from "./helpers.js";

/**
 * Every built-in reader profile against each public recording of its reader (fixtures/field-recordings.json,
 * `profiles`): the engine, with that profile, replays the recording — every command it sends must be one the
 * reader sent, byte for byte, or the replay fails — and shows the code the recording states (computed by
 * fixtures/field-codes.py, never by capkit), or declines where the reader showed none. Then every set of
 * constants a profile claims from a recording has been checked against one.
 */
interface Recording {
  id: string;
  transcript: string;
  inputs: CapInputs;
  expected: { code: string | null };
  unpredictableNumberAsSent?: string;
  profiles: string[];
}
interface CommandVector {
  id: string;
  cdol1: string;
  cdol2: string;
  inputs: CapInputs;
  gac1: string;
  gac2: string;
  profiles: string[];
}

const read = (path: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8"));
const MANIFEST = read("field-recordings.json") as {
  recordings: Recording[];
  commandVectors: CommandVector[];
};

/** profile → the ids of its constants that a recording checked. */
const checked = new Map<string, Set<string>>();
const tick = (profile: string, application: string) => {
  const set = checked.get(profile) ?? new Set<string>();
  set.add(application);
  checked.set(profile, set);
};

const isSelect = (c: string) => c.startsWith("00A4");

/** A GENERATE AC command with its CDOL data's UN bytes made wildcards (`*` matches any nibble on replay). */
function wildcardUn(t: Transcript, cdol: Map<string, string>): Transcript {
  return {
    ...t,
    exchanges: t.exchanges.map((e) => {
      if (!e.c.startsWith("80AE")) return e;
      const dol = parseDol(fromHex(cdol.get(e.c.slice(4, 6) === "80" ? "8C" : "8D")!));
      let o = 10;
      let c = e.c;
      for (const { tag, length } of dol) {
        if (tag === TAG.UN) c = c.slice(0, o) + "*".repeat(2 * length) + c.slice(o + 2 * length);
        o += 2 * length;
      }
      return { ...e, c };
    }),
  };
}

/** The CDOL1 (8C) and CDOL2 (8D) a recording's card gave, from its READ RECORD answers. */
function cdolsOf(t: Transcript): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of t.exchanges.filter((x) => x.c.startsWith("00B2") && x.r.endsWith("9000"))) {
    for (const o of flattenTlv(decodeTlv(fromHex(e.r.slice(0, -4).replace(/\*/g, "0"))))) {
      if (o.tag === TAG.CDOL1 && !out.has("8C")) out.set("8C", toHex(o.value));
      if (o.tag === TAG.CDOL2 && !out.has("8D")) out.set("8D", toHex(o.value));
    }
  }
  return out;
}

describe("built-in reader profiles against the public recordings of their readers", () => {
  for (const r of MANIFEST.recordings) {
    for (const name of r.profiles) {
      const transform = r.unpredictableNumberAsSent !== undefined;
      it(`${name} × ${r.id}: ${r.expected.code === null ? "declines, as the reader did" : `code ${r.expected.code}`}${transform ? " (all but the transformed UN)" : ""}`, async () => {
        const recorded = read(r.transcript) as Transcript;
        const transcript = transform ? wildcardUn(recorded, cdolsOf(recorded)) : recorded;
        const spy = new SpyConnection(new ReplayConnection(transcript));
        const run = generateCapCode(spy, r.inputs, { profile: readerProfile(name), pin: "1234" });
        let application: string;
        if (r.expected.code === null) {
          const e = (await run.catch((x: unknown) => x)) as CapkitError;
          expect(e).toBeInstanceOf(CapkitError);
          expect(e.code).toBe("CARD_DECLINED");
          application = String(e.details?.["readerApplication"]);
        } else {
          const result = await run;
          expect(result.code).toBe(r.expected.code);
          application = result.readerApplication;
          if (transform) expect(result.warnings.join("\n")).toContain("capkit sends the challenge as typed");
        }
        // Every command of the reader's transaction (all but the SELECTs of absent applications) was sent.
        const recordedCommands = recorded.exchanges.filter((e) => !isSelect(e.c)).length;
        expect(spy.sent.filter((c) => !isSelect(c)).length).toBe(recordedCommands);
        tick(name, application);
      });
    }
    if (r.unpredictableNumberAsSent !== undefined) {
      it(`${r.id}: capkit does not claim the reader's challenge transform (the UN it sends is the challenge)`, async () => {
        for (const name of r.profiles) {
          const e = await generateCapCode(new ReplayConnection(read(r.transcript)), r.inputs, {
            profile: readerProfile(name),
            pin: "1234",
          }).catch((x: unknown) => x);
          expect(e).toMatchObject({ code: "TRANSCRIPT_MISMATCH" });
          expect(String((e as Error).message)).toContain("80AE8000");
        }
      });
    }
  }

  for (const v of MANIFEST.commandVectors) {
    for (const name of v.profiles) {
      it(`${name} × ${v.id}: both GENERATE ACs byte for byte`, () => {
        const profile = readerProfile(name);
        const application = profile.applications.find((a) => !a.payment)!;
        const values = cdolValues(application, v.inputs, 0);
        const gac1 = generateAc(GAC_REFERENCE.ARQC, fillDol(parseDol(fromHex(v.cdol1)), values));
        values.set(TAG.ARC, fromHex(application.arc));
        const gac2 = generateAc(GAC_REFERENCE.AAC, fillDol(parseDol(fromHex(v.cdol2)), values));
        // The emulation runs T=0 and sends no Le.
        const withoutLe = ({ le: _, ...c }: CommandApdu) => toHex(encodeCommand(c));
        expect(withoutLe(gac1)).toBe(v.gac1);
        expect(withoutLe(gac2)).toBe(v.gac2);
        tick(name, application.id);
      });
    }
  }

  it("every built-in profile, and each of its sets of constants not marked assumed, was checked above", () => {
    for (const p of Object.values(READER_PROFILES)) {
      for (const a of p.applications.filter((x) => !x.assumed))
        expect(checked.get(p.name)?.has(a.id), `${p.name}: ${a.id} (${a.source})`).toBe(true);
    }
  });

  it("the constants no recording shows are marked assumed, and their source says so", () => {
    const assumed = Object.values(READER_PROFILES).flatMap((p) =>
      p.applications.filter((a) => a.assumed).map((a) => `${p.name}/${a.id}`),
    );
    expect(assumed).toEqual(["uk/visa-debit"]);
    expect(readerProfile("uk").applications[1]!.source).toContain(
      "no command or code of such a session is public",
    );
  });
});
