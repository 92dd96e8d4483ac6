import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, capkit } from "./run-cli.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "capkit-cli-"));
const K = "3132333435363738393031323334353637383930";

describe("capkit basics", () => {
  it("--version, --help with the exit codes, and usage errors exit 2", () => {
    expect(capkit(["--version"]).stdout.trim()).toBe("0.1.0");
    const help = capkit(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    for (const c of ["demo", "readers", "doctor", "card", "cap", "otp", "verify", "sim", "apdu"])
      expect(help.stdout).toContain(c);
    expect(capkit(["frobnicate"]).status).toBe(2);
    expect(capkit(["otp", "generate", "--digits"]).status).toBe(2);
  });

  it("demo: code accepted once, replay rejected, lockout — as one JSON document", () => {
    const r = capkit(["--json", "demo"]);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({
      verified: "accepted",
      replay: "rejected",
      freshCodeWhileLocked: "locked",
      ok: true,
    });
    expect(r.json().display).toMatch(/^\d{4} \d{4}$/);
  });

  it("--version and otp generate load no PC/SC, SQLite or PostgreSQL module", () => {
    const loads = (args: string[]) => {
      const log = join(tmp(), "loads.txt");
      capkit(args, { env: { CAPKIT_TRACE_LOADS: log }, nodeArgs: ["--import", fixture("trace-loads.mjs")] });
      return readFileSync(log, "utf8").split("\n");
    };
    const heavy = ["pcsclite", "better-sqlite3", "pg", "node-hid"];
    for (const args of [["--version"], ["otp", "generate", "--totp", "--secret-hex", K, "--time", "59"]]) {
      const loaded = loads(args);
      for (const m of heavy) expect(loaded, `${args.join(" ")} loaded ${m}`).not.toContain(m);
    }
    // The tracer does see them when a command uses them (so the check above can fail).
    expect(loads(["readers"])).toContain("pcsclite");
    const db = join(tmp(), "s.db");
    const uri = "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const store = loads(["verify", "enroll", "--db", db, "--id", "x", "--uri", uri]);
    expect(store).toContain("better-sqlite3");
    expect(store).not.toContain("pg"); // the SQLite store does not load the PostgreSQL driver
  });
});

describe("capkit otp", () => {
  it("generates the RFC 4226 and RFC 6238 codes, human and JSON", () => {
    expect(capkit(["otp", "generate", "--hotp", "--counter", "1", "--secret-hex", K]).stdout.trim()).toBe(
      "287082",
    );
    expect(
      capkit([
        "--json",
        "otp",
        "generate",
        "--totp",
        "--time",
        "59",
        "--digits",
        "8",
        "--secret-hex",
        K,
      ]).json(),
    ).toEqual({ code: "94287082" });
    expect(
      capkit([
        "otp",
        "generate",
        "--secret",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "--hotp",
        "--counter",
        "0",
      ]).stdout.trim(),
    ).toBe("755224");
    const uri = "otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8";
    expect(capkit(["otp", "generate", "--uri", uri, "--time", "1111111109"]).stdout.trim()).toBe("07081804");
    expect(
      capkit([
        "otp",
        "generate",
        "--ocra",
        "OCRA-1:HOTP-SHA1-6:QN08",
        "--challenge",
        "00000000",
        "--secret-hex",
        K,
      ]).stdout.trim(),
    ).toBe("237653");
  });

  it("verify exits 0 for a valid code and 1 for a wrong one", () => {
    expect(
      capkit([
        "otp",
        "verify",
        "--hotp",
        "--counter",
        "0",
        "--window",
        "5",
        "--secret-hex",
        K,
        "--code",
        "969429",
      ]).status,
    ).toBe(0);
    const bad = capkit([
      "--json",
      "otp",
      "verify",
      "--hotp",
      "--counter",
      "0",
      "--secret-hex",
      K,
      "--code",
      "000000",
    ]);
    expect(bad.status).toBe(1);
    expect(bad.json()).toEqual({ valid: false });
  });

  it("builds and parses otpauth URIs; bad input is exit 2 with a one-line error, no stack", () => {
    const uri = capkit([
      "otp",
      "uri",
      "--secret-hex",
      K,
      "--account",
      "alice",
      "--issuer",
      "SG",
    ]).stdout.trim();
    expect(uri).toBe(
      "otpauth://totp/SG:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=SG&algorithm=SHA1&digits=6&period=30",
    );
    expect(capkit(["--json", "otp", "uri", "--parse", uri]).json()).toMatchObject({
      type: "totp",
      account: "alice",
      issuer: "SG",
    });
    const bad = capkit(["otp", "generate", "--secret", "0OPS", "--totp"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^capkit: .*\[OTP_SECRET_INVALID\]/);
    expect(bad.stderr).not.toContain("    at ");
  });

  it("exports and imports PSKC, plain, pre-shared key and password", () => {
    const dir = tmp();
    const psk = "12345678901234567890123456789012";
    capkit([
      "otp",
      "export",
      "--secret-hex",
      K,
      "--out",
      join(dir, "a.xml"),
      "--psk-hex",
      psk,
      "--serial",
      "42",
    ]);
    expect(statSync(join(dir, "a.xml")).mode & 0o777).toBe(0o600);
    const imported = capkit([
      "--json",
      "otp",
      "import",
      join(dir, "a.xml"),
      "--psk-hex",
      psk,
      "--show-secrets",
    ]).json();
    expect(imported.keys[0]).toMatchObject({ secret: K.toUpperCase(), serialNo: "42", type: "totp" });
    capkit(
      [
        "otp",
        "export",
        "--secret-hex",
        K,
        "--hotp",
        "--counter",
        "3",
        "--out",
        join(dir, "b.xml"),
        "--password-stdin",
      ],
      { input: "s3cret\n" },
    );
    const b = capkit(["--json", "otp", "import", join(dir, "b.xml"), "--password-stdin"], {
      input: "s3cret\n",
    }).json();
    expect(b.keys[0]).toMatchObject({ type: "hotp", counter: 3, secret: "(hidden)" });
  });
});

describe("capkit cap code", () => {
  const traces = [
    { file: "french-visa-dpa-identify.json", args: ["--profile", "sesame"], code: "34656023" },
    {
      file: "natwest-respond-12345678.json",
      args: ["--profile", "mastercard-cap", "--mode", "respond", "--challenge", "12345678"],
      code: "04822527",
    },
    {
      file: "belgian-identify-tds-1234.json",
      args: ["--profile", "mastercard-cap", "--tds", "1234"],
      code: "23719593",
    },
  ];
  for (const t of traces) {
    it(`replays ${t.file} → ${t.code}`, () => {
      const r = capkit(["--json", "cap", "code", "--transcript", fixture(t.file), ...t.args, "--pin-stdin"], {
        input: "1234\n",
      });
      expect(r.status).toBe(0);
      const j = r.json();
      expect(j).toMatchObject({
        code: t.code,
        display: `${t.code.slice(0, 4)} ${t.code.slice(4)}`,
        warnings: [],
      });
      expect(Object.keys(j).sort()).toEqual([
        "aid",
        "atc",
        "cdol1",
        "code",
        "cryptogram",
        "display",
        "formula",
        "iaf",
        "ipb",
        "label",
        "mode",
        "profile",
        "readerApplication",
        "warnings",
      ]);
    });
  }

  it("simulated card → code → capkit verify: accepted once, then rejected (exit 1)", () => {
    const dir = tmp();
    const card = join(dir, "card.json");
    expect(capkit(["sim", "card", "new", "--profile", "sesame", "--pin", "4321", "--out", card]).status).toBe(
      0,
    );
    expect(statSync(card).mode & 0o777).toBe(0o600);
    const db = join(dir, "state.db");
    expect(capkit(["verify", "enroll", "--db", db, "--id", "alice", "--card", card]).status).toBe(0);
    const trace = join(dir, "trace.json");
    const code = capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin", "--trace", trace], {
      input: "4321\n",
    }).json();
    expect(readFileSync(trace, "utf8")).toContain("0020008008****************");
    expect(readFileSync(trace, "utf8")).not.toContain("4321");
    const ok = capkit(["--json", "verify", "check", "--db", db, "--id", "alice", "--code", code.display]);
    expect(ok.status).toBe(0);
    expect(ok.json()).toMatchObject({ result: "accepted", counter: code.atc });
    const again = capkit(["--json", "verify", "check", "--db", db, "--id", "alice", "--code", code.code]);
    expect(again.status).toBe(1);
    expect(again.json()).toEqual({ result: "rejected", replayed: true }); // a replay: not counted
    expect(capkit(["--json", "verify", "status", "--db", db, "--id", "alice"]).json()).toMatchObject({
      failures: 0,
      locked: false,
    });
    expect(capkit(["--json", "verify", "audit", "--db", db, "--id", "alice"]).json().entries.length).toBe(3);
  });

  it("a wrong PIN is exit 3 with tries left and a hint; no PIN in any output", () => {
    const dir = tmp();
    const card = join(dir, "card.json");
    capkit(["sim", "card", "new", "--pin", "4321", "--out", card]);
    const r = capkit(["cap", "code", "--sim", card, "--pin-stdin"], { input: "9876\n" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("wrong PIN, 2 tries left");
    expect(r.stdout + r.stderr).not.toContain("9876");
    const j = capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "9876\n" }).json();
    expect(j.error).toMatchObject({ code: "PIN_WRONG", details: { triesLeft: 1 } });
    const guarded = capkit(["cap", "code", "--sim", card, "--pin-stdin"], { input: "4321\n" });
    expect(guarded.status).toBe(3);
    expect(guarded.stderr).toContain("PIN_TRIES_LOW");
  });

  it("without a terminal the PIN must come from --pin-stdin (exit 2)", () => {
    const dir = tmp();
    capkit(["sim", "card", "new", "--pin", "4321", "--out", join(dir, "c.json")]);
    const r = capkit(["cap", "code", "--sim", join(dir, "c.json")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--pin-stdin");
  });

  it("apdu sends raw commands and masks PIN blocks", () => {
    const dir = tmp();
    capkit(["sim", "card", "new", "--pin", "4321", "--out", join(dir, "c.json")]);
    const r = capkit([
      "--json",
      "apdu",
      "--sim",
      join(dir, "c.json"),
      "00A4040007A000000003800200",
      "0020008008244321FFFFFFFFFF",
    ]).json();
    expect(r.exchanges[0]).toMatchObject({ sw: "9000" });
    // Before the VERIFY, capkit reads the PIN try counter (3 left), as cap code does.
    expect(r.exchanges[1]).toMatchObject({ c: "80CA9F1700", r: "9F170103", by: "capkit" });
    expect(r.exchanges[2].c).toBe("0020008008****************");
  });

  it("card info reads the application without a PIN", () => {
    const dir = tmp();
    capkit(["sim", "card", "new", "--profile", "uk", "--pin", "4321", "--out", join(dir, "c.json")]);
    const r = capkit(["--json", "card", "info", "--sim", join(dir, "c.json")]).json();
    expect(r).toMatchObject({
      aid: "A0000000038002",
      label: "BARCLAYS",
      iaf: "A0",
      pinTriesLeft: 3,
      profileGuess: "uk",
    });
    expect(r.pan).toContain("•");
  });
});

describe("capkit sim reader in a terminal (tmux)", () => {
  it("drives the keypad to a displayed code", async () => {
    const dir = tmp();
    const card = join(dir, "card.json");
    capkit(["sim", "card", "new", "--pin", "2468", "--out", card]);
    const session = `capkit-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "90",
      "-y",
      "30",
      `${process.execPath} ${BIN} sim reader --sim ${card}`,
    );
    const screen = () => tmux("capture-pane", "-p", "-t", session);
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(screen()); i++) await new Promise((r) => setTimeout(r, 100));
      return screen();
    };
    try {
      expect(await waitFor(/Sésame reader/)).toContain("card: out");
      tmux("send-keys", "-t", session, "i");
      expect(await waitFor(/> CODE/)).toContain("FONCTION ?");
      tmux("send-keys", "-t", session, "Enter");
      await waitFor(/PIN \?/);
      tmux("send-keys", "-t", session, "2", "4", "6", "8");
      expect(await waitFor(/\*\*\*\*/)).toContain("****");
      tmux("send-keys", "-t", session, "Enter");
      const shown = await waitFor(/\d{4} \d{4}/);
      expect(shown).toMatch(/│ \d{4} \d{4}\s+│/);
      expect(shown).toMatch(/display off in \d+ s/);
      tmux("send-keys", "-t", session, "q");
      // q quits at once, card inserted or not (it used to wait out the reader's 30 s inactivity timer).
      const gone = async () => {
        for (let i = 0; i < 50; i++) {
          try {
            tmux("has-session", "-t", session);
          } catch {
            return true;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        return false;
      };
      expect(await gone()).toBe(true);
    } finally {
      try {
        tmux("kill-session", "-t", session);
      } catch {
        // already gone after q
      }
    }
  });
});

describe("capkit sim token in a terminal (tmux)", () => {
  it("asks the PIN, shows a code and counts its life down live", async () => {
    const dir = tmp();
    const state = join(dir, "token.json");
    const session = `capkit-token-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "90",
      "-y",
      "20",
      `${process.execPath} ${BIN} sim token --state ${state} --secret-hex ${K} --pin 1357`,
    );
    const screen = () => tmux("capture-pane", "-p", "-t", session);
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(screen()); i++) await new Promise((r) => setTimeout(r, 100));
      return screen();
    };
    try {
      await waitFor(/Enter: show a code/);
      tmux("send-keys", "-t", session, "Enter");
      await waitFor(/PIN/);
      tmux("send-keys", "-t", session, "1", "3", "5", "7", "Enter");
      const left = () => /\d{6} {3}\((\d+ s|expired)/.exec(screen())?.[1];
      await waitFor(/\d{6} {3}\(\d+ s\)/);
      const first = left();
      expect(first).toMatch(/^\d+ s$/);
      // The same line, redrawn every second: it changes with no key pressed.
      for (let i = 0; i < 40 && left() === first; i++) await new Promise((r) => setTimeout(r, 100));
      expect(left()).not.toBe(first);
      tmux("send-keys", "-t", session, "q");
    } finally {
      try {
        tmux("kill-session", "-t", session);
      } catch {
        // already gone after q
      }
    }
    expect(JSON.parse(readFileSync(state, "utf8"))).toMatchObject({ pinFailures: 0, pin: "1357" });
  });
});

describe("the README", () => {
  const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");

  it("shows exactly what capkit --help prints", () => {
    expect(readme).toContain(capkit(["--help"]).stdout.trimEnd());
  });

  it("its JSON demo command, typed as written from a checkout, prints one valid JSON document", () => {
    const command = /`(pnpm [^`]*--json demo)`/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const stdout = execFileSync("sh", ["-c", command!], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ verified: "accepted", replay: "rejected", ok: true });
  });
});
