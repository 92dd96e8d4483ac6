import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  capCodeValue,
  decodeTlv,
  flattenTlv,
  formatCode,
  fromHex,
  parseGacResponse,
  parseTranscript,
  TAG,
} from "@capkit/emv-cap";
import { type Pcscd, startPcscd } from "@capkit/test-support";
import { SIM_ATR } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, capkit } from "./run-cli.js";

/** The CLI against a real pcscd + vpcd, with the card served by `capkit sim card --vpcd` itself. */
describe("capkit with a real reader stack", () => {
  let pcscd: Pcscd;
  let server: ChildProcess;
  const dir = mkdtempSync(join(tmpdir(), "capkit-cli-pcsc-"));
  const card = join(dir, "card.json");
  const db = join(dir, "state.db");

  beforeAll(async () => {
    pcscd = await startPcscd(40411);
    expect(capkit(["sim", "card", "new", "--profile", "sesame", "--pin", "1357", "--out", card]).status).toBe(
      0,
    );
    server = spawn(
      process.execPath,
      [BIN, "sim", "card", "--state", card, "--vpcd", "--port", String(pcscd.port)],
      { stdio: "pipe" },
    );
    const end = Date.now() + 15_000;
    while (!capkit(["readers"]).stdout.includes(`${pcscd.reader}: card`)) {
      if (Date.now() > end) throw new Error("the served card never appeared in pcscd");
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await pcscd?.dispose();
  });

  it("readers lists the reader, the card and its ATR", () => {
    const r = capkit(["--json", "readers"]).json();
    expect(r.readers).toContainEqual(
      expect.objectContaining({ name: pcscd.reader, cardPresent: true, atr: SIM_ATR }),
    );
  });

  it("doctor checks pcscd, the reader, the CAP application, PIN tries (none spent) and pin pad", () => {
    const before = capkit(["--json", "sim", "card", "--state", card]).json().pinTries;
    const r = capkit(["--json", "doctor"]);
    const checks: { check: string; verdict: string; detail: string }[] = r.jsonLines().at(-1).checks;
    const find = (name: string) => checks.find((c) => c.check.includes(name));
    expect(find("pcscd")?.verdict).toBe("ok");
    expect(find("CAP application")?.detail).toContain("A0000000038002");
    expect(find("PIN tries")?.detail).toBe("3 left (none spent)");
    expect(find("PIN pad")?.detail).toContain("none");
    expect(capkit(["--json", "sim", "card", "--state", card]).json().pinTries).toBe(before);
  });

  it("card info over PC/SC", () => {
    expect(capkit(["--json", "card", "info", "--reader", pcscd.reader]).json()).toMatchObject({
      aid: "A0000000038002",
      label: "VISA Auth",
    });
  });

  it("cap code --reader gives a code that capkit verify check accepts", () => {
    expect(capkit(["verify", "enroll", "--db", db, "--id", "bob", "--card", card]).status).toBe(0);
    const code = capkit(["--json", "cap", "code", "--reader", pcscd.reader, "--pin-stdin"], {
      input: "1357\n",
    });
    expect(code.status).toBe(0);
    const check = capkit([
      "--json",
      "verify",
      "check",
      "--db",
      db,
      "--id",
      "bob",
      "--code",
      code.json().display,
    ]);
    expect(check.json()).toMatchObject({ result: "accepted", counter: code.json().atc });
  });

  it("a trace made for a ticket, replayed into verify check, is rejected: nothing usable was kept", () => {
    const trace = join(dir, "ticket-trace.json");
    const made = capkit(
      ["--json", "cap", "code", "--reader", pcscd.reader, "--pin-stdin", "--trace", trace],
      {
        input: "1357\n",
      },
    );
    expect(made.status).toBe(0);
    const unused = made.json(); // the code the technician saw, and did not use
    // Support replays the trace: the dialogue, and no code.
    const replay = capkit(["--json", "cap", "code", "--transcript", trace]);
    expect(replay.status).toBe(0);
    expect(replay.json()).toMatchObject({ code: null, codeKept: false, atc: unused.atc });
    // Whoever takes the code from the trace as it stands (masked nibbles read as zeros) gets a wrong one.
    const t = parseTranscript(readFileSync(trace, "utf8"));
    const data = new Map<number, Uint8Array>();
    for (const e of t.exchanges.filter((x) => x.c.startsWith("00B2") && x.r.endsWith("9000")))
      for (const o of flattenTlv(decodeTlv(fromHex(e.r.slice(0, -4).replace(/\*/g, "0")))))
        data.set(o.tag, o.value);
    const gac = t.exchanges.find((e) => e.c.startsWith("80AE80"))!;
    expect(gac.r).toContain("*");
    const fromTrace = capCodeValue({
      response: parseGacResponse(fromHex(gac.r.slice(0, -4).replace(/\*/g, "0"))),
      ipb: data.get(TAG.IPB)!,
    });
    const guess = formatCode(fromTrace.value);
    expect(guess).not.toBe(unused.code);
    const check = (code: string) =>
      capkit(["--json", "verify", "check", "--db", db, "--id", "bob", "--code", code]).json();
    expect(check(guess)).toMatchObject({ result: "rejected" });
    // The code the card gave was valid and unused all along: the masking, not chance, kept it out of the trace.
    expect(check(unused.code)).toMatchObject({ result: "accepted", counter: unused.atc });
  });

  it("--reader takes a unique part of the reader's name, in any case", () => {
    const r = capkit(["--json", "card", "info", "--reader", "Test 00 00"]);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ aid: "A0000000038002" });
  });

  it("cards in two readers and no --reader: an error naming both, nothing sent to either card", async () => {
    const second = join(dir, "second.json");
    expect(capkit(["sim", "card", "new", "--pin", "2468", "--out", second]).status).toBe(0);
    const other = spawn(
      process.execPath,
      [BIN, "sim", "card", "--state", second, "--vpcd", "--port", String(pcscd.port + 1)],
      { stdio: "pipe" },
    );
    try {
      const withCards = () =>
        (capkit(["--json", "readers"]).json().readers as { name: string; cardPresent: boolean }[])
          .filter((r) => r.cardPresent)
          .map((r) => r.name);
      const end = Date.now() + 15_000;
      while (withCards().length < 2) {
        if (Date.now() > end) throw new Error("the second card never appeared in pcscd");
        await new Promise((r) => setTimeout(r, 200));
      }
      const names = withCards();
      const atcs = () =>
        [card, second].map((f) => capkit(["--json", "sim", "card", "--state", f]).json().atc);
      const before = atcs();
      const r = capkit(["cap", "code", "--pin-stdin"], { input: "1357\n" });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("READER_AMBIGUOUS");
      for (const name of names) expect(r.stderr).toContain(name);
      expect(r.stderr).toContain("--reader");
      const json = capkit(["--json", "cap", "code", "--pin-stdin"], { input: "1357\n" }).json();
      expect(json.error).toMatchObject({ code: "READER_AMBIGUOUS", details: { readers: names } });
      expect(before.every((a) => Number.isInteger(a))).toBe(true);
      expect(atcs()).toEqual(before);
    } finally {
      const exited = new Promise((r) => other.once("exit", r));
      other.kill("SIGTERM");
      await exited;
    }
  });

  it("two programs on one card: the second gets CARD_BUSY with a hint, the first still gets its code", async () => {
    const first = spawn(process.execPath, [BIN, "cap", "code", "--reader", pcscd.reader, "--pin-stdin"], {
      stdio: "pipe",
    });
    let err = "";
    let out = "";
    first.stderr!.on("data", (d) => (err += d));
    first.stdout!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => first.once("exit", r));
    const end = Date.now() + 15_000;
    while (!err.includes("held by capkit")) {
      if (Date.now() > end || first.exitCode !== null)
        throw new Error(`the first program never held the card: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = capkit(["cap", "code", "--reader", pcscd.reader, "--pin-stdin"], { input: "1357\n" });
    expect(second.status).toBe(3);
    expect(second.stderr).toContain("another program is using the card [CARD_BUSY]");
    expect(second.stderr).toMatch(/hint: wait until it is done/);
    first.stdin!.end("1357\n");
    expect(await exited).toBe(0);
    expect(out).toMatch(/^\d{4} \d{4}\n/);
  });

  it("a reader that does not exist is a device error (exit 3) with a hint", () => {
    const r = capkit(["cap", "code", "--reader", "no such reader", "--pin-stdin"], { input: "1357\n" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("NO_READER");
    expect(r.stderr).toContain("hint:");
  });
});
