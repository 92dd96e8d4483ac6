import { readFileSync } from "node:fs";
import { toBase64 } from "@capkit/core";
import { codePointText, HOSTILE_NAMES, REFUSED_RANGES } from "@capkit/test-support/hostile-text";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalBytes,
  createOperation,
  describeOperation,
  displayTextProblem,
  generateSigningKey,
  type OperationDocument,
  type OperationFields,
  operationDigest,
  parseOperation,
  type RefusedClass,
  softwareSigner,
  verifySignedOperation,
} from "../src/index.js";

/**
 * Display-safe text (src/display-text.ts), the way an attacker who chooses a payee's name (a mule account's
 * holder name, a tampered form) would try it: every class of character that makes a screen show something
 * else than the bytes, at every door of @capkit/provision that takes a document — the parser, the builder,
 * the app's check of a bank-signed document (even one the bank's key really signed), the digest and the
 * screen's lines. The expected answers come from the Unicode Character Database (fixtures/unicode-display.txt,
 * lines copied from UCD 15.0.0), never from the code under test.
 */

const NOW = Date.UTC(2026, 11, 5, 9, 0, 0) / 1000;
const ACCOUNT = "FR1420041010050500013M02606";
const PAYEE = "DE89370400440532013000";

const fields = (name: string): OperationFields => ({
  type: "transfer",
  payee: { iban: PAYEE, name },
  amount: { minor: 12_550, currency: "EUR" },
});
const create = (name: string) => createOperation(fields(name), { id: "op-1", account: ACCOUNT, now: NOW });
/** A valid document with `name` put in as is, behind the builder's back (what a parser receives). */
const withName = (name: string): OperationDocument => {
  const doc = create("Dupont SARL");
  return { ...doc, payee: { iban: PAYEE, name } } as OperationDocument;
};
const bank = softwareSigner(generateSigningKey(), "bank-1");
/** A document the bank's key really signed, whatever its name holds (lone surrogates cannot be encoded). */
const signedByBank = async (doc: OperationDocument) => {
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(doc as never);
  } catch {
    bytes = new TextEncoder().encode(JSON.stringify(doc));
  }
  return { operation: doc, keyId: bank.keyId, signature: toBase64(await bank.sign(bytes)) };
};
const KEYS = { [bank.keyId]: bank.publicKey };

const refusedName = (f: () => unknown) =>
  expect(f).toThrow(expect.objectContaining({ code: "OPERATION_INVALID", details: { field: "payee.name" } }));

/** Every door that takes a document (device side) refuses one whose payee's name is `name`. */
async function refusedWhenParsed(name: string): Promise<void> {
  const doc = withName(name);
  const signed = await signedByBank(doc);
  refusedName(() => parseOperation(doc));
  refusedName(() => operationDigest(doc));
  refusedName(() => describeOperation(doc));
  refusedName(() => verifySignedOperation(signed, KEYS));
}
/** ...and the builder (bank side) refuses it too. */
async function refusedEverywhere(name: string): Promise<void> {
  await refusedWhenParsed(name);
  refusedName(() => create(name));
}

// --- The Unicode data (fixtures/unicode-display.txt) ---

const UCD = readFileSync(new URL("fixtures/unicode-display.txt", import.meta.url), "utf8");
const section = (name: string) =>
  (UCD.split(`[${name}]\n`)[1] ?? "")
    .split("\n[")[0]!
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
const hex = (h: string) => Number.parseInt(h, 16);
const range = (field: string): [number, number] => {
  const [a, b] = field.trim().split("..");
  return [hex(a!), hex(b ?? a!)];
};
/** UnicodeData.txt: code point, name, General_Category. */
const CHARACTERS = section("UnicodeData.txt").map((l) => {
  const [cp, name, gc] = l.split(";");
  return { cp: hex(cp!), name: name!, gc: gc! };
});
/** DerivedCoreProperties.txt: the Default_Ignorable_Code_Point ranges listed. */
const IGNORABLE = section("DerivedCoreProperties.txt").map((l) => range(l.split(";")[0]!));
/** extracted/DerivedGeneralCategory.txt: unassigned (Cn) ranges. */
const UNASSIGNED = section("extracted/DerivedGeneralCategory.txt").map((l) => range(l.split(";")[0]!));
/** NormalizationTest.txt: c1 (source), c2 (its NFC), c3 (its NFD). */
const NORMALIZATION = section("NormalizationTest.txt").map((l) => {
  const [c1, c2, c3] = l
    .split(";")
    .slice(0, 3)
    .map((f) => String.fromCodePoint(...f.trim().split(" ").map(hex)));
  return { c1: c1!, c2: c2!, c3: c3!, name: l.split(") ")[1] };
});
const ignorable = (cp: number) => IGNORABLE.some(([a, b]) => cp >= a && cp <= b);
/** The class the rule must name for a character, from its category in the data (undefined: accepted). */
function expected(cp: number, gc: string): RefusedClass | undefined {
  if (gc === "Cs") return "surrogate";
  if (gc === "Cc") return "control";
  if (gc === "Cf") return "format";
  if (ignorable(cp)) return "invisible";
  if (gc.startsWith("Z") && cp !== 0x20) return "separator";
  if (gc === "Co") return "private-use";
  if (gc === "Cn") return "unassigned";
  return undefined;
}
const char = codePointText;

describe("display-safe names against the Unicode data (UCD 15.0.0)", () => {
  it("the fixture holds what the test reads", () => {
    expect(CHARACTERS.length).toBeGreaterThanOrEqual(80);
    expect(IGNORABLE.length).toBeGreaterThan(10);
    expect(UNASSIGNED.length).toBe(5);
    expect(NORMALIZATION.length).toBe(8);
  });

  it("each listed character is refused, naming its class, at every door — or accepted, by its category", async () => {
    for (const { cp, name, gc } of CHARACTERS) {
      // A mark goes on a letter it does not compose with (NFC keeps x + mark as two code points).
      const text = gc.startsWith("M") ? `Dupont x${char(cp)}` : `Dupont${char(cp)}SARL`;
      const want = expected(cp, gc);
      const got = displayTextProblem(text);
      if (want === undefined) {
        expect(got, `${name} (${gc}) is accepted`).toBeUndefined();
        expect(parseOperation(withName(text))).toBeTruthy();
      } else {
        expect(got, `${name} (${gc})`).toMatchObject({ kind: "character", codePoint: cp, class: want });
        await refusedEverywhere(text);
      }
    }
  });

  it("unassigned code points and noncharacters (gc=Cn) are refused", async () => {
    for (const [a, b] of UNASSIGNED)
      for (const cp of [a, b]) {
        const want = ignorable(cp) ? "invisible" : "unassigned";
        expect(displayTextProblem(`Dupont${char(cp)}`)).toMatchObject({ codePoint: cp, class: want });
        await refusedEverywhere(`Dupont${char(cp)}`);
      }
  });

  it("NFC at creation, NFC only when parsed: NormalizationTest.txt's c2 is what a document holds", async () => {
    for (const { c1, c2, c3, name } of NORMALIZATION) {
      const nfc = `Nom ${c2}`;
      expect(parseOperation(withName(nfc)), name).toBeTruthy();
      for (const other of [c1, c3]) {
        if (other === c2) continue;
        // Parsed (a device, a receipt's operation): another spelling of the same text is refused...
        expect(displayTextProblem(`Nom ${other}`), name).toEqual({ kind: "not-nfc" });
        await refusedWhenParsed(`Nom ${other}`);
        // ...created: made NFC, so both spellings give one document and one digest for one screen.
        const made = createOperation(fields(`Nom ${other}`), { id: "op-1", account: ACCOUNT, now: NOW });
        expect(made.type === "transfer" && made.payee.name, name).toBe(nfc);
      }
    }
  });
});

// --- The attacker's table ---

describe("the attacker's table of payee names", () => {
  it.each(HOSTILE_NAMES)("%s", async (_what, name, parsed, created) => {
    // A parser never mends: what only the builder's normalization makes valid is refused when parsed.
    if (parsed === "refused") await refusedWhenParsed(name);
    else {
      const doc = parseOperation(withName(name));
      expect(verifySignedOperation(await signedByBank(doc), KEYS)).toEqual(doc);
      expect(describeOperation(doc).lines).toContainEqual(["Bénéficiaire", name]);
    }
    if (created === "refused") refusedName(() => create(name));
    else {
      const doc = create(name);
      expect(doc.type === "transfer" && doc.payee.name).toBe(created);
      // What is created parses as it is, and one text has one digest whichever spelling was typed.
      expect(parseOperation(doc)).toEqual(doc);
    }
  });

  it("the batch's names and the beneficiary's name pass the same rule", () => {
    const line = (name: string) => ({ iban: PAYEE, name, amount: { minor: 100, currency: "EUR" } });
    const batch = (name: string) =>
      createOperation(
        { type: "batch-transfer", payees: [line("A"), line(name)], total: { minor: 200, currency: "EUR" } },
        { id: "b1", account: ACCOUNT, now: NOW },
      );
    expect(() => batch("Mar\u202etin")).toThrow(
      expect.objectContaining({ code: "OPERATION_INVALID", details: { field: "payees[1].name" } }),
    );
    const made = batch("Cafe\u0301");
    expect(made.type === "batch-transfer" && made.payees[1]!.name).toBe("Caf\u00e9");
    const add = (name: string) =>
      createOperation(
        { type: "beneficiary-add", payee: { iban: PAYEE, name } },
        { id: "b", account: ACCOUNT, now: NOW },
      );
    expect(() => add("\u2066x\u2069")).toThrow(expect.objectContaining({ details: { field: "payee.name" } }));
  });

  it("an error names the code point and its class, never the text", () => {
    const secretish = "Compte 4111111111111111\u202e";
    try {
      parseOperation(withName(secretish));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        "payee.name: holds U+202E (a format character) at character 24: a screen would not show it as it is",
      );
      expect((e as Error).message).not.toContain("4111");
    }
  });
});

// --- Properties ---

/** Code points of each refused class, from the Unicode data's ranges (not from the rule's code). */
const REFUSED_POINTS = fc.oneof(...REFUSED_RANGES.map(([min, max]) => fc.integer({ min, max })));

describe("properties", () => {
  it("any name holding a refused code point is refused at every door", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 30, unit: "grapheme" }),
        REFUSED_POINTS,
        fc.string({ maxLength: 30, unit: "binary" }),
        async (before, cp, after) => {
          await refusedEverywhere(`${before}${char(cp)}${after}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("whatever is created parses as it is, and NFC and NFD spellings make one digest", () => {
    const piece = fc.constantFrom(
      "Dupont",
      "Café",
      "Cafe\u0301",
      "Øster",
      "Ω",
      "\u2126",
      "Ивано",
      "李",
      "가",
      "e\u0323\u0302",
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (pieces) => {
        const name = pieces.join(" ");
        const a = createOperation(fields(name), { id: "op-1", account: ACCOUNT, now: NOW });
        expect(parseOperation(a)).toEqual(a);
        const b = { ...a, payee: { iban: PAYEE, name: name.normalize("NFD") } } as OperationDocument;
        const c = createOperation(fields(name.normalize("NFD")), { id: "op-1", account: ACCOUNT, now: NOW });
        expect(operationDigest({ ...c, nonce: a.nonce } as OperationDocument)).toEqual(operationDigest(a));
        if (name.normalize("NFD") !== name.normalize("NFC")) refusedName(() => parseOperation(b));
      }),
    );
  });
});
