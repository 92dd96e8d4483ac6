#!/usr/bin/env node
// The API reference (docs/api/): TypeDoc renders every entry point a public package publishes, as Markdown
// (typedoc-plugin-markdown: one page per entry point, readable on GitHub and small to review), from the TSDoc
// in the sources. Checked in; `pnpm test` fails when it is stale.
//
//   node scripts/api-docs.mjs            check: renders into a temporary folder and compares with docs/api/
//   node scripts/api-docs.mjs --update   rewrites docs/api/ (`pnpm api:update`)
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Application } from "typedoc";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const update = process.argv.includes("--update");
const docs = join(root, "docs", "api");

/** Each published entry point's source file → its import name (`@capkit/token-sim/node`). */
const entries = new Map();
for (const d of readdirSync(join(root, "packages"))) {
  const file = join(root, "packages", d, "package.json");
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, "utf8"));
  if (pkg.private) continue;
  for (const [subpath, target] of Object.entries(pkg.exports))
    entries.set(
      join(root, "packages", d, target["@capkit/source"]),
      subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
    );
}

const out = update ? docs : mkdtempSync(join(tmpdir(), "capkit-api-docs-"));
const app = await Application.bootstrapWithPlugins({
  entryPoints: [...entries.keys()],
  entryPointStrategy: "resolve",
  tsconfig: join(root, "scripts", "typedoc.tsconfig.json"),
  plugin: ["typedoc-plugin-markdown"],
  router: "module",
  out,
  readme: "none",
  entryFileName: "README.md",
  name: "capkit API reference",
  disableSources: true,
  excludePrivate: true,
  excludeInternal: true,
  hidePageHeader: true,
  hideBreadcrumbs: true,
  excludeExternals: true,
  parametersFormat: "table",
  interfacePropertiesFormat: "table",
  classPropertiesFormat: "table",
  typeAliasPropertiesFormat: "table",
  enumMembersFormat: "table",
  propertyMembersFormat: "table",
  typeDeclarationFormat: "table",
  useCodeBlocks: true,
  excludeScopesInPaths: true,
  validation: { notExported: true, invalidLink: true, notDocumented: false },
  treatWarningsAsErrors: true,
  logLevel: "Warn",
});
// A module is named by what a user imports (`@capkit/token-sim/node`), not by its folder.
const project = await app.convert();
if (!project) process.exit(1);
for (const m of project.children ?? []) {
  const base = join(root, "packages", m.name);
  const file = [`${base}.ts`, join(base, "index.ts")].find((f) => entries.has(f));
  if (!file) throw new Error(`no entry point for TypeDoc's module ${m.name}`);
  m.name = entries.get(file);
}
await app.generateOutputs(project);
if (app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.log("api docs: TypeDoc reported problems (above)");
  process.exit(1);
}
if (update) {
  console.log("api docs: docs/api/ rewritten");
  process.exit(0);
}

/** Every file under `dir`, as paths relative to it. */
function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}
const differ = [...new Set([...files(docs), ...files(out)])].filter(
  (f) =>
    !existsSync(join(docs, f)) ||
    !existsSync(join(out, f)) ||
    readFileSync(join(docs, f), "utf8") !== readFileSync(join(out, f), "utf8"),
);
rmSync(out, { recursive: true, force: true });
for (const f of differ) console.log(`FAIL docs/api/${f} is not what the sources' TSDoc renders to`);
console.log(
  differ.length ? "api docs: stale; run `pnpm api:update` and commit docs/api/" : "api docs: up to date",
);
process.exit(differ.length ? 1 : 0);
