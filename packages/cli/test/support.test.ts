import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

/** The findings of issue 12 ("capkit for support staff"), one test each, on the built binary. */
// better-sqlite3 as @capkit/verify has it: an attacker editing the database behind the verifier's back.
const Database = createRequire(new URL("../../verify/package.json", import.meta.url))(
  "better-sqlite3",
) as new (
  path: string,
) => { exec(sql: string): void; close(): void };
const tmp = () => mkdtempSync(join(tmpdir(), "capkit-support-"));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const newCard = (dir: string, pin = "4321", profile = "sesame") => {
  const card = join(dir, `${profile}-${pin}.json`);
  expect(capkit(["sim", "card", "new", "--profile", profile, "--pin", pin, "--out", card]).status).toBe(0);
  return card;
};
const cardState = (card: string) => JSON.parse(readFileSync(card, "utf8"));

describe("usage", () => {
  it("usage errors honour --json: one JSON document on stdout, exit 2", () => {
    const r = capkit(["--json", "otp", "generate", "--digits"]);
    expect(r.status).toBe(2);
    expect(r.json()).toMatchObject({
      error: { code: "USAGE", message: expect.stringContaining("--digits") },
    });
    expect(capkit(["--json", "frobnicate"]).json().error.code).toBe("USAGE");
  });

  it("a group without its subcommand prints help and exits 2; capkit help exits 0", () => {
    for (const args of [[], ["otp"], ["verify"], ["cap"], ["sim"]]) {
      const r = capkit(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("Usage: capkit");
    }
    expect(capkit(["help"]).status).toBe(0);
    expect(capkit(["--help"]).status).toBe(0);
  });

  it("--json --version is a JSON document", () => {
    expect(capkit(["--json", "--version"]).json()).toEqual({ version: "0.1.0" });
    expect(capkit(["--version"]).stdout).toBe("0.1.0\n");
  });

  it("pnpm capkit resolves relative paths against the directory the user is in", () => {
    const here = mkdtempSync(join(ROOT, ".capkit-cwd-"));
    try {
      const r = spawnSync("pnpm", ["capkit", "sim", "card", "new", "--pin", "1234", "--out", "mine.json"], {
        cwd: here,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(here, "mine.json"))).toBe(true);
      expect(existsSync(join(ROOT, "mine.json"))).toBe(false);
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });
});

describe("apdu", () => {
  it("checks every argument before sending anything: a bad second APDU costs nothing, and is not echoed", () => {
    const dir = tmp();
    const card = newCard(dir);
    const before = cardState(card);
    const r = capkit(["apdu", "--sim", card, "0020008008244321FFFFFFFFFF", "ZZ"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("APDU 2 of 2");
    expect(r.stdout + r.stderr).not.toContain("4321");
    expect(cardState(card)).toEqual(before);
  });

  it("a VERIFY reads the try counter first and keeps the last try; the exchanges that happened are shown", () => {
    const dir = tmp();
    const card = newCard(dir);
    writeFileSync(card, JSON.stringify({ ...cardState(card), pinTries: 1 }));
    const args = ["apdu", "--sim", card, "00A4040007A000000003800200", "0020008008249999FFFFFFFFFF"];
    const r = capkit(args);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("PIN_TRIES_LOW");
    expect(r.stdout).toContain("> 00A4040007A000000003800200");
    expect(r.stdout).toContain("(capkit) > 80CA9F1700");
    expect(r.stdout).not.toContain("> 00200080");
    const j = capkit(["--json", ...args]).json();
    expect(j.error.code).toBe("PIN_TRIES_LOW");
    expect(j.error.details.exchanges.map((e: { c: string }) => e.c)).toEqual([
      "00A4040007A000000003800200",
      "80CA9F1700",
    ]);
    expect(cardState(card).pinTries).toBe(1);
  });
});

describe("apdu masks cardholder data unless asked", () => {
  it("PAN, track 2, expiry and name are masked in every output; --unredacted shows them", () => {
    const dir = tmp();
    const card = newCard(dir);
    const { pan, expiry } = cardState(card);
    const args = ["apdu", "--sim", card, "00A4040007A000000003800200", "00B2010C00"];
    const human = capkit(args);
    const json = capkit(["--json", ...args]);
    expect(human.status).toBe(0);
    for (const out of [human.stdout, json.stdout]) {
      expect(out).not.toContain(pan);
      expect(out).not.toContain(pan.slice(-10));
      expect(out).not.toContain(`5F2403${expiry}`);
      expect(out).not.toContain(Buffer.from("CAPKIT/TEST CARD").toString("hex").toUpperCase());
    }
    const record = json.json().exchanges[1];
    expect(record.r).toMatch(/5A08\*{16}/);
    expect(record.r).toMatch(/9F5611[0-9A-F]{34}/); // CAP data stays readable
    expect(json.json().redacted).toBe(true);
    const clear = capkit(["--json", ...args, "--unredacted"]).json();
    expect(clear.redacted).toBe(false);
    expect(clear.exchanges[1].r).toContain(pan.length % 2 ? `${pan}F` : pan);
  });
});

/** A Visa DPA reader's constants (docs/architecture.md §3.4). */
const DPA = { "95": "8000000000", "9A": "010101", "9F35": "34", "9F34": "010002", "9F33": "208000" };

describe("cap code", () => {
  it("--json has the CDOL1 values sent, tag by tag, and the cryptogram; --explain says where each came from", () => {
    const r = capkit(
      [
        "--json",
        "cap",
        "code",
        "--transcript",
        fixture("french-visa-dpa-identify.json"),
        "--profile",
        "sesame",
        "--pin-stdin",
        "--explain",
      ],
      { input: "1234\n" },
    ).json();
    expect(r.code).toBe("34656023");
    expect(r.cdol1).toContainEqual({ tag: "9A", value: "010101" });
    expect(r.cdol1).toContainEqual({ tag: "95", value: "8000000000" });
    expect(r.cryptogram).toMatchObject({ type: "ARQC", ac: expect.stringMatching(/^[0-9A-F]{16}$/) });
    expect(r.explanation.cdol1).toContainEqual(expect.objectContaining({ tag: "9A", source: "profile" }));
    expect(r.explanation.cdol1).toContainEqual(
      expect.objectContaining({ tag: "9F37", source: "none in this mode" }),
    );
    expect(r.explanation.notes.join("\n")).toContain("000000");
    // Which set of constants, and where they come from.
    expect(r.readerApplication).toBe("visa-dpa");
    expect(r.explanation.constants).toMatchObject({ id: "visa-dpa", fallback: false, assumed: false });
    expect(r.explanation.constants.source).toContain("french-visa-dpa-vasco810-identify");
  });

  it("--explain on an application the profile has no constants for: a warning, and the note says so", () => {
    const card = newCard(tmp(), "1234", "mastercard-cap");
    const r = capkit(
      ["--json", "cap", "code", "--sim", card, "--profile", "sesame", "--pin-stdin", "--explain"],
      {
        input: "1234\n",
      },
    ).json();
    expect(r.aid).toBe("A0000000048002");
    expect(r.warnings.join("\n")).toContain(
      "the sesame profile has no constants for application A0000000048002: it sent its Visa DPA ones",
    );
    expect(r.warnings.join("\n")).toContain(
      "profiles with constants for it: mastercard-cap, rabobank, belgian",
    );
    expect(r.explanation.constants).toMatchObject({ id: "visa-dpa", fallback: true });
    expect(r.explanation.notes.join("\n")).toContain("sesame has no constants for A0000000048002");
  });

  it("rabobank in respond: the ABN AMRO transform it does not reproduce is said at run time", () => {
    const r = capkit(
      [
        "cap",
        "code",
        "--transcript",
        fixture("natwest-respond-12345678.json"),
        "--profile",
        "rabobank",
        "--mode",
        "respond",
        "--challenge",
        "12345678",
      ],
      {},
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "warning: no public recording shows what a Rabobank reader sends for a challenge",
    );
  });

  it("a custom profile with a typo'd key or malformed hex is refused, naming it (exit 2)", () => {
    const dir = tmp();
    const write = (name: string, profile: unknown) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    };
    const dpa = { id: "dpa", aids: ["A0000000038002"], terminalData: { "9A": "010101" } };
    const run = (profile: string, command = ["cap", "code"]) =>
      capkit([...command, "--profile", profile, "--transcript", fixture("french-visa-dpa-identify.json")], {
        input: "1234\n",
      });
    const typo = run(write("typo.json", { name: "mine", applications: [{ ...dpa, terminaldata: {} }] }));
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain(
      'unknown key "terminaldata" in applications[0] (did you mean "terminalData"?)',
    );
    const hex = run(
      write("hex.json", { name: "mine", applications: [{ ...dpa, terminalData: { "9A": "01010" } }] }),
      ["card", "info"],
    );
    expect(hex.status).toBe(2);
    expect(hex.stderr).toContain('applications[0] terminalData 9A must be hex (whole bytes), not "01010"');
    // A profile written before constants were per application says how to write it now.
    const old = run(write("old.json", { name: "mine", terminalData: { "9A": "010101" } }));
    expect(old.status).toBe(2);
    expect(old.stderr).toContain('"terminalData" belongs to an application now');
    // The same constants, written per application, give the recorded code.
    const mine = run(write("mine.json", { name: "mine", applications: [{ ...dpa, terminalData: DPA }] }));
    expect(mine.stdout).toContain("3465 6023");
  });

  it("a transcript over the size cap is a typed error before it is read (exit 2)", () => {
    const dir = tmp();
    const big = join(dir, "big.json");
    writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x20));
    const r = capkit(["--json", "cap", "code", "--transcript", big, "--pin-stdin"], { input: "1234\n" });
    expect(r.status).toBe(2);
    expect(r.json().error).toMatchObject({ code: "TRANSCRIPT_TOO_LARGE", details: { max: 1048576 } });
  });
});

describe("verify never makes a database or key file by accident", () => {
  it("check on a mistyped --db: exit 4, nothing created", () => {
    const dir = tmp();
    const r = capkit(["verify", "check", "--db", join(dir, "typo.db"), "--id", "a", "--code", "12345678"]);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("no database at");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("no keys anywhere: enroll says what to do (exit 4) and makes no database; keys new makes them, mode 0600, once", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    const home = join(dir, "home");
    const env = { XDG_CONFIG_HOME: home };
    const r = capkit(["verify", "enroll", "--db", db, "--id", "a", "--card", card], { env });
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("no keys");
    expect(r.stderr).toContain("hint: create keys once: capkit verify keys new");
    expect(existsSync(db)).toBe(false);
    const made = capkit(["--json", "verify", "keys", "new", "--allow-test-keys"], { env });
    expect(made.status, made.stderr).toBe(0);
    const file = join(home, "capkit", "keys.json");
    expect(made.json()).toMatchObject({
      file,
      allowTestKeys: true,
      keyId: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "capkit")).mode & 0o777).toBe(0o700);
    expect(made.stdout).not.toContain(JSON.parse(readFileSync(file, "utf8")).masterKey);
    expect(capkit(["verify", "keys", "new"], { env }).status).toBe(2); // never overwrites
    const ok = capkit(["verify", "enroll", "--db", db, "--id", "a", "--card", card], { env });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain("warning");
    expect(readdirSync(dir).filter((f) => f.includes("keys"))).toEqual([]);
  });

  it("a key file beside the database, or readable by others, is used with a warning", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    const beside = join(dir, "keys.json");
    expect(capkit(["verify", "keys", "new", "--allow-test-keys", "--out", beside]).status).toBe(0);
    const r = capkit(["verify", "enroll", "--db", db, "--id", "a", "--card", card, "--keys", beside]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: the key file ${beside} sits beside the database ${db}`);
    expect(r.stderr).not.toContain("readable by others");
    const elsewhere = join(tmp(), "keys.json");
    writeFileSync(elsewhere, readFileSync(beside), { mode: 0o644 });
    chmodSync(elsewhere, 0o644);
    const open = capkit(["verify", "status", "--db", db, "--id", "a", "--keys", elsewhere]);
    expect(open.status, open.stderr).toBe(0);
    expect(open.stderr).toContain(
      `warning: the key file ${elsewhere} is readable by others (mode 644): chmod 600`,
    );
    expect(open.stderr).not.toContain("sits beside");
    // A database made by capkit 0.1 kept its keys in <db>.keys.json: still found, with the warning.
    const old = join(dir, "old.db");
    writeFileSync(`${old}.keys.json`, readFileSync(beside), { mode: 0o600 });
    const legacy = capkit(["verify", "enroll", "--db", old, "--id", "a", "--card", card], {
      env: { XDG_CONFIG_HOME: join(dir, "empty-home") },
    });
    expect(legacy.status, legacy.stderr).toBe(0);
    expect(legacy.stderr).toContain("sits beside the database");
  });

  it("master-key rotation: keys rotate, rekey, keys retire; the old key file is refused afterwards", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    const keys = join(tmp(), "keys.json");
    expect(capkit(["verify", "keys", "new", "--allow-test-keys", "--out", keys]).status).toBe(0);
    const oldKeys = readFileSync(keys, "utf8");
    const k = ["--db", db, "--keys", keys];
    expect(capkit(["verify", "enroll", ...k, "--id", "card", "--card", card]).status).toBe(0);
    const uri = "otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0";
    expect(capkit(["verify", "enroll", ...k, "--id", "token", "--uri", uri]).status).toBe(0);
    const rotated = capkit(["--json", "verify", "keys", "rotate", "--keys", keys]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keys, "utf8")).previousMasterKeys).toEqual([
      JSON.parse(oldKeys).masterKey,
    ]);
    const code = () =>
      capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "4321\n" }).json().code;
    expect(capkit(["verify", "check", ...k, "--id", "card", "--code", code()]).status).toBe(0);
    const rekey = capkit(["--json", "verify", "rekey", ...k, "--actor", "admin:marie"]);
    expect(rekey.status, rekey.stderr).toBe(0);
    expect(rekey.json()).toEqual({ resealed: 2, current: 0, keyId: rotated.json().keyId });
    expect(capkit(["verify", "keys", "retire", ...k]).status).toBe(0);
    expect(JSON.parse(readFileSync(keys, "utf8")).previousMasterKeys).toBeUndefined();
    expect(capkit(["verify", "check", ...k, "--id", "card", "--code", code()]).status).toBe(0);
    const old = join(tmp(), "old.json");
    writeFileSync(old, oldKeys, { mode: 0o600 });
    const refused = capkit([
      "--json",
      "verify",
      "check",
      "--db",
      db,
      "--keys",
      old,
      "--id",
      "card",
      "--code",
      code(),
    ]);
    expect(refused.status).toBe(4);
    expect(refused.json().error.code).toBe("KEY_INVALID");
    const trail = capkit(["--json", "verify", "audit", ...k, "--limit", "100"]).json().entries;
    expect(trail.filter((e: { action: string }) => e.action === "rekey").length).toBe(2);
  });

  it("verify audit: by user and time, JSON lines and CSV for a SIEM, checkpoints, --verify catches a tampered row", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    expect(
      capkit(["verify", "enroll", "--db", db, "--id", "card", "--user", "alice", "--card", card]).status,
    ).toBe(0);
    for (const c of ["11111111", "22222222"])
      expect(capkit(["verify", "check", "--db", db, "--user", "alice", "--code", c]).status).toBe(1);
    const a = ["verify", "audit", "--db", db];
    const mine = capkit(["--json", ...a, "--user", "alice"]).json().entries;
    expect(mine.map((e: { action: string }) => e.action)).toEqual(["enroll", "verify", "verify"]);
    expect(mine[0].actor).toMatch(/^cli:/);
    expect(capkit(["--json", ...a, "--since", "2999-01-01"]).json().entries).toEqual([]);
    expect(capkit([...a, "--since", "yesterday-ish"]).status).toBe(2);
    const jsonl = capkit([...a, "--format", "jsonl"])
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(jsonl.length).toBe(3);
    expect(jsonl[1]).toMatchObject({
      credential: "", // a code by user matching none of the user's credentials
      user: "alice",
      action: "verify",
      result: "rejected",
      chain: "user:alice",
      n: 2,
    });
    const csv = capkit([...a, "--format", "csv"]).stdout.split("\r\n");
    expect(csv[0]).toBe("seq,time,at,credential,user,actor,action,result,counter,detail,chain,n,hash");
    expect(csv.length).toBe(5); // header, 3 rows, the last line's end
    expect(capkit([...a, "--checkpoint"]).status).toBe(0);
    expect(capkit([...a, "--checkpoint"]).stdout).toContain("checkpoint 2: 1 chain(s)");
    expect(Object.values(capkit(["--json", ...a, "--public-keys"]).json())).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    const ok = capkit([...a, "--verify"]);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.stdout).toContain("ok: 3 entries in 1 chain(s), 2 signed checkpoint(s)");
    const raw = new Database(db);
    raw.exec(
      "UPDATE capkit_audit SET result = 'accepted' WHERE action = 'verify' AND seq = (SELECT max(seq) FROM capkit_audit)",
    );
    raw.close();
    const tampered = capkit([...a, "--verify"]);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toContain("TAMPERED");
    expect(tampered.stdout).toMatch(/chain user:alice: entry 3 \(seq \d+\) altered/);
    expect(capkit(["verify", "prune-audit", "--db", db, "--max-rows", "1"]).status).toBe(0);
  });

  it("a read-only database is exit 4; a malformed --card and an empty code are exit 2", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    expect(capkit(["verify", "enroll", "--db", db, "--id", "a", "--card", card]).status).toBe(0);
    // Read-only as SQLite sees it: mode 0444 stops a user; root ignores modes, so as root the file is made
    // immutable (chattr +i, e2fsprogs; ext4 here).
    const root = process.getuid?.() === 0;
    const readOnly = (on: boolean) =>
      root ? execFileSync("chattr", [on ? "+i" : "-i", db]) : chmodSync(db, on ? 0o444 : 0o600);
    readOnly(true);
    try {
      const r = capkit(["verify", "check", "--db", db, "--id", "a", "--code", "12345678"]);
      expect(r.status).toBe(4);
      expect(r.stderr).toContain("[STORE_UNAVAILABLE]");
    } finally {
      readOnly(false);
    }
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"bad');
    expect(capkit(["verify", "enroll", "--db", db, "--id", "b", "--card", bad]).status).toBe(2);
    expect(capkit(["verify", "check", "--db", db, "--id", "a", "--code", " "]).status).toBe(2);
  });
});

describe("sim", () => {
  it("sim card new checks the PIN length for the profile: a Sésame reader takes 4 digits", () => {
    const dir = tmp();
    const r = capkit(["sim", "card", "new", "--pin", "12345", "--out", join(dir, "c.json")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("4-digit PIN");
    expect(existsSync(join(dir, "c.json"))).toBe(false);
    newCard(dir, "12345", "uk");
  });

  it("sim token --secret --pin --state keeps the HOTP counter and the PIN tries across runs", () => {
    const dir = tmp();
    const state = join(dir, "token.json");
    const K = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 4226 Appendix D key "12345678901234567890"
    const first = capkit(
      ["--json", "sim", "token", "--state", state, "--secret", K, "--hotp", "--pin", "2468"],
      {
        input: "2468\n",
      },
    );
    expect(first.json()).toMatchObject({ code: "755224", counter: 1 }); // RFC 4226 Appendix D, count 0
    expect(capkit(["sim", "token", "--state", state], { input: "2468\n" }).stdout.trim()).toBe("287082"); // count 1
    const wrong = capkit(["--json", "sim", "token", "--state", state], { input: "0000\n" });
    expect(wrong.status).toBe(3);
    expect(wrong.json().error).toMatchObject({ code: "PIN_WRONG", details: { triesLeft: 4 } });
    expect(JSON.parse(readFileSync(state, "utf8"))).toMatchObject({ counter: 2, pinFailures: 1 });
    for (let i = 0; i < 4; i++) capkit(["sim", "token", "--state", state], { input: "0000\n" });
    const locked = capkit(["sim", "token", "--state", state], { input: "2468\n" });
    expect(locked.status).toBe(3);
    expect(locked.stderr).toContain("PIN_BLOCKED");
  });
});
