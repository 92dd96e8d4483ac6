import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { CLA, INS, SW, TAG } from "../src/index.js";

/**
 * The protocol's vocabulary is named once, in packages/emv-cap/src/protocol/: tags (`TAG`), status words
 * (`SW`, the 61xx/6Cxx/63Cx families), classes and instructions (`CLA`, `INS`) and the command builders.
 * Every other source file of the repository's packages speaks through those names. This test reads the sources
 * (the TypeScript parser, so comments and strings do not count) and lists every literal that spells the
 * vocabulary by hand:
 * - a status word, a 2-byte tag or a 61xx/6Cxx/63Cx family value, written in any base (the redaction list
 *   was once keyed `24356: "expiry date"`);
 * - a 1-byte tag where a tag goes (`tlv(0x5a, …)`, `findTlv(t, 0x88)`, `x.tag === 0x77`), a class or an
 *   instruction where a command is built or recognised (`{ cla: 0x80, ins: 0xae }`, `c.ins === 0x20`,
 *   `command[1] === 0x20`, `case` of a switch on them), and SW1 compared by hand (`sw >> 8 === 0x61`);
 * - an APDU header written as bytes (`Uint8Array.of(0x80, 0xca, …)`).
 * Tests are not read: their fixtures are raw APDUs on purpose, the wire as a card sees it. There is no exception
 * list: even the PC/SC pinpad's VERIFY template (packages/reader-pcsc/src/pinpad.ts) is built by the builders.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const TAG_VALUES = new Set<number>(Object.values(TAG));
const SW_VALUES = new Set<number>(Object.values(SW));
const HEADER_PAIRS = new Set(
  [
    [CLA.ISO, INS.SELECT],
    [CLA.EMV, INS.GET_PROCESSING_OPTIONS],
    [CLA.ISO, INS.READ_RECORD],
    [CLA.EMV, INS.GET_DATA],
    [CLA.ISO, INS.VERIFY],
    [CLA.EMV, INS.GENERATE_AC],
    [CLA.ISO, INS.GET_RESPONSE],
  ].map(([c, i]) => `${c}:${i}`),
);
const TAG_FUNCTIONS = new Set(["tlv", "findTlv", "tagInfo", "tagName", "formatTagValue", "getData"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "dist" ? [] : sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

const packageSources = readdirSync(join(ROOT, "packages")).flatMap((p) => {
  try {
    return sources(join(ROOT, "packages", p, "src"));
  } catch {
    return [];
  }
});
const VOCABULARY = join(ROOT, "packages/emv-cap/src/protocol/");

/** The expression a literal is compared with, switched on, or assigned to, as source text. */
function counterpart(
  lit: ts.Node,
): { kind: "compare" | "case" | "property" | "argument"; text: string } | undefined {
  const p = lit.parent;
  if (
    ts.isBinaryExpression(p) &&
    [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(
      p.operatorToken.kind,
    )
  )
    return { kind: "compare", text: (p.left === lit ? p.right : p.left).getText() };
  if (ts.isCaseClause(p)) return { kind: "case", text: p.parent.parent.expression.getText() };
  if (ts.isPropertyAssignment(p) && p.initializer === lit)
    return { kind: "property", text: p.name.getText() };
  if (ts.isCallExpression(p) && p.arguments.includes(lit as ts.Expression))
    return { kind: "argument", text: p.expression.getText() };
  return undefined;
}

function findings(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  return findingsOf(sf, relative(ROOT, file));
}

function findingsOf(sf: ts.SourceFile, path: string): string[] {
  const out: string[] = [];
  const where = (n: ts.Node) => `${path}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const flag = (n: ts.Node, why: string) => {
    out.push(`${where(n)} ${n.getText()}: ${why}`);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isNumericLiteral(n)) {
      const v = Number(n.getText().replace(/_/g, ""));
      const hex = /^0x/i.test(n.getText());
      if (SW_VALUES.has(v)) flag(n, "a status word: SW.*");
      else if (v > 0xff && TAG_VALUES.has(v)) flag(n, "a tag: TAG.*");
      else if (hex && (v >> 8 === 0x61 || v >> 8 === 0x6c || (v & 0xfff0) === 0x63c0))
        flag(n, "a status word family: bytesAvailable / correctLe / verifyFailed");
      const c = counterpart(n);
      if (c) {
        const tagged = /(^|\.)tag$/.test(c.text);
        if (
          TAG_VALUES.has(v) &&
          ((c.kind === "argument" && TAG_FUNCTIONS.has(c.text.split(".").pop()!)) ||
            (c.kind !== "property" && tagged))
        )
          flag(n, "a tag where a tag goes: TAG.*");
        if (c.kind === "property" && /^(cla|ins|p1|p2)$/.test(c.text))
          flag(n, "a command built by hand: protocol/commands.ts");
        if ((c.kind === "compare" || c.kind === "case") && /(^|\.)(cla|ins)\b|\[1\]$/.test(c.text))
          flag(n, "a command recognised by hand: CLA / INS");
        if (c.kind === "compare" && /\bsw\b.*>>\s*8/.test(c.text))
          flag(n, "SW1 compared by hand: protocol/status.ts");
      }
    }
    if (ts.isCallExpression(n) && n.expression.getText() === "Uint8Array.of" && n.arguments.length >= 2) {
      const [a, b] = n.arguments.map((x) => (ts.isNumericLiteral(x) ? Number(x.getText()) : Number.NaN));
      if (HEADER_PAIRS.has(`${a}:${b}`))
        flag(n.arguments[0]!, "an APDU header written as bytes: a builder of protocol/commands.ts");
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe("the protocol vocabulary, named once (packages/emv-cap/src/protocol/)", () => {
  it("no package source outside it writes a tag, a status word, a class or an instruction by hand", () => {
    const files = packageSources.filter((f) => !f.startsWith(VOCABULARY));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(findings)).toEqual([]);
  });

  it("finds what it looks for (each rule against a line written the old way)", () => {
    const probe = (code: string) => {
      return findingsOf(ts.createSourceFile("probe.ts", code, ts.ScriptTarget.Latest, true), "probe.ts");
    };
    expect(probe("const x = { 90: 'PAN', 24356: 'expiry' };")).toHaveLength(1); // 24356 is 5F24
    expect(probe("if (sw === 0x6983) f();")).toHaveLength(1);
    expect(probe("if ((sw & 0xfff0) === 0x63c0) f();")).toHaveLength(1);
    expect(probe("findTlv(objects, 0x88);")).toHaveLength(1);
    expect(probe("if (first.tag === 0x77) f();")).toHaveLength(1);
    expect(probe("send({ cla: 0x80, ins: 0xae, p1: 0x80, p2: 0 });")).toHaveLength(4);
    expect(probe("switch ((c.cla << 8) | c.ins) { case 0x80ae: break; }")).toHaveLength(1);
    expect(probe("if (cmd[1] === 0x20) f();")).toHaveLength(1);
    expect(probe("while (response.sw >> 8 === 0x6c) f();")).toHaveLength(1);
    expect(probe("send(Uint8Array.of(0x80, 0xca, 0x9f, 0x17, 0x00));")).toHaveLength(1);
    expect(probe("const mask = b & 0x80; const n = c & 0x0f;")).toHaveLength(0);
  });
});
