import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, type CliResult, capkit } from "./run-cli.js";

/**
 * How the executable starts (src/bin.ts, src/code-cache.ts, src/shared/stdio.ts): which bundle and which
 * built-in modules a command line loads, the per-user V8 code cache and what it refuses, and standard output
 * written without process.stdout. Counts, never times (the timings are bench/cli.ts's).
 */
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "capkit-start-"));
const K = "3132333435363738393031323334353637383930";
const OTP = ["otp", "generate", "--totp", "--secret-hex", K, "--time", "59"];
const DIST = dirname(BIN);

interface Start extends CliResult {
  /** The bundles (dist/cli-*.cjs) the process read. */
  bundles: string[];
  /** The files it read from the cache folder. */
  cacheReads: string[];
  /** Node's built-in modules it loaded. */
  modules: string[];
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Start {
  const trace = join(tmp(), "trace.json");
  const r = capkit(args, {
    env: { CAPKIT_TRACE_START: trace, ...env },
    nodeArgs: ["--require", fixture("trace-start.cjs")],
  });
  const { reads, modules } = JSON.parse(readFileSync(trace, "utf8")) as {
    reads: string[];
    modules: string[];
  };
  return {
    ...r,
    bundles: reads
      .filter((f) => dirname(f) === DIST && /^cli-.*\.cjs$/.test(basename(f)))
      .map((f) => basename(f)),
    cacheReads: reads.filter((f) => f.endsWith(".v8")),
    modules,
  };
}

/** The cache folder of this Node under a given XDG_CACHE_HOME (src/code-cache.ts). */
const cacheFolder = (home: string) => join(home, "capkit", `v8-${process.version}-${process.arch}`);

/** Built-ins that process.stdout, child_process or readline would bring: none is needed to print a code. */
const HEAVY_BUILTINS = ["net", "stream", "tty", "child_process", "readline", "internal/fs/promises"];

describe("which bundle and which built-in modules a start loads", () => {
  it("otp generate reads the otp bundle alone, and loads no stream, tty, network or child process module", () => {
    const r = start(OTP);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("287082\n");
    expect(r.bundles).toHaveLength(1);
    expect(r.bundles[0]).toMatch(/^cli-otp-\w+\.cjs$/);
    for (const m of HEAVY_BUILTINS) expect(r.modules, m).not.toContain(`NativeModule ${m}`);
  });

  it("--version reads the bundle with no command group; help and a misspelt command the one with all", () => {
    const v = start(["--version"]);
    expect(v.stdout.trim()).toBe("0.1.0");
    expect(v.bundles).toEqual([expect.stringMatching(/^cli-none-\w+\.cjs$/)]);
    for (const m of HEAVY_BUILTINS) expect(v.modules, m).not.toContain(`NativeModule ${m}`);
    for (const args of [["--help"], ["frobnicate"], ["--json"]]) {
      const all = start(args);
      expect(all.bundles, args.join(" ")).toEqual([expect.stringMatching(/^cli-all-\w+\.cjs$/)]);
    }
  });

  it("each command group has its bundle, which defines that group's commands", () => {
    for (const group of ["demo", "cap", "readers", "card", "apdu", "doctor", "otp", "verify", "sim"]) {
      const r = start([group, "--help"]);
      expect(r.status, group).toBe(0);
      expect(r.stdout, group).toContain(`Usage: capkit ${group}`);
      expect(r.bundles, group).toEqual([expect.stringMatching(new RegExp(`^cli-${group}-\\w+\\.cjs$`))]);
    }
  });

  it("the tracer sees the modules it looks for (so the checks above can fail)", () => {
    // Help measures the terminal's width through process.stdout, which loads the stream modules.
    const help = start(["--help"]);
    expect(help.modules).toContain("NativeModule stream");
  });
});

describe("the V8 code cache", () => {
  it("the first run writes it (0600, in 0700 folders); later runs read it and leave it as it is", () => {
    const home = tmp();
    const first = start(OTP, { XDG_CACHE_HOME: home });
    expect(first.stdout).toBe("287082\n");
    expect(first.cacheReads).toEqual([]); // nothing to read yet
    const folder = cacheFolder(home);
    const [file] = readdirSync(folder);
    expect(file).toBe(`${first.bundles[0]}.v8`);
    const cache = join(folder, file!);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(dirname(folder)).mode & 0o777).toBe(0o700);
    const before = statSync(cache);
    const second = start(OTP, { XDG_CACHE_HOME: home });
    expect(second.stdout).toBe("287082\n");
    expect(second.cacheReads).toEqual([cache]);
    const after = statSync(cache);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("a cache V8 rejects (not a cache at all) is replaced, and the command runs from the bundle's source", () => {
    const home = tmp();
    start(OTP, { XDG_CACHE_HOME: home });
    const folder = cacheFolder(home);
    const cache = join(folder, readdirSync(folder)[0]!);
    writeFileSync(cache, "not a V8 code cache");
    const r = start(OTP, { XDG_CACHE_HOME: home });
    expect(r.stdout).toBe("287082\n");
    expect(r.cacheReads).toEqual([cache]);
    expect(readFileSync(cache, "utf8")).not.toBe("not a V8 code cache");
  });

  it("a cache folder others can write to, or owned by someone else, is neither read nor written", () => {
    const cases: [string, (folder: string) => void][] = [["writable by others", (f) => chmodSync(f, 0o777)]];
    // As root, any owner can be given (nobody's uid): the folder of another user.
    if (process.getuid?.() === 0) cases.push(["owned by another user", (f) => chownSync(f, 65534, 65534)]);
    for (const [what, spoil] of cases) {
      const home = tmp();
      start(OTP, { XDG_CACHE_HOME: home });
      const folder = cacheFolder(home);
      const cache = join(folder, readdirSync(folder)[0]!);
      writeFileSync(cache, "planted");
      spoil(folder);
      const r = start(OTP, { XDG_CACHE_HOME: home });
      expect(r.stdout, what).toBe("287082\n");
      expect(r.cacheReads, what).toEqual([]);
      expect(readFileSync(cache, "utf8"), what).toBe("planted");
    }
  });

  it("without a usable cache folder the command runs all the same, and writes nothing", () => {
    const cwd = tmp();
    // No HOME, and an XDG_CACHE_HOME that is not absolute (the XDG specification says to ignore it).
    const none = capkit(OTP, { cwd, env: { HOME: undefined, XDG_CACHE_HOME: "relative/cache" } });
    expect(none.status).toBe(0);
    expect(none.stdout).toBe("287082\n");
    expect(readdirSync(cwd)).toEqual([]);
    // A cache home that is a file: the folder cannot be made.
    const file = join(tmp(), "file");
    writeFileSync(file, "");
    const blocked = capkit(OTP, { env: { XDG_CACHE_HOME: file } });
    expect([blocked.status, blocked.stdout, blocked.stderr]).toEqual([0, "287082\n", ""]);
  });
});

describe("standard output without process.stdout", () => {
  const bash = (script: string) =>
    spawnSync("bash", ["-c", script, "bash", process.execPath, BIN], {
      encoding: "utf8",
      env: { ...process.env, XDG_CACHE_HOME: tmp() },
    });

  it("a reader gone (EPIPE) or a closed descriptor (EBADF) ends the output quietly: exit 0, nothing on stderr", () => {
    // `true` has exited long before capkit prints, so its write finds no reader.
    const pipe = bash(`"$1" "$2" ${OTP.join(" ")} | true; echo "\${PIPESTATUS[0]}"`);
    expect([pipe.stdout, pipe.stderr]).toEqual(["0\n", ""]);
    const closed = bash(`"$1" "$2" --version >&-; echo $?`);
    expect([closed.stdout, closed.stderr]).toEqual(["0\n", ""]);
  });

  it("a full non-blocking pipe (EAGAIN): capkit hands its text to process.stdout, which waits for room", async () => {
    const fifo = join(tmp(), "stdout");
    execFileSync("mkfifo", [fifo]);
    // capkit's end, and the test's own reading end (a description of its own, so always non-blocking).
    const writer = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      // Fill the pipe: capkit's first write finds no room.
      const filler = Buffer.alloc(1024, "x");
      let filled = 0;
      for (;;) {
        try {
          filled += writeSync(writer, filler);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
          throw e;
        }
      }
      const child = spawn(process.execPath, ["--require", fixture("nonblocking-stdout.cjs"), BIN, ...OTP], {
        stdio: ["ignore", writer, "pipe"],
        env: { ...process.env, XDG_CACHE_HOME: tmp() },
      });
      let stderr = "";
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      const handedOver = new Promise<void>((resolve) =>
        child.stderr?.on("data", (d) => {
          stderr += d;
          if (stderr.includes("process.stdout.write\n")) resolve();
        }),
      );
      // Only once capkit has met the full pipe and handed its text to the stream, make room.
      await Promise.race([handedOver, exited]);
      expect(stderr).toBe("process.stdout.write\n");
      const out: Buffer[] = [];
      const drain = () => {
        const b = Buffer.alloc(1 << 16);
        for (;;) {
          try {
            const n = readSync(reader, b);
            if (n === 0) return;
            out.push(Buffer.from(b.subarray(0, n)));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EAGAIN") return;
            throw e;
          }
        }
      };
      let status: number | null | undefined;
      void exited.then((s) => {
        status = s;
      });
      while (status === undefined) {
        drain();
        await new Promise((r) => setTimeout(r, 10));
      }
      drain();
      expect(status, stderr).toBe(0);
      expect(Buffer.concat(out).toString("latin1")).toBe(`${"x".repeat(filled)}287082\n`);
    } finally {
      closeSync(reader);
      closeSync(writer);
    }
  }, 60_000);
});
