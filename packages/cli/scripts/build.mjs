#!/usr/bin/env node
// Builds the `capkit` binary as one ES module bundle (dist/main.js) with a lazy chunk per dynamic import.
// Why: a process's start-up was mostly Node resolving and reading ~100 module files (commander, @capkit/*,
// @noble/*), not running them; one file per command path removes that (docs/benchmarks.md, CLI start-up).
// Typechecking stays with `pnpm typecheck`; the workspace packages are bundled from their TypeScript sources.
import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cli = fileURLToPath(new URL("..", import.meta.url));
const outdir = join(cli, "dist");
const packages = dirname(cli);

/** Native addons (and pg, which loads its optional native half itself) stay outside the bundle. */
const EXTERNAL = ["pcsclite", "node-hid", "better-sqlite3", "pg"];

/**
 * Where a bundled workspace source file lives once built unbundled (packages/X/src/a/b.ts → packages/X/dist/a/b.js),
 * as a path relative to dist/, where every output file of this bundle lies.
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
 * @capkit/oath's chunk. src/commands/otp-codes.ts imports its names from "@capkit/oath"; resolved to the real
 * entry, that entry would be shared with the commands importing all of @capkit/oath and take PSKC into the
 * same chunk. For that one importer, "@capkit/oath" is the entry without its `export * from "./pskc/…"` lines:
 * the same module files otherwise, so nothing is bundled twice, and a name otp-codes.ts imports that only PSKC
 * exports fails the build.
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

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [
    { in: join(cli, "scripts/entry.mjs"), out: "main" },
    // The library entry (`import "@capkit/cli"`: the exit codes, never the command).
    { in: join(cli, "src/index.ts"), out: "index" },
  ],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@capkit/source"],
  // CommonJS dependencies (commander) call require() for Node built-ins; an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __capkitRequire } from "node:module"; const require = __capkitRequire(import.meta.url);',
  },
  minifyWhitespace: true,
  minifySyntax: true,
  // No source maps: the bundle's would point into other packages' sources, which the CLI's tarball does not
  // ship (the packed-install test checks every map's sources are there).
  sourcemap: false,
  plugins: [oathWithoutPskc, keepModuleLocations, lazyAes],
  logLevel: "warning",
});

// Types for the library entry; the JavaScript is the bundle above.
execFileSync(
  process.execPath,
  [
    createRequire(import.meta.url).resolve("typescript/bin/tsc"),
    "-p",
    join(cli, "tsconfig.json"),
    "--emitDeclarationOnly",
    "--declarationMap",
    "false",
  ],
  { stdio: "inherit" },
);
