import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { CLAIM_MS, IdempotencyKeys, type KeptAnswer } from "../src/web/idempotency.js";

/**
 * The app API's Idempotency-Key across processes: every process serving one bank directory opens the same
 * SQLite file, so here each "process" is its own connection and its own IdempotencyKeys (nothing shared in
 * memory), and one is a real child process killed with SIGKILL while its request runs.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function bankFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "capkit-idem-"));
  dirs.push(dir);
  return join(dir, "bank.db");
}

function open(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  return db;
}

const KEY = "0123456789abcdef0123456789abcdef";
const ok = (body: string): KeptAnswer => ({ status: 200, body });

/** A request whose answer the test gives when it wants, counting how many times it was done. */
function gated() {
  let done = 0;
  let answer!: (a: KeptAnswer) => void;
  const run = () => {
    done++;
    return new Promise<KeptAnswer>((resolve) => (answer = resolve));
  };
  return { run, answer: (a: KeptAnswer) => answer(a), done: () => done };
}

describe("Idempotency-Key across processes", () => {
  it("the same request in two processes at once is done once: the second waits and gets the first's answer", async () => {
    const file = bankFile();
    let now = Date.UTC(2026, 11, 5, 12);
    const a = new IdempotencyKeys(open(file), () => now);
    const b = new IdempotencyKeys(open(file), () => now);
    const request = gated();
    const first = a.once(KEY, "/activation/start", "{}", request.run);
    const second = b.once(KEY, "/activation/start", "{}", request.run);
    await new Promise((r) => setTimeout(r, 100)); // b is waiting on a's claim
    expect(request.done()).toBe(1);
    request.answer(ok('{"n":1}'));
    expect(await first).toEqual(ok('{"n":1}'));
    expect(await second).toEqual({ kind: "kept", answer: ok('{"n":1}') });
    expect(request.done()).toBe(1);
    now += 60_000;
    expect(await b.once(KEY, "/activation/start", "{}", request.run)).toEqual({
      kind: "kept",
      answer: ok('{"n":1}'),
    });
  });

  it("a burst of 20 from 4 processes is done once; another request under the key is refused even in progress", async () => {
    const file = bankFile();
    const now = Date.UTC(2026, 11, 5, 12);
    const processes = Array.from({ length: 4 }, () => new IdempotencyKeys(open(file), () => now));
    const request = gated();
    const burst = Array.from({ length: 20 }, (_, i) =>
      processes[i % 4]!.once(KEY, "/login", "{}", request.run),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await processes[1]!.once(KEY, "/login", '{"other":1}', request.run)).toEqual({ kind: "reused" });
    expect(await processes[2]!.once(KEY, "/other-route", "{}", async () => ok("x"))).toEqual(ok("x"));
    request.answer(ok("once"));
    const answers = await Promise.all(burst);
    expect(request.done()).toBe(1);
    expect(answers.filter((r) => "status" in r)).toEqual([ok("once")]);
    expect(answers.filter((r) => "kind" in r && r.kind === "kept")).toHaveLength(19);
  });

  it("a 5xx is not kept: the claim is dropped and the retry, from another process, does the request", async () => {
    const file = bankFile();
    const now = Date.UTC(2026, 11, 5, 12);
    const a = new IdempotencyKeys(open(file), () => now);
    const b = new IdempotencyKeys(open(file), () => now);
    expect(await a.once(KEY, "/login", "{}", async () => ({ status: 503, body: "down" }))).toEqual({
      status: 503,
      body: "down",
    });
    expect(await b.once(KEY, "/login", "{}", async () => ok("up"))).toEqual(ok("up"));
    await expect(
      a.once("f".repeat(32), "/login", "{}", async () => {
        throw new Error("the handler failed");
      }),
    ).rejects.toThrow("the handler failed");
    expect(await b.once("f".repeat(32), "/login", "{}", async () => ok("again"))).toEqual(ok("again"));
  });

  it("a process killed (SIGKILL) while doing the request: the retry waits, is told 'in progress', then takes the claim over", async () => {
    const file = bankFile();
    let now = Date.UTC(2026, 11, 5, 12);
    open(file).close(); // the file in WAL mode before the child opens it
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/idempotency-claimer.ts", import.meta.url)),
        file,
        String(now),
        KEY,
        "/activation/start",
        "{}",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d) => String(d).includes("claimed") && resolve());
      child.on("exit", (code) => reject(new Error(`the claimer exited (${code}) before claiming: ${err}`)));
    });
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;

    const b = new IdempotencyKeys(open(file), () => now, { waitMs: 150 });
    let done = 0;
    const run = async () => {
      done++;
      return ok("taken over");
    };
    expect(await b.once(KEY, "/activation/start", "{}", run)).toEqual({ kind: "in-progress" });
    now += CLAIM_MS - 1;
    expect(await b.once(KEY, "/activation/start", "{}", run)).toEqual({ kind: "in-progress" });
    expect(done).toBe(0);
    now += 1;
    expect(await b.once(KEY, "/activation/start", "{}", run)).toEqual(ok("taken over"));
    expect(done).toBe(1);
  });
});
