import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { Script } from "node:vm";

/**
 * Runs one CommonJS bundle of the CLI from V8's code cache: the bytecode of every function an earlier run of
 * the same bundle compiled, so that a start neither parses nor compiles what it runs (docs/benchmarks.md, CLI
 * start-up). Node's own compile cache (module.enableCompileCache, Node 22.1+) cannot do this: it keeps only
 * what V8 compiles before a module runs, which leaves out every function compiled lazily when first called —
 * most of commander and of a command; and Node 20 has none.
 *
 * The cache is made when the first run of a bundle on a Node version ends (V8 rejects a cache of another
 * version or other flags: it is then made again), kept per user, and named after the bundle, whose file name
 * holds a hash of its content: V8 checks only a source's length, so a cache is never offered to other code.
 * It lies in a directory that is the user's own (0700): a cache is code this process runs, so one that
 * someone else could write is never read (Node's own default, a shared folder in the temporary directory,
 * would be). Without a usable cache directory the bundle runs all the same, compiled as any script.
 *
 * `require` is the executable's own: it resolves from the folder the bundles lie in, as theirs would (a
 * createRequire would load node:module, a millisecond of start-up, for the same function).
 */
export function runBundle(file: string, require: NodeJS.Require): void {
  const dir = cacheDirectory();
  const cacheFile = dir && join(dir, `${file.slice(dirname(file).length + 1)}.v8`);
  let cachedData: Buffer | undefined;
  if (cacheFile && isOwnDirectory(dir)) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {}
  }
  // A bundle is ASCII (scripts/build.mjs checks), so Latin-1 reads it as a plain copy, and it is already
  // wrapped: `(function (exports, require, module, __filename, __dirname) {…})`, Node's CommonJS module wrapper.
  const source = readFileSync(file, "latin1");
  const script = new Script(source, cachedData ? { filename: file, cachedData } : { filename: file });
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected))
    process.once("exit", () => keep(cacheFile, script));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, file, dirname(file));
}

/**
 * $XDG_CACHE_HOME/capkit/v8-<Node version>-<arch>, else ~/.cache/…; none without either (HOME unset) or when
 * XDG_CACHE_HOME is not absolute (the XDG base directory specification says to ignore it then).
 */
function cacheDirectory(): string | undefined {
  const xdg = process.env["XDG_CACHE_HOME"];
  const home = process.env["HOME"];
  const root = xdg && isAbsolute(xdg) ? xdg : home && isAbsolute(home) ? join(home, ".cache") : undefined;
  return root && join(root, "capkit", `v8-${process.version}-${process.arch}`);
}

/** Whether `dir` and its parent (capkit's own two levels) are directories only this user can write to. */
function isOwnDirectory(dir: string): boolean {
  for (const d of [dirname(dir), dir]) {
    try {
      const s = lstatSync(d);
      if (!s.isDirectory() || (s.mode & 0o022) !== 0) return false;
      if (process.getuid && s.uid !== process.getuid()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Writes the cache of `script` atomically (a whole file or none, whatever runs at the same time); best effort. */
function keep(cacheFile: string, script: Script): void {
  try {
    const dir = dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isOwnDirectory(dir)) return;
    const partial = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(partial, script.createCachedData(), { mode: 0o600, flag: "wx" });
      renameSync(partial, cacheFile);
    } catch {
      rmSync(partial, { force: true });
    }
  } catch {
    // A read-only or full disk: the next run compiles again, nothing else changes.
  }
}
