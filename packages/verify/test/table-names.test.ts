import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { TABLES } from "../src/stores/tables.js";

/**
 * capkit's tables are named in one place, src/stores/tables.ts, and every statement is built from those names
 * (with the application's prefix and schema) when a store opens. This test reads the package's sources with the
 * TypeScript parser (comments do not count; every string and template text does) and lists each SQL text that
 * names one of capkit's tables literally — `FROM users`, `INSERT INTO audit (…)`, `UPDATE "credentials"` —
 * which would reach past the prefix into a table of the application's.
 */
const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const NAMED = new RegExp(
  `\\b(FROM|INTO|UPDATE|JOIN|TABLE|EXISTS|ON|REFERENCES|regclass\\(')\\s+"?(${TABLES.join("|")})"?(?![\\w$])`,
  "i",
);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every string or template text of a file, with its line. */
function texts(path: string): { line: number; text: string }[] {
  const file = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    )
      out.push({ line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

describe("capkit's tables are named in src/stores/tables.ts only", () => {
  it("the check finds a table named by hand (it can fail)", () => {
    expect(NAMED.test("SELECT * FROM users WHERE id = $1")).toBe(true);
    expect(NAMED.test('INSERT INTO "audit" (at) VALUES (?)')).toBe(true);
    expect(NAMED.test(`SELECT * FROM ${'"capkit_users"'} WHERE id = $1`)).toBe(false);
    expect(NAMED.test("DELETE FROM unknown_subjects_seq")).toBe(false);
  });

  it("no SQL text of @capkit/verify names a table literally", () => {
    const found = sources(SRC).flatMap((path) =>
      texts(path)
        .filter((t) => NAMED.test(t.text))
        .map((t) => `${relative(SRC, path)}:${t.line}: ${t.text.trim().slice(0, 80)}`),
    );
    expect(found).toEqual([]);
  });
});
