#!/usr/bin/env node
// Builds the `capkit` executable (dist/capkit.cjs, src/bin.ts) and the CommonJS bundles it runs: one per
// command group (src/command-groups.ts: each with that group's commands alone), one with none (`--version`)
// and one with all of them (help, a misspelt command); and the library entry (dist/index.js).
// Why (docs/benchmarks.md, CLI start-up): a process reads one file holding exactly the code its command can
// run, and, being a classic script, runs it from V8's code cache (src/code-cache.ts), which ES modules
// cannot use. Typechecking stays with `pnpm typecheck`; the workspace packages are bundled from their
// TypeScript sources.
import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cli = fileURLToPath(new URL("..", import.meta.url));
const outdir = join(cli, "dist");
const packages = dirname(cli);
const require = createRequire(import.meta.url);

/** Native addons (and pg, which loads its optional native half itself) stay outside the bundle. */
const EXTERNAL = ["pcsclite", "node-hid", "better-sqlite3", "pg"];

/**
 * Where a bundled workspace source file lives once built unbundled (packages/X/src/a/b.ts → packages/X/dist/a/b.js),
 * as a path relative to dist/, where every output file of this build lies.
 */
function unbundledLocation(sourceFile) {
  const rel = relative(packages, sourceFile).split("/");
  const [pkg, src, ...rest] = rel;
  if (src !== "src") throw new Error(`unexpected workspace source ${sourceFile}`);
  const file = join(packages, pkg, "dist", ...rest).replace(/\.ts$/, ".js");
  return relative(outdir, file);
}

/**
 * Each bundled module keeps the `import.meta.url` it has when installed unbundled, so what it finds relative
 * to itself (its package.json, a createRequire for an optional native module) is found as before; and a
 * native external is required from the workspace package that declares it, not from the CLI's own
 * dependencies. Both are resolved at run time from the bundle's own URL, so the layout of an installation is
 * all they assume — the same one the unbundled packages assume.
 */
const keepModuleLocations = {
  name: "keep-module-locations",
  setup(b) {
    b.onLoad({ filter: /[/\\]packages[/\\][^/\\]+[/\\]src[/\\].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return undefined;
      const url = `new URL(${JSON.stringify(unbundledLocation(args.path))}, import.meta.url).href`;
      return { contents: text.replaceAll("import.meta.url", url), loader: "ts" };
    });
    const filter = new RegExp(`^(${EXTERNAL.join("|")})$`);
    b.onResolve({ filter }, (args) => {
      if (args.kind === "require-call") return { path: args.path, external: true };
      return { path: args.path, namespace: "owned-external", pluginData: { importer: args.importer } };
    });
    b.onLoad({ filter: /.*/, namespace: "owned-external" }, (args) => ({
      contents: [
        'import { createRequire } from "node:module";',
        `const owner = new URL(${JSON.stringify(unbundledLocation(args.pluginData.importer))}, import.meta.url);`,
        `export default createRequire(owner)(${JSON.stringify(args.path)});`,
      ].join("\n"),
      loader: "js",
    }));
  },
};

/**
 * @noble/ciphers builds its AES tables when its aes.js module is evaluated (tens of ms at start-up here, and the
 * garbage they leave), and @capkit/oath's index evaluates it through PSKC even for a TOTP code, which never
 * uses AES. In the bundle, imports of aes.js get a facade that evaluates the real module on the first call
 * (esbuild wraps a module that is `require`d in a lazy initialiser). Only plain function exports are
 * forwarded: importing anything else from aes.js fails the build, so nothing can silently change meaning.
 */
const AES = "@noble/ciphers/aes.js";
const AES_FUNCTIONS = ["cbc", "cmac", "ecb", "gcm"];
const lazyAes = {
  name: "lazy-aes",
  setup(b) {
    b.onResolve({ filter: /^@noble\/ciphers\/aes\.js$/ }, (args) => {
      if (args.kind === "require-call") return undefined; // the facade's own require: the real module
      return { path: `${dirname(args.importer)}#lazy-aes`, namespace: "lazy-aes" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-aes" }, (args) => ({
      contents: [
        "let aes;",
        `const load = () => (aes ??= require(${JSON.stringify(AES)}));`,
        ...AES_FUNCTIONS.map((f) => `export const ${f} = (...args) => load().${f}(...args);`),
      ].join("\n"),
      resolveDir: args.path.slice(0, -"#lazy-aes".length),
      loader: "js",
    }));
  },
};

/**
 * `otp generate` needs HOTP/TOTP, not PSKC, whose modules (saxes's XML reader, AES, PBKDF2) are a third of
 * @capkit/oath. src/commands/otp-codes.ts imports its names from "@capkit/oath"; resolved to the real entry,
 * evaluating it would evaluate PSKC too. For that one importer, "@capkit/oath" is the entry without its
 * `export * from "./pskc/…"` lines: the same module files otherwise, so nothing is bundled twice, and a name
 * otp-codes.ts imports that only PSKC exports fails the build.
 */
const OATH_ENTRY = join(packages, "oath", "src", "index.ts");
const oathWithoutPskc = {
  name: "oath-without-pskc",
  setup(b) {
    b.onResolve({ filter: /^@capkit\/oath$/ }, (args) =>
      args.importer === join(cli, "src", "commands", "otp-codes.ts")
        ? { path: OATH_ENTRY, namespace: "oath-without-pskc" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "oath-without-pskc" }, async (args) => {
      const lines = (await readFile(args.path, "utf8")).split("\n").filter((l) => l.trim() !== "");
      const reexport = /^export \* from "\.\/[\w/-]+\.js";$/;
      const odd = lines.find((l) => !reexport.test(l));
      if (odd) throw new Error(`${args.path}: expected only \`export * from "./x.js"\` lines, found ${odd}`);
      return {
        contents: lines.filter((l) => !l.includes('"./pskc/')).join("\n"),
        resolveDir: dirname(args.path),
        loader: "ts",
      };
    });
  },
};

/**
 * src/command-groups.ts's table, one `  name: async () => …,` line per group. A bundle's copy keeps the lines
 * of its groups alone, so the other groups' modules are not in it at all. Any other shape of line in the
 * table fails the build.
 */
const GROUPS_FILE = join(cli, "src", "command-groups.ts");
const GROUP_LINE = /^ {2}(\w+): async \(\) => \(await import\("\.\/commands\/[\w-]+\.js"\)\)\.register\w+,$/;
async function readGroups() {
  const lines = (await readFile(GROUPS_FILE, "utf8")).split("\n");
  const start = lines.findIndex((l) => l.startsWith("export const COMMAND_GROUPS"));
  const end = lines.indexOf("};", start);
  if (start === -1 || end === -1) throw new Error(`${GROUPS_FILE}: no COMMAND_GROUPS table`);
  const rows = lines.slice(start + 1, end);
  const odd = rows.find((l) => !GROUP_LINE.test(l));
  if (odd)
    throw new Error(`${GROUPS_FILE}: expected one \`name: async () => …\` line per group, found ${odd}`);
  const keep = (names) => [
    ...lines.slice(0, start + 1),
    ...rows.filter((l) => names.includes(GROUP_LINE.exec(l)[1])),
    ...lines.slice(end),
  ];
  return { names: rows.map((l) => GROUP_LINE.exec(l)[1]), keep };
}
const groupsOnly = (text) => ({
  name: "command-groups",
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\]command-groups\.ts$/ }, (args) =>
      args.path === GROUPS_FILE ? { contents: text, loader: "ts" } : undefined,
    );
  },
});

/**
 * commander requires node:child_process when it loads, for executable subcommands (`program.command(name,
 * description)` runs a separate file), which capkit does not have; the module loads net, dgram and the
 * streams, a start-up cost of every command. In the bundle commander gets a facade that requires it when
 * first used. commander calls only `childProcess.spawn`: another use fails the build.
 */
const commanderSource = await readFile(
  join(dirname(require.resolve("commander")), "lib", "command.js"),
  "utf8",
);
const childProcessUses = new Set([...commanderSource.matchAll(/childProcess\.(\w+)/g)].map((m) => m[1]));
if ([...childProcessUses].join() !== "spawn")
  throw new Error(`commander uses child_process's ${[...childProcessUses].join(", ")}: update the facade`);
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[/\\]commander[/\\]/.test(args.importer)
        ? { path: args.path, namespace: "lazy-child-process" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
      contents: 'module.exports = { get spawn() { return require("node:child_process").spawn; } };',
      loader: "js",
    }));
  },
};

/** The parameters of Node's CommonJS module wrapper, which src/code-cache.ts passes in this order. */
const WRAPPER_PARAMETERS = "exports, require, module, __filename, __dirname";

await rm(outdir, { recursive: true, force: true });
const groups = await readGroups();

/** One bundle of src/main.ts with the command groups `names`; returns its file name (it holds a hash of it). */
async function bundle(name, names) {
  const result = await build({
    entryPoints: [join(cli, "src", "main.ts")],
    entryNames: `cli-${name}-[hash]`,
    outExtension: { ".js": ".cjs" },
    outdir,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    conditions: ["@capkit/source"],
    // Every import() becomes a lazy require: bundled modules are initialised on first use, and the externals
    // are CommonJS. (A script run from the code cache has no ES module loader behind it.)
    supported: { "dynamic-import": false },
    // A bundle is the CommonJS module wrapper function with the bundle as its body (src/code-cache.ts compiles
    // the file as it is: no copy of it to wrap). ES modules are strict, and so is each bundle; import.meta.url
    // is the bundle's own URL, which keepModuleLocations makes every module's unbundled one.
    banner: {
      js: `(function (${WRAPPER_PARAMETERS}) {"use strict";var __capkitUrl=require("node:url").pathToFileURL(__filename).href;`,
    },
    footer: { js: "})" },
    define: { "import.meta.url": "__capkitUrl" },
    minifyWhitespace: true,
    minifySyntax: true,
    // No source maps: the bundle's would point into other packages' sources, which the CLI's tarball does not
    // ship (the packed-install test checks every map's sources are there).
    sourcemap: false,
    // The licence comments of bundled packages go to a file beside the bundle, which the bundle names: they
    // may be in any script (ibantools's name its author's), and a bundle must stay ASCII (below).
    legalComments: "linked",
    metafile: true,
    plugins: [
      groupsOnly(groups.keep(names).join("\n")),
      oathWithoutPskc,
      keepModuleLocations,
      lazyAes,
      lazyChildProcess,
    ],
    logLevel: "warning",
  });
  const file = Object.keys(result.metafile.outputs).find((f) => f.endsWith(".cjs"));
  // src/code-cache.ts reads a bundle as Latin-1, a plain copy into a V8 string: esbuild writes ASCII (its
  // default charset escapes the rest), which this checks.
  const bytes = await readFile(join(cli, file));
  const odd = bytes.findIndex((b) => b > 0x7f);
  if (odd !== -1) throw new Error(`${file}: a byte beyond ASCII at ${odd}`);
  return basename(file);
}

const [all, none, ...perGroup] = await Promise.all([
  bundle("all", groups.names),
  bundle("none", []),
  ...groups.names.map((g) => bundle(g, [g])),
]);
const bundles = { groups: Object.fromEntries(groups.names.map((g, i) => [g, perGroup[i]])), none, all };

await build({
  entryPoints: [join(cli, "src", "bin.ts")],
  outfile: join(outdir, "capkit.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  define: { CAPKIT_BUNDLES: JSON.stringify(bundles), "import.meta.dirname": "__dirname" },
  minifySyntax: true,
  logLevel: "warning",
});

// The library entry (`import "@capkit/cli"`: the exit codes, never the command).
await build({
  entryPoints: [join(cli, "src", "index.ts")],
  outfile: join(outdir, "index.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@capkit/source"],
  minifySyntax: true,
  logLevel: "warning",
});

// Types for the library entry; the JavaScript is the bundles above.
execFileSync(
  process.execPath,
  [
    require.resolve("typescript/bin/tsc"),
    "-p",
    join(cli, "tsconfig.json"),
    "--emitDeclarationOnly",
    "--declarationMap",
    "false",
  ],
  { stdio: "inherit" },
);
