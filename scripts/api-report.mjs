#!/usr/bin/env node
// The API reports (docs/architecture.md §9): for every entry point a public package publishes (its
// `publishConfig.exports`), API Extractor reads the built .d.ts — what an npm user's compiler sees — and writes
// what it exports, signature by signature, to packages/<pkg>/api/<name>.api.md. The reports are checked in, so
// a change of the public API shows in review as a change of its report.
//
//   node scripts/api-report.mjs            check: fails when a report differs from the built .d.ts, when an
//                                          export has no TSDoc, or on any TSDoc or API Extractor warning
//   node scripts/api-report.mjs --update   rewrites the reports (`pnpm api:update`)
//   node scripts/api-report.mjs [--update] @capkit/oath …   only those packages
//
// The packages must be built first (`pnpm build`). One report per entry point: API Extractor reads one entry
// at a time (microsoft/rushstack#1596), and a subpath is a separate import for the user anyway.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const update = process.argv.includes("--update");
/** Package names given on the command line: only those (all by default). */
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));

/** Each public package and the entry points it publishes, as `[subpath, .d.ts file]`. */
function publicPackages() {
  return readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter(({ pkg }) => !pkg.private && (only.length === 0 || only.includes(pkg.name)))
    .map(({ dir, pkg }) => ({
      dir,
      name: pkg.name,
      entries: Object.entries(pkg.publishConfig.exports).map(([subpath, target]) => [
        subpath,
        join(dir, target.types),
      ]),
    }));
}

/** `@capkit/token-sim` + `./node` → `token-sim-node`: the report's file name (without `.api.md`). */
function reportName(name, subpath) {
  const base = name.replace(/^@capkit\//, "");
  return subpath === "." ? base : `${base}-${subpath.slice(2).replaceAll("/", "-")}`;
}

/**
 * The names each entry point exports, by .d.ts file. A subpath's declarations may use a type its package's main
 * entry exports (`@capkit/token-sim/node`'s `openCardStateFile` returns a `SimulatedCard`): that type is part
 * of the package's surface, exported once, so API Extractor's "forgotten export" is no finding there.
 */
function exportedNames(files) {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  return new Map(
    files.map((f) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(f));
      return [f, new Set(module ? checker.getExportsOfModule(module).map((s) => s.name) : [])];
    }),
  );
}

const temp = mkdtempSync(join(tmpdir(), "capkit-api-"));
let failures = 0;
try {
  for (const { dir, name, entries } of publicPackages()) {
    const exports = exportedNames(entries.map(([, dts]) => dts).filter((f) => existsSync(f)));
    for (const [subpath, dts] of entries) {
      const report = reportName(name, subpath);
      const label = subpath === "." ? name : `${name}/${subpath.slice(2)}`;
      if (!existsSync(dts)) {
        console.log(`FAIL ${label}: ${relative(root, dts)} is missing (run \`pnpm build\` first)`);
        failures++;
        continue;
      }
      const config = ExtractorConfig.prepare({
        configObject: {
          projectFolder: dir,
          mainEntryPointFilePath: dts,
          compiler: {
            // The .d.ts as an installed package's user compiles them: no @capkit/source condition, so the
            // other @capkit packages are read from their own built declarations, as external packages.
            overrideTsconfig: {
              compilerOptions: {
                target: "ES2022",
                module: "NodeNext",
                moduleResolution: "NodeNext",
                lib: ["ES2022", "DOM"],
                types: ["node"],
                typeRoots: [join(root, "node_modules", "@types")],
                strict: true,
                skipLibCheck: true,
              },
              files: [dts],
            },
          },
          apiReport: {
            enabled: true,
            reportFileName: report,
            reportFolder: join(dir, "api"),
            reportTempFolder: temp,
          },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          newlineKind: "lf",
          messages: {
            compilerMessageReporting: { default: { logLevel: "error" } },
            extractorMessageReporting: {
              default: { logLevel: "error" },
              // No @public/@beta release tags: everything exported is public, and the report says so by
              // existing.
              "ae-missing-release-tag": { logLevel: "none" },
              // Every export carries TSDoc (issue 21).
              "ae-undocumented": { logLevel: "error" },
              // A type used by the surface but not exported (unless another entry of the package exports it).
              "ae-forgotten-export": { logLevel: "error" },
            },
            // A comment TSDoc cannot parse.
            tsdocMessageReporting: { default: { logLevel: "error" } },
          },
        },
        configObjectFullPath: join(dir, "api-extractor.json"),
        packageJsonFullPath: join(dir, "package.json"),
      });
      mkdirSync(join(dir, "api"), { recursive: true });
      const messages = [];
      let ignored = 0;
      const result = Extractor.invoke(config, {
        localBuild: update,
        messageCallback(m) {
          m.handled = true;
          const forgotten =
            m.messageId === "ae-forgotten-export" && /^The symbol "([^"]+)"/.exec(m.text)?.[1];
          if (forgotten && [...exports].some(([f, names]) => f !== dts && names.has(forgotten))) {
            if (m.logLevel === "error") ignored++;
            return;
          }
          // "console-…" messages narrate the run (a report copied, changed): apiReportChanged says that.
          if (m.category !== "console" && (m.logLevel === "error" || m.logLevel === "warning"))
            messages.push(
              `  ${m.sourceFilePath ? `${relative(root, m.sourceFilePath)}:${m.sourceFileLine}: ` : ""}${m.text} (${m.messageId})`,
            );
        },
      });
      const changed = result.apiReportChanged && !update;
      const ok = result.errorCount === ignored && !changed && messages.length === 0;
      const what = changed
        ? `  the public API differs from packages/${relative(join(root, "packages"), dir)}/api/${report}.api.md: review the change, then \`pnpm api:update\``
        : "";
      console.log(
        `${ok ? "ok  " : "FAIL"} ${label}${update && result.apiReportChanged ? " (report updated)" : ""}`,
      );
      if (!ok) {
        failures++;
        for (const line of [...messages, what].filter(Boolean)) console.log(line);
      }
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
console.log(`api reports: ${failures ? `${failures} failed` : "all clean"}`);
process.exit(failures ? 1 : 0);
