#!/usr/bin/env node
// The packed-install test (docs/testing.md): what a developer gets from npm. Packs every public package with
// pnpm (as publishing does), checks the tarballs (no `workspace:` range, no `@capkit/source` condition, no
// private devDependency, every source map's sources shipped, `repository` (with its folder), `homepage` and
// `bugs` naming https://github.com/capkit/capkit, no README or comment citing a repository path the package
// does not ship; publint --strict and attw --profile esm-only clean), then installs them with npm into a fresh
// project outside the workspace and there: runs an ESM smoke script, the installed `capkit` (--version, otp
// generate twice: the second run from the code cache, --help of every command group's bundle, --json demo),
// type-checks a TypeScript consumer under
// `node16` and `bundler` resolution with skipLibCheck false, and bundles emv-cap + oath + provision for the browser with
// esbuild, failing on any Node built-in. Install, smoke and CLI run once per Node binary given with --node
// (the machine's Node always); the packages must be built (`pnpm build`).
//
//   node scripts/packed-install.mjs [--node /path/to/node]... [--keep] [--pack-only]
//
// --pack-only stops after the tarballs' checks (no install): the quick check of a manifest or a link.
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = join(root, "scripts", "packed-install");
const args = process.argv.slice(2);
const nodes = [process.execPath];
for (let i = 0; i < args.length; i++) if (args[i] === "--node") nodes.push(resolve(args[++i]));
const keep = args.includes("--keep");
const packOnly = args.includes("--pack-only");
/** Thrown after the tarballs' checks under --pack-only: the end of the run, not a failure. */
const PACK_ONLY = Symbol("pack-only");

let failures = 0;
function check(title, ok, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${title}${!ok && detail ? `\n${detail.trimEnd()}` : ""}`);
  if (!ok) failures++;
  return ok;
}

/** Runs a command; returns its status, its stdout, and stdout + stderr (printed only when it fails). */
function exec(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  return {
    status: r.status ?? 1,
    stdout: r.stdout ?? "",
    out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`,
  };
}

/**
 * The one accepted mention: @capkit/web's bundler passes the workspace's source condition to esbuild only when
 * it runs from its own TypeScript sources (never in an install); no manifest may carry it.
 */
const SOURCE_CONDITION_ALLOWED = new Set(
  ["src/bundle.ts", "dist/bundle.js"].map((f) => `capkit-web-0.1.0.tgz:${f}:@capkit/source`),
);

/** The project's home: every package.json names it, and shipped files link to its docs by absolute URL. */
const REPOSITORY = "https://github.com/capkit/capkit";

/** A path into the repository written in prose: docs/…, packages/…, a package's test/… or scripts/…, or ../… */
const REPOSITORY_PATH =
  /(?<![\w/.:@-])((?:\.\.\/)+[\w.-]+(?:\/[\w.-]+)*|(?:docs|packages|examples|bench|scripts|test)\/[\w.-]+(?:\/[\w.-]+)*\.\w+)/g;

/**
 * The comments of a TypeScript or JavaScript file (where TSDoc and the "why" live), from its syntax tree: a
 * scanner alone cannot tell a regular expression or a minified bundle's strings from a comment.
 */
function comments(file, text) {
  const kind = /\.(ts|mts|cts)$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const seen = new Set();
  const out = [];
  const add = (ranges) => {
    for (const r of ranges ?? [])
      if (!seen.has(r.pos)) {
        seen.add(r.pos);
        out.push(text.slice(r.pos, r.end));
      }
  };
  const visit = (node) => {
    add(ts.getLeadingCommentRanges(text, node.pos));
    add(ts.getTrailingCommentRanges(text, node.end));
    ts.forEachChild(node, visit);
  };
  visit(source);
  add(ts.getLeadingCommentRanges(text, source.endOfFileToken.pos));
  return out;
}

/**
 * What a shipped file links to that the npm package page cannot resolve: a Markdown link or a path written in
 * a README or a comment that leaves the package (the repository's docs, its tests) instead of an absolute URL.
 */
function relativeLinks(pkgDir, file, text) {
  const prose = /\.(md|markdown)$/.test(file)
    ? [text]
    : /\.(ts|mts|cts|js|mjs|cjs)$/.test(file)
      ? comments(file, text)
      : [];
  const bad = [];
  const inPackage = (p) =>
    [dirname(join(pkgDir, file)), pkgDir].some((base) => {
      const r = resolve(base, p.split("#")[0]);
      return r.startsWith(`${pkgDir}/`) && existsSync(r);
    });
  for (const chunk of prose) {
    for (const m of chunk.matchAll(/\]\(([^)\s]+)\)/g))
      if (!/^(https?:|mailto:|#)/.test(m[1]) && !inPackage(m[1])) bad.push(`${file} links to ${m[1]}`);
    for (const m of chunk
      .replace(/\[[^\]]*\]\(https?:[^)]*\)/g, "") // a link to the repository names the path as its text
      .replace(/\bhttps?:\/\/\S+/g, "")
      .matchAll(REPOSITORY_PATH))
      if (!inPackage(m[1]))
        bad.push(`${file} cites ${m[1]}, which the package does not ship: use ${REPOSITORY}/blob/main/…`);
  }
  return bad;
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** The npm CLI on PATH, run by the Node under test so that native addons are built for that Node's ABI. */
function npmCli() {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(d, "npm");
    if (existsSync(p)) return join(dirname(realpathSync(p)), "npm-cli.js");
  }
  throw new Error("npm is not on PATH");
}

/** Headers for node-gyp (no network to download them): Debian's Node has /usr/include/node; the registry's
 * `node` package installs its binary from node-<platform>-<arch>, which ships include/node. */
function nodeDir(node) {
  const pkg = dirname(dirname(realpathSync(node)));
  const candidates = [pkg, join(pkg, "node_modules", `node-${process.platform}-${process.arch}`), "/usr"];
  const version = execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
  for (const c of candidates) {
    const h = join(c, "include", "node", "node_version.h");
    if (!existsSync(h)) continue;
    const text = readFileSync(h, "utf8");
    const v = ["MAJOR", "MINOR", "PATCH"].map((k) => text.match(new RegExp(`NODE_${k}_VERSION (\\d+)`))?.[1]);
    if (v.join(".") === version) return c;
  }
  throw new Error(`no Node ${version} headers (include/node) found for ${node}`);
}

function installedVersion(app, name) {
  return JSON.parse(readFileSync(join(app, "node_modules", name, "package.json"), "utf8")).version;
}

const work = mkdtempSync(join(tmpdir(), "capkit-packed-"));
console.log(`packed-install: working in ${work}`);
try {
  // 1. Pack every public package the way publishing does.
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  const manifests = readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d))
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }));
  const privateNames = new Set(manifests.filter((m) => m.pkg.private).map((m) => m.pkg.name));
  const published = manifests.filter((m) => !m.pkg.private);
  const sqliteRange = published.find((m) => m.pkg.name === "@capkit/verify").pkg.peerDependencies[
    "better-sqlite3"
  ];
  for (const { dir, pkg } of published) {
    const r = exec("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir });
    if (!check(`pnpm pack ${pkg.name}`, r.status === 0, r.status === 0 ? "" : r.out)) throw new Error("pack");
  }
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));

  // 2. The tarballs themselves.
  for (const tgz of files) {
    const name = tgz.slice(tarballs.length + 1);
    const x = join(work, "extract", name);
    mkdirSync(x, { recursive: true });
    execFileSync("tar", ["-xzf", tgz, "-C", x]);
    const pkgDir = join(x, "package");
    const bad = [];
    for (const f of walk(pkgDir)) {
      const text = readFileSync(f, "utf8");
      const file = relative(pkgDir, f);
      bad.push(...relativeLinks(pkgDir, file, text));
      for (const needle of ["workspace:", "@capkit/source"])
        if (text.includes(needle) && !SOURCE_CONDITION_ALLOWED.has(`${name}:${file}:${needle}`))
          bad.push(`${file} contains ${needle}`);
      if (f.endsWith(".map")) {
        for (const s of JSON.parse(text).sources ?? [])
          if (!existsSync(resolve(dirname(f), s)))
            bad.push(`${relative(pkgDir, f)}: source ${s} not shipped`);
      }
    }
    const m = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"])
      for (const dep of Object.keys(m[field] ?? {}))
        if (privateNames.has(dep)) bad.push(`${field} names the private package ${dep}`);
    for (const f of ["LICENSE", "README.md"]) if (!existsSync(join(pkgDir, f))) bad.push(`no ${f}`);
    for (const f of ["license", "description", "keywords", "engines", "sideEffects"])
      if (m[f] === undefined) bad.push(`package.json has no "${f}"`);
    // Where the package page on npm sends a user: the repository (its folder), the README, the issues.
    const folder = `packages/${manifests
      .find((p) => p.pkg.name === m.name)
      ?.dir.split("/")
      .pop()}`;
    const expected = {
      "repository.type": ["git", m.repository?.type],
      "repository.url": [`git+${REPOSITORY}.git`, m.repository?.url],
      "repository.directory": [folder, m.repository?.directory],
      homepage: [`${REPOSITORY}/tree/main/${folder}#readme`, m.homepage],
      "bugs.url": [`${REPOSITORY}/issues`, m.bugs?.url],
    };
    for (const [field, [want, got]] of Object.entries(expected))
      if (want !== got)
        bad.push(`package.json ${field} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
    check(`${name}: manifest and contents`, bad.length === 0, bad.join("\n"));
    const publint = exec("pnpm", ["exec", "publint", "run", tgz, "--strict"], { cwd: root });
    check(`${name}: publint --strict`, publint.status === 0 && !/suggestion/i.test(publint.out), publint.out);
    const attw = exec(
      "pnpm",
      [
        "exec",
        "attw",
        tgz,
        "--profile",
        "esm-only",
        "--no-definitely-typed",
        "--format",
        "ascii",
        "--no-color",
      ],
      { cwd: root },
    );
    check(`${name}: attw --profile esm-only`, attw.status === 0, attw.status === 0 ? "" : attw.out);
  }

  if (packOnly) throw PACK_ONLY;
  const npm = npmCli();
  const baseEnv = {
    ...process.env,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
  const tarball = (name) => files.find((f) => new RegExp(`/capkit-${name}-\\d[^/]*\\.tgz$`).test(f));

  // 3. @capkit/verify without any database driver (they are optional peers): the core works, the stores name
  // the package to install.
  {
    const app = join(work, "app-no-drivers");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      '{ "name": "capkit-no-drivers", "private": true, "type": "module" }\n',
    );
    copyFileSync(join(fixtures, "drivers.mjs"), join(app, "drivers.mjs"));
    const install = exec(
      process.execPath,
      [npm, "install", ...["core", "emv-cap", "oath", "provision", "verify"].map(tarball)],
      {
        cwd: app,
        env: baseEnv,
      },
    );
    if (check("npm install of @capkit/verify without drivers", install.status === 0, install.out)) {
      const r = exec(process.execPath, ["drivers.mjs"], { cwd: app, env: baseEnv });
      const ok =
        r.status === 0 &&
        !existsSync(join(app, "node_modules", "better-sqlite3")) &&
        !existsSync(join(app, "node_modules", "pg"));
      check("@capkit/verify without drivers: core works, typed errors name the package", ok, r.out);
    }
  }

  // 4. A fresh project per Node binary, outside the workspace, installed with npm from the tarballs.
  let typed = false;
  for (const node of nodes) {
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    const app = join(work, `app-${version}`);
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      `${JSON.stringify({ name: "capkit-consumer", private: true, type: "module" }, null, 2)}\n`,
    );
    for (const f of ["smoke.mjs", "consumer.ts", "browser.mjs"])
      copyFileSync(join(fixtures, f), join(app, f));
    const env = {
      ...baseEnv,
      PATH: `${dirname(node)}${delimiter}${process.env.PATH}`,
      npm_config_nodedir: nodeDir(node),
      JOBS: "max", // node-gyp: compile better-sqlite3 on every core
    };
    // The drivers are optional peer dependencies of @capkit/verify: the application installs the one it uses,
    // in the range @capkit/verify declares. npm picks the newest release whose engines accept this Node:
    // better-sqlite3 12 on Node 20, 13 on 22 and 24 (docs/architecture.md §8).
    const started = Date.now();
    const install = exec(node, [npm, "install", ...files, `better-sqlite3@${sqliteRange}`], {
      cwd: app,
      env,
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    const driver = install.status === 0 ? installedVersion(app, "better-sqlite3") : "none";
    const title = `[${version}] npm install of the tarballs, better-sqlite3 ${driver} (${seconds} s)`;
    if (!check(title, install.status === 0, install.out)) continue;
    const smoke = exec(node, ["smoke.mjs"], { cwd: app, env });
    check(`[${version}] ESM smoke script`, smoke.status === 0, smoke.out);
    const bin = join(app, "node_modules", ".bin", "capkit");
    const pkgVersion = published.find((m) => m.pkg.name === "@capkit/cli").pkg.version;
    // The executable's code caches go to a folder of this run (XDG_CACHE_HOME), made by the first runs.
    const cliEnv = { ...env, XDG_CACHE_HOME: join(app, "cache") };
    const v = exec(bin, ["--version"], { cwd: app, env: cliEnv });
    check(`[${version}] capkit --version`, v.status === 0 && v.stdout.trim() === pkgVersion, v.out);
    // RFC 6238 Appendix B: SHA-1, T = 59 s → 94287082, of which 6 digits; run twice, the second from the cache.
    const otp = ["otp", "generate", "--totp", "--secret-hex", "3132333435363738393031323334353637383930"];
    for (const run of ["first run", "from the code cache"]) {
      const o = exec(bin, [...otp, "--time", "59"], { cwd: app, env: cliEnv });
      check(`[${version}] capkit otp generate (${run})`, o.status === 0 && o.stdout === "287082\n", o.out);
    }
    let cached = [];
    try {
      cached = readdirSync(join(app, "cache", "capkit", `v8-${version}-${process.arch}`));
    } catch {}
    check(
      `[${version}] the otp bundle's code cache is kept`,
      cached.some((f) => /^cli-otp-\w+\.cjs\.v8$/.test(f)),
      cached.join("\n"),
    );
    // Every bundle starts in the installed layout: each command group's, and the one with all (help).
    const groups = readdirSync(join(app, "node_modules", "@capkit", "cli", "dist"))
      .map((f) => /^cli-(\w+)-\w+\.cjs$/.exec(f)?.[1])
      .filter((g) => g !== undefined && g !== "all" && g !== "none");
    for (const args of [["--help"], ...groups.map((g) => [g, "--help"])]) {
      const h = exec(bin, args, { cwd: app, env: cliEnv });
      const usage = `Usage: capkit${args.length > 1 ? ` ${args[0]}` : ""} `;
      check(`[${version}] capkit ${args.join(" ")}`, h.status === 0 && h.stdout.startsWith(usage), h.out);
    }
    const demo = exec(bin, ["--json", "demo"], { cwd: app, env: cliEnv });
    let ok = false;
    try {
      ok = demo.status === 0 && JSON.parse(demo.stdout).ok === true;
    } catch {}
    check(`[${version}] capkit --json demo`, ok, ok ? "" : demo.out);
    const imported = exec(
      node,
      ["--input-type=module", "-e", 'await import("@capkit/cli"); console.log("imported")'],
      {
        cwd: app,
        env,
      },
    );
    check(
      `[${version}] import "@capkit/cli" does not run the CLI`,
      imported.stdout.trim() === "imported",
      imported.out,
    );

    if (typed) continue;
    typed = true;
    // 5. Types as a TypeScript user sees them (the workspace's tsc, the project's node_modules).
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    for (const [mode, options] of [
      ["node16", { module: "node16", moduleResolution: "node16" }],
      ["bundler", { module: "preserve", moduleResolution: "bundler" }],
    ]) {
      const config = join(app, `tsconfig.${mode}.json`);
      const compilerOptions = {
        ...options,
        target: "ES2022",
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      };
      writeFileSync(config, JSON.stringify({ compilerOptions, files: ["consumer.ts"] }, null, 2));
      const r = exec(process.execPath, [tsc, "-p", config], { cwd: app });
      check(`TypeScript consumer, ${mode} resolution, skipLibCheck false`, r.status === 0, r.out);
    }

    // 6. The pure cores (emv-cap, oath, provision) in a browser bundle: no Node built-in may be pulled in.
    const esbuild = await import("esbuild");
    try {
      const result = await esbuild.build({
        absWorkingDir: app,
        entryPoints: ["browser.mjs"],
        bundle: true,
        platform: "browser",
        format: "esm",
        minify: true,
        write: false,
        metafile: true,
        logLevel: "silent",
      });
      const builtins = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);
      const pulled = Object.values(result.metafile.inputs)
        .flatMap((i) => i.imports.map((imp) => imp.path))
        .filter((p) => builtins.has(p) || p.startsWith("node:"));
      const size = result.outputFiles[0].contents.length;
      check(
        `esbuild browser bundle of emv-cap + oath + provision (${size} bytes minified)`,
        pulled.length === 0,
        pulled.join("\n"),
      );
    } catch (e) {
      check("esbuild browser bundle of emv-cap + oath + provision", false, String(e.message ?? e));
    }
  }
} catch (e) {
  if (e !== PACK_ONLY) check("packed-install", false, String(e?.stack ?? e));
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`packed-install: ${failures ? `${failures} check(s) failed` : "all checks passed"}`);
process.exit(failures ? 1 : 0);
