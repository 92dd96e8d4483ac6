import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

/** `cap code --trace`: checked before the card is touched, never overwrites, 0600, redacted, replayable. */
const tmp = () => mkdtempSync(join(tmpdir(), "capkit-trace-"));

function newCard(
  dir: string,
  profile = "sesame",
): { file: string; state: () => { atc: number; pan: string } } {
  const file = join(dir, "card.json");
  expect(capkit(["sim", "card", "new", "--profile", profile, "--pin", "4321", "--out", file]).status).toBe(0);
  return { file, state: () => JSON.parse(readFileSync(file, "utf8")) };
}

describe("capkit cap code --trace", () => {
  it("a trace path in a missing directory is a usage error before the card is touched (no ATC spent)", () => {
    const dir = tmp();
    const card = newCard(dir);
    const before = card.state().atc;
    const r = capkit(
      ["--json", "cap", "code", "--sim", card.file, "--pin-stdin", "--trace", join(dir, "missing", "t.json")],
      { input: "4321\n" },
    );
    expect(r.status).toBe(2);
    expect(r.json().error.message).toContain("directory does not exist");
    expect(r.json()).not.toHaveProperty("code");
    expect(card.state().atc).toBe(before);
  });

  it("never overwrites a file (here the card's own state file), and spends nothing", () => {
    const dir = tmp();
    const card = newCard(dir);
    const text = readFileSync(card.file, "utf8");
    const r = capkit(["--json", "cap", "code", "--sim", card.file, "--pin-stdin", "--trace", card.file], {
      input: "4321\n",
    });
    expect(r.status).toBe(2);
    expect(r.json().error.message).toContain("already exists");
    expect(readFileSync(card.file, "utf8")).toBe(text);
  });

  it("an unwritable directory is a usage error too, and leaves nothing behind", () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path below a regular file instead (ENOTDIR), which no user can create.
      const dir = tmp();
      const card = newCard(dir);
      writeFileSync(join(dir, "plain"), "x");
      const r = capkit(
        ["cap", "code", "--sim", card.file, "--pin-stdin", "--trace", join(dir, "plain", "t.json")],
        {
          input: "4321\n",
        },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
      return;
    }
    const dir = tmp();
    const card = newCard(dir);
    const ro = join(dir, "ro");
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = capkit(["cap", "code", "--sim", card.file, "--pin-stdin", "--trace", join(ro, "t.json")], {
      input: "4321\n",
    });
    expect(r.status).toBe(2);
    expect(existsSync(join(ro, "t.json"))).toBe(false);
  });

  for (const profile of ["sesame", "rabobank", "belgian-maestro"]) {
    it(`${profile}: the trace is 0600, holds no PAN, expiry or cryptogram, and replays the dialogue without a PIN but no code`, () => {
      const dir = tmp();
      const card = newCard(dir, profile);
      const reader = profile === "belgian-maestro" ? "belgian" : profile;
      const trace = join(dir, "trace.json");
      const code = capkit(
        ["--json", "cap", "code", "--sim", card.file, "--profile", reader, "--pin-stdin", "--trace", trace],
        { input: "4321\n" },
      );
      expect(code.status).toBe(0);
      expect(statSync(trace).mode & 0o777).toBe(0o600);
      const text = readFileSync(trace, "utf8");
      const { pan } = card.state();
      expect(text).not.toContain(pan);
      expect(text).not.toContain("5F2403301231");
      expect(text).toContain("0020008008****************");
      expect(text).not.toContain(code.json().cryptogram.ac);
      // Replayed: no --pin-stdin and no terminal, yet no PIN is asked for; the dialogue, and no code.
      const replay = capkit(["--json", "cap", "code", "--transcript", trace, "--profile", reader]);
      expect(replay.status).toBe(0);
      expect(replay.json()).toMatchObject({
        code: null,
        codeKept: false,
        replayed: true,
        atc: code.json().atc,
        aid: code.json().aid,
      });
      const human = capkit(["cap", "code", "--transcript", trace, "--profile", reader]);
      expect(human.stdout).toContain("code not kept: the trace masks the cryptogram");
      expect(human.stdout).toContain("--trace-unredacted");
    });
  }

  it("--trace-unredacted keeps the cardholder data and the cryptogram for a lab, and needs --trace", () => {
    const dir = tmp();
    const card = newCard(dir);
    const trace = join(dir, "trace.json");
    const r = capkit(
      ["cap", "code", "--sim", card.file, "--pin-stdin", "--trace", trace, "--trace-unredacted"],
      {
        input: "4321\n",
      },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("cardholder data and cryptogram NOT redacted: it replays to the code");
    expect(readFileSync(trace, "utf8")).toContain(card.state().pan);
    // The cryptogram stays too: the lab's trace replays to the code the card gave.
    const shown = /^(\d{4} \d{4})$/m.exec(r.stdout)?.[1];
    expect(capkit(["cap", "code", "--transcript", trace]).stdout).toContain(`${shown}\n`);
    expect(capkit(["cap", "code", "--sim", card.file, "--pin-stdin", "--trace-unredacted"]).status).toBe(2);
  });
});
