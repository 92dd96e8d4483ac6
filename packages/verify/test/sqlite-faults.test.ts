import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "@capkit/core";
import { FakeClock, newSimCardState, SgpassToken, SimulatedCard } from "@capkit/token-sim";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, Verifier } from "../src/index.js";
import { SqliteStore } from "../src/sqlite.js";
import { burstAcrossProcesses } from "./processes.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "capkit-sqlite-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const material = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
const keys = new SoftwareKeyProvider(material);
let n = 0;
const dbPath = () => join(dir, `state-${n++}.db`);

describe("SQLite store faults", () => {
  it("creates the database and its WAL and SHM files 0600, and holds no key material in clear", async () => {
    const path = dbPath();
    const store = new SqliteStore(path);
    const verifier = new Verifier({ store, keys });
    const secret = randomBytes(20);
    await verifier.enroll({ id: "token", kind: "totp", secret });
    const card = new SimulatedCard(newSimCardState("sesame", "1234"));
    const record = card.issuerRecord();
    await verifier.enroll({ id: "card", kind: "cap", record });
    for (const f of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(f)).toBe(true);
      expect((statSync(f).mode & 0o777).toString(8)).toBe("600");
    }
    await store.close();
    if (record.key.kind !== "test-imk") throw new Error("a simulated card carries a test IMK");
    const raw = Buffer.concat([path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f)));
    for (const needle of [
      secret,
      Buffer.from(toHex(secret)),
      Buffer.from(toHex(secret).toLowerCase()),
      Buffer.from(record.key.imk, "hex"),
      Buffer.from(record.key.imk.toUpperCase()),
      Buffer.from(record.key.imk.toLowerCase()),
    ]) {
      expect(raw.includes(needle)).toBe(false);
    }
  });

  it("a closed or broken database: every store method answers STORE_UNAVAILABLE", async () => {
    const store = new SqliteStore(dbPath());
    await store.close();
    const audit = { at: 1, credentialId: "x", action: "verify", result: "x" } as const;
    const calls: Promise<unknown>[] = [
      store.enroll(
        {
          id: "x",
          params: { kind: "ocra", suite: "OCRA-1:HOTP-SHA1-6:QN08" },
          sealed: undefined,
          last: -1,
          failures: 0,
          locked: false,
          lockedAt: undefined,
          createdAt: 1,
          state: "active",
          user: undefined,
          drift: undefined,
          replaces: undefined,
          acceptedAt: undefined,
          acceptedDigest: undefined,
          acceptedRequest: undefined,
          version: 1,
        },
        audit,
      ),
      store.get("x"),
      store.list({ limit: 10 }),
      store.user("u"),
      store.addUser("u", audit),
      store.accept("x", 1, audit, {
        version: 1,
        user: undefined,
        probe: { fn: "identify", code: "1" },
        rule: { maxFailures: 5, releaseMs: 0 },
        refusedDetail: "r",
      }),
      store.fail({ credential: "x" }, { maxFailures: 5, releaseMs: 0 }, audit),
      store.succeed({ user: "u" }, { maxFailures: 5, releaseMs: 0 }, audit),
      store.unlock({ user: "u" }, audit),
      store.setState("x", "disabled", 2, audit),
      store.revoke("x", audit),
      store.addChallenge(
        { id: "c", credentialId: "x", function: "respond", value: "1", expiresAt: 2 },
        audit,
        4,
      ),
      store.takeChallenge("c", "x", "respond", 1),
      store.record(audit),
      store.audit(),
      store.pruneAudit(1),
      store.challengeCount(),
      store.unknownCount(),
    ];
    for (const c of calls) await expect(c).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });

    const garbage = dbPath();
    writeFileSync(garbage, randomBytes(8192));
    expect(() => new SqliteStore(garbage)).toThrow(expect.objectContaining({ code: "STORE_UNAVAILABLE" }));
  });

  it("another process holding the write lock: writes answer STORE_UNAVAILABLE after the busy timeout, nothing accepted", async () => {
    const path = dbPath();
    const store = new SqliteStore(path, { busyTimeoutMs: 50 });
    const clock = new FakeClock(Date.UTC(2026, 10, 23, 12));
    const verifier = new Verifier({ store, keys, now: () => clock.now() });
    const secret = randomBytes(20);
    await verifier.enroll({ id: "t", kind: "totp", secret });
    const code = new SgpassToken({ kind: "totp", secret, clock }).press().code!;
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    await expect(verifier.verify({ id: "t", code })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(verifier.verify({ id: "t", code: "000000" })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    other.exec("ROLLBACK");
    other.close();
    expect((await verifier.status("t")).last).toBe(-1);
    expect((await verifier.verify({ id: "t", code })).result).toBe("accepted");
    await store.close();
  });

  it("35 SIGKILLs at random points: integrity check passes, no accepted code accepted again, no accept lost", async () => {
    const path = dbPath();
    const setup = new SqliteStore(path);
    const secret = randomBytes(20);
    await new Verifier({ store: setup, keys }).enroll({ id: "k", kind: "hotp", secret, lookAhead: 0 });
    await setup.close();
    const accepted: number[] = [];
    for (let kill = 0; kill < 35; kill++) {
      const lines = await new Promise<string[]>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            "--conditions=@capkit/source",
            "--import",
            "tsx",
            fileURLToPath(new URL("./fixtures/sqlite-kill-worker.ts", import.meta.url)),
            path,
            "k",
            secret.toString("hex"),
          ],
          { cwd: ROOT, env: { ...process.env, CAPKIT_KEYS: JSON.stringify(material) }, stdio: "pipe" },
        );
        let out = "";
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.stdout.on("data", (d) => {
          const was = out;
          out += d;
          if (!was.includes("ready") && out.includes("ready"))
            setTimeout(() => child.kill("SIGKILL"), Math.random() * 300);
        });
        child.on("exit", (_code, signal) =>
          signal === "SIGKILL" ? resolve(out.split("\n").filter(Boolean)) : reject(new Error(err)),
        );
      });
      for (const l of lines.slice(1)) {
        const [what, c] = l.split(" ");
        expect(what, l).not.toBe("X");
        if (what === "A") accepted.push(Number(c));
      }
      const db = new Database(path, { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const last = (
        db.prepare("SELECT last FROM capkit_credentials WHERE id = 'k'").get() as { last: number }
      ).last;
      db.close();
      // No accept lost: what a process reported accepted is in the state, even if killed right after.
      expect(last).toBeGreaterThanOrEqual(Math.max(-1, ...accepted));
    }
    // No code accepted twice, and every accepted code is refused now.
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(accepted.length).toBeGreaterThan(0);
    const store = new SqliteStore(path);
    const verifier = new Verifier({ store, keys });
    const token = new SgpassToken({ kind: "hotp", secret, clock: new FakeClock(0) });
    const last = (await verifier.status("k")).last;
    const codes = Array.from({ length: last + 2 }, () => token.press().code!);
    for (const c of accepted) {
      // A used code that happens to equal the next counter's code (6 digits: about 1 in 10^6 per used code,
      // thousands of them here) is that next code, rightly valid: not a replay.
      if (codes[c] === codes[last + 1]) continue;
      expect((await verifier.verify({ id: "k", code: codes[c]! })).result).not.toBe("accepted");
      await verifier.unlock("k");
    }
    await store.close();
  }, 300_000);
});

describe("SQLite across processes", () => {
  const path = join(dir, "burst.db");
  burstAcrossProcesses(
    "SQLite",
    async () => new SqliteStore(path),
    () => path,
  );
});

describe("a database from the first schema (0.1)", () => {
  it("is brought up to date on open and keeps its credentials' state", async () => {
    const path = dbPath();
    const old = new Database(path);
    old.exec(`
      CREATE TABLE credentials (id TEXT PRIMARY KEY, params TEXT NOT NULL, sealed TEXT, last INTEGER NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
      CREATE TABLE challenges (id TEXT PRIMARY KEY, credential_id TEXT NOT NULL, function TEXT NOT NULL,
        value TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, credential_id TEXT NOT NULL,
        action TEXT NOT NULL, result TEXT NOT NULL, counter INTEGER, detail TEXT);
      CREATE INDEX audit_credential ON audit (credential_id, seq);`);
    const secret = randomBytes(20);
    old
      .prepare("INSERT INTO credentials (id, params, sealed, last, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(
        "legacy",
        JSON.stringify({ kind: "hotp", algorithm: "SHA1", digits: 6, lookAhead: 10 }),
        await keys.seal("legacy", "hmac", secret),
        4,
        1,
      );
    old.close();
    const store = new SqliteStore(path);
    const verifier = new Verifier({ store, keys });
    expect(await verifier.status("legacy")).toMatchObject({ state: "active", last: 4 });
    const token = new SgpassToken({ kind: "hotp", secret, clock: new FakeClock(0) });
    for (let i = 0; i < 5; i++) token.press();
    expect((await verifier.verify({ id: "legacy", code: token.press().code! })).result).toBe("accepted");
    await store.close();
  });
});
