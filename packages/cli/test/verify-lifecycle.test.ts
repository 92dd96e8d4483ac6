import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "capkit-verify-cli-"));
// better-sqlite3 as @capkit/verify has it, to hold a write lock from "another process".
const Database = createRequire(new URL("../../verify/package.json", import.meta.url))(
  "better-sqlite3",
) as new (
  path: string,
) => { exec(sql: string): void; close(): void };

describe("capkit verify: every store failure is exit 4, never 5", () => {
  it("a garbage file, a directory, a database locked by another process, an unreachable PostgreSQL", () => {
    const dir = tmp();
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    const folder = join(dir, "folder.db");
    mkdirSync(folder);
    for (const db of [garbage, folder]) {
      const r = capkit(["--json", "verify", "status", "--db", db, "--id", "x"]);
      expect(r.status, r.stdout + r.stderr).toBe(4);
      expect(r.json().error.code).toBe("STORE_UNAVAILABLE");
    }

    const db = join(dir, "state.db");
    const card = join(dir, "card.json");
    capkit(["sim", "card", "new", "--pin", "1234", "--out", card]);
    expect(capkit(["verify", "enroll", "--db", db, "--id", "alice", "--card", card]).status).toBe(0);
    const code = capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "1234\n" }).json()
      .code;
    const other = new Database(db);
    other.exec("BEGIN EXCLUSIVE");
    try {
      const r = capkit(["--json", "verify", "check", "--db", db, "--id", "alice", "--code", code]);
      expect(r.status, r.stdout + r.stderr).toBe(4);
      expect(r.json().error).toMatchObject({
        code: "STORE_UNAVAILABLE",
        hint: expect.stringContaining("nothing"),
      });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect(capkit(["verify", "check", "--db", db, "--id", "alice", "--code", code]).status).toBe(0);

    const r = capkit(
      ["--json", "verify", "status", "--pg", "postgres://capkit@127.0.0.1:1/none", "--id", "x"],
      {
        env: { CAPKIT_KEYS: JSON.stringify({ masterKey: "00".repeat(32) }) },
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(4);
    expect(r.json().error.code).toBe("STORE_UNAVAILABLE");
  }, 120_000);

  it("a card file that is not JSON is a usage error (2), not an internal one", () => {
    const dir = tmp();
    const bad = join(dir, "card.json");
    writeFileSync(bad, "not json");
    expect(capkit(["verify", "enroll", "--db", join(dir, "s.db"), "--id", "a", "--card", bad]).status).toBe(
      2,
    );
  });
});

describe("capkit verify: lifecycle as a bank runs it", () => {
  it("users with two cards, list, disable/enable, replace, revoke, unlock by user, audit retention", () => {
    const dir = tmp();
    const db = join(dir, "state.db");
    const cards = ["c1", "c2", "c3"].map((n) => {
      const f = join(dir, `${n}.json`);
      expect(capkit(["sim", "card", "new", "--pin", "1234", "--out", f]).status).toBe(0);
      return f;
    });
    const code = (card: string) =>
      capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "1234\n" }).json()
        .code as string;
    const v = (args: string[]) => capkit(["--json", "verify", ...args, "--db", db]);

    expect(v(["enroll", "--id", "card-1", "--user", "bob", "--card", cards[0]!]).status).toBe(0);
    expect(v(["enroll", "--id", "card-2", "--user", "bob", "--card", cards[1]!]).status).toBe(0);
    expect(v(["check", "--user", "bob", "--code", code(cards[1]!)]).json()).toMatchObject({
      result: "accepted",
      credential: "card-2",
    });
    const page1 = v(["list", "--limit", "1"]).json();
    expect(page1.credentials.map((c: { id: string }) => c.id)).toEqual(["card-1"]);
    expect(
      v(["list", "--after", page1.next])
        .json()
        .credentials.map((c: { id: string }) => c.id),
    ).toEqual(["card-2"]);
    expect(capkit(["verify", "list", "--db", db, "--user", "bob"]).stdout).toContain(
      "card-1: cap (user bob), active",
    );

    expect(v(["disable", "--id", "card-1"]).status).toBe(0);
    expect(v(["check", "--id", "card-1", "--code", code(cards[0]!)]).status).toBe(1);
    expect(v(["enable", "--id", "card-1"]).status).toBe(0);
    expect(v(["check", "--id", "card-1", "--code", code(cards[0]!)]).status).toBe(0);

    // A replacement for card-1: both work until the new one is used.
    expect(v(["enroll", "--id", "card-3", "--replaces", "card-1", "--card", cards[2]!]).status).toBe(0);
    expect(v(["status", "--id", "card-3"]).json()).toMatchObject({ user: "bob", replaces: "card-1" });
    expect(v(["check", "--id", "card-1", "--code", code(cards[0]!)]).status).toBe(0);
    expect(v(["check", "--user", "bob", "--code", code(cards[2]!)]).status).toBe(0);
    expect(v(["status", "--id", "card-1"]).status).toBe(2); // revoked: gone
    expect(v(["status", "--user", "bob"]).json().credentials).toEqual(["card-2", "card-3"]);

    for (let i = 0; i < 5; i++) v(["check", "--user", "bob", "--code", "00000000"]);
    expect(v(["status", "--user", "bob"]).json()).toMatchObject({ locked: true, failures: 5 });
    expect(v(["check", "--id", "card-2", "--code", code(cards[1]!)]).json()).toEqual({ result: "locked" });
    expect(v(["unlock", "--user", "bob"]).status).toBe(0);
    expect(v(["check", "--id", "card-2", "--code", code(cards[1]!)]).status).toBe(0);

    expect(v(["revoke", "--id", "card-2"]).status).toBe(0);
    const trail = v(["audit", "--id", "card-2", "--limit", "100"]).json().entries;
    expect(trail.at(-1)).toMatchObject({ action: "revoke", result: "ok" });
    expect(v(["prune-audit", "--before", "2000-01-01"]).json()).toMatchObject({ deleted: 0 });
    expect(v(["prune-audit", "--before", "2999-01-01"]).json().deleted).toBeGreaterThan(10);
    // Each chain keeps its newest entry before the cut (what a later entry is verified from): one per user here.
    const left = v(["audit"]).json().entries;
    expect(left.length).toBeLessThanOrEqual(2);
    expect(new Set(left.map((e: { chain: string }) => e.chain)).size).toBe(left.length);
    expect(v(["prune-audit"]).status).toBe(2);
  }, 180_000);
});
