import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

/** The findings of issue 12 ("capkit for support staff"), one test each, on the built binary. */
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
  });

  it("a custom profile with a typo'd key or malformed hex is refused, naming it (exit 2)", () => {
    const dir = tmp();
    const typo = join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ name: "mine", terminaldata: { "9A": "010101" } }));
    const r = capkit(
      [
        "cap",
        "code",
        "--profile",
        typo,
        "--transcript",
        fixture("french-visa-dpa-identify.json"),
        "--pin-stdin",
      ],
      {
        input: "1234\n",
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown key "terminaldata" (did you mean "terminalData"?)');
    const hex = join(dir, "hex.json");
    writeFileSync(hex, JSON.stringify({ name: "mine", terminalData: { "9A": "01010" } }));
    const h = capkit([
      "card",
      "info",
      "--profile",
      hex,
      "--transcript",
      fixture("french-visa-dpa-identify.json"),
    ]);
    expect(h.status).toBe(2);
    expect(h.stderr).toContain('terminalData 9A must be hex (whole bytes), not "01010"');
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

  it("a database without its key file is refused with a hint (exit 4); enroll does not make one either", () => {
    const dir = tmp();
    const card = newCard(dir);
    const db = join(dir, "s.db");
    expect(capkit(["verify", "enroll", "--db", db, "--id", "a", "--card", card]).status).toBe(0);
    rmSync(`${db}.keys.json`);
    const r = capkit(["verify", "status", "--db", db, "--id", "a"]);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("has no key file");
    expect(r.stderr).toContain("hint: give the database's keys with --keys");
    expect(capkit(["verify", "enroll", "--db", db, "--id", "b", "--card", card]).status).toBe(4);
    expect(existsSync(`${db}.keys.json`)).toBe(false);
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
