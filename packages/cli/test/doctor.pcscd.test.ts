import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Pcscd, startPcscd } from "@capkit/test-support";
import { SIM_ATR } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, capkit } from "./run-cli.js";

/**
 * Support staff's tools through a real pcscd + vpcd, with simulated cards served by `capkit sim card --vpcd`:
 * doctor (no card, a good card, a blocked card), its support bundle, and readers --watch.
 */
describe("capkit doctor and readers --watch through pcscd + vpcd", () => {
  let pcscd: Pcscd;
  let server: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "capkit-doctor-"));
  const card = join(dir, "card.json");
  const blocked = join(dir, "blocked.json");

  const waitFor = async (ok: () => boolean, what: string) => {
    const end = Date.now() + 20_000;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const cardIn = () => capkit(["readers"]).stdout.includes(`${pcscd.reader}: card`);
  const serve = async (file: string) => {
    server = spawn(
      process.execPath,
      [BIN, "sim", "card", "--state", file, "--vpcd", "--port", String(pcscd.port)],
      {
        stdio: "pipe",
      },
    );
    await waitFor(cardIn, "the served card in pcscd");
  };
  const stopServing = async () => {
    const s = server;
    server = undefined;
    if (!s || s.exitCode !== null) return;
    const exited = new Promise((r) => s.once("exit", r));
    s.kill("SIGTERM");
    await exited;
    await waitFor(() => !cardIn(), "the card to leave pcscd");
  };

  beforeAll(async () => {
    pcscd = await startPcscd(40431);
    expect(capkit(["sim", "card", "new", "--pin", "2580", "--out", card]).status).toBe(0);
    expect(capkit(["sim", "card", "new", "--pin", "1111", "--out", blocked]).status).toBe(0);
    // Three wrong PINs at a shop, as far as the card knows.
    writeFileSync(blocked, JSON.stringify({ ...JSON.parse(readFileSync(blocked, "utf8")), pinTries: 0 }));
  });

  afterAll(async () => {
    await stopServing();
    await pcscd?.dispose();
  });

  it("no card: a warning that says to insert it (not all ✔), exit 1, and a bundle that says so", () => {
    const report = join(dir, "none.json");
    const r = capkit(["--json", "doctor", "--report", report]);
    expect(r.status).toBe(1);
    const lines = r.jsonLines();
    const j = lines.at(-1);
    expect(j.type).toBe("result");
    // JSON lines: every check as it was made, then the result with all of them again.
    const streamed = lines.slice(0, -1);
    expect(streamed.every((l: { type: string }) => l.type === "check")).toBe(true);
    expect(streamed.map(({ type: _, ...c }) => c)).toEqual(j.checks);
    expect(j.verdict).toBe("warn");
    expect(j.checks).toContainEqual(
      expect.objectContaining({ id: "card", verdict: "warn", detail: "no card inserted" }),
    );
    expect(j.checks.find((c: { id: string }) => c.id === "card").hint).toMatch(/insert the card/);
    expect(j.checks).toContainEqual(
      expect.objectContaining({ id: "reader", check: pcscd.reader, detail: expect.stringContaining("vpcd") }),
    );
    expect(statSync(report).mode & 0o777).toBe(0o600);
    const bundle = JSON.parse(readFileSync(report, "utf8"));
    expect(bundle).toMatchObject({ format: "capkit-support-report/1", exchanges: [] });
    expect(bundle.versions.pcscd).toMatch(/^\d+\.\d+/);
    expect(bundle.checks).toEqual(j.checks);
    // A report never overwrites a file.
    const again = capkit(["doctor", "--report", report]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(readFileSync(report, "utf8")).toBe(`${JSON.stringify(bundle, null, 2)}\n`);
  });

  it("readers --watch shows the card going in and out live, until Ctrl-C", async () => {
    const watch = spawn(process.execPath, [BIN, "readers", "--watch"], { stdio: "pipe" });
    let seen = "";
    watch.stdout.on("data", (d) => (seen += d));
    try {
      await waitFor(() => seen.includes("watching"), "the watch to start");
      await serve(card);
      await waitFor(
        () => seen.includes(`card inserted: capkit test 00 00 (ATR ${SIM_ATR})`),
        "the insert event",
      );
      await stopServing();
      await waitFor(() => /card removed: capkit test 00 00/.test(seen), "the remove event");
    } finally {
      const exited = new Promise<number | null>((r) => watch.once("exit", (code) => r(code)));
      watch.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  });

  it("readers --watch --json prints each event as a JSON line the moment it happens", async () => {
    const watch = spawn(process.execPath, [BIN, "--json", "readers", "--watch"], { stdio: "pipe" });
    let seen = "";
    watch.stdout.on("data", (d) => (seen += d));
    const lines = () =>
      seen
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l));
    try {
      await waitFor(() => lines().some((l) => l.type === "readers"), "the readers line");
      expect(lines()[0].readers).toContainEqual(expect.objectContaining({ name: pcscd.reader }));
      await serve(card);
      await waitFor(
        () => lines().some((l) => l.type === "card-inserted" && l.reader === pcscd.reader && l.atr),
        "the insert event, while the watch still runs",
      );
      await stopServing();
      await waitFor(() => lines().some((l) => l.type === "card-removed"), "the remove event");
      expect(watch.exitCode).toBeNull();
    } finally {
      const exited = new Promise<number | null>((r) => watch.once("exit", (code) => r(code)));
      watch.kill("SIGINT");
      expect(await exited).toBe(0);
    }
    for (const l of lines().slice(1)) expect(Date.parse(l.at)).not.toBeNaN();
  });

  it("a card: ATR decoded (no product named), CAP application by SELECT only, PIN tries: no ATC and no PIN try spent", async () => {
    await serve(card);
    const before = JSON.parse(readFileSync(card, "utf8"));
    const r = capkit(["--json", "doctor"]);
    const checks: { id: string; verdict: string; detail: string; hint?: string }[] = r
      .jsonLines()
      .at(-1).checks;
    const find = (id: string) => checks.find((c) => c.id === id);
    expect(find("atr")?.detail).toContain(
      "direct convention, T=0, historical bytes 6361706B69742D73696D, not in smartcard_list.txt",
    );
    expect(find("application")?.detail).toContain("A0000000038002");
    expect(find("application")?.detail).toContain("found by SELECT only (no ATC spent)");
    expect(find("application")?.hint).toContain("capkit doctor --full");
    expect(find("atc")).toBeUndefined();
    expect(find("pin-tries")).toMatchObject({ verdict: "ok", detail: "3 left (none spent)" });
    expect(find("pin-pad")?.detail).toContain("none");
    expect(r.status).toBe(checks.every((c) => c.verdict === "ok") ? 0 : 1);
    const after = JSON.parse(readFileSync(card, "utf8"));
    expect([after.atc, after.pinTries]).toEqual([before.atc, 3]);
  });

  it("doctor --full says it spends an ATC before it does, reads the records; its bundle holds no PAN, PIN, key or code", async () => {
    await waitFor(cardIn, "the served card in pcscd");
    const state = JSON.parse(readFileSync(card, "utf8"));
    const report = join(dir, "card-report.json");
    const r = capkit(["--json", "doctor", "--full", "--report", report]);
    const lines: { id?: string; detail?: string }[] = r.jsonLines();
    expect(r.stdout).toContain('"id":"atc"'); // (the whole output, when it is not there)
    const atc = lines.findIndex((l) => l.id === "atc");
    const application = lines.findIndex((l) => l.id === "application");
    expect(atc).toBeGreaterThanOrEqual(0);
    expect(atc).toBeLessThan(application); // said before the GET PROCESSING OPTIONS
    expect(lines[atc]!.detail).toContain("the card's ATC goes up by one");
    expect(lines[application]!.detail).toMatch(/IPB 8001FFFFFF0+ \(26 bits\)/);
    expect(JSON.parse(readFileSync(card, "utf8")).atc).toBe(state.atc + 1);
    const bundle = readFileSync(report, "utf8");
    expect(JSON.parse(bundle).exchanges[0].exchanges.length).toBeGreaterThan(3);
    expect(bundle).not.toContain(state.pan);
    expect(bundle).not.toContain(state.imk);
    expect(bundle).not.toContain(`24${state.pin}`);
    expect(bundle).toMatch(/5A08\*{16}/);
  });

  it("the served card file is in use: a second program on it is refused (exit 3), nothing spent", () => {
    const atc = JSON.parse(readFileSync(card, "utf8")).atc;
    const r = capkit(["cap", "code", "--sim", card, "--pin-stdin"], { input: "2580\n" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("CARD_FILE_IN_USE");
    expect(JSON.parse(readFileSync(card, "utf8")).atc).toBe(atc);
  });

  it("a blocked card: doctor says only the bank can unblock it; cap code refuses and ends (exit 3)", async () => {
    await stopServing();
    await serve(blocked);
    const r = capkit(["--json", "doctor"]);
    expect(r.status).toBe(1);
    const tries = r.jsonLines().find((c: { id: string }) => c.id === "pin-tries");
    expect(tries).toMatchObject({ verdict: "fail" });
    expect(tries.detail).toContain("blocked");
    expect(tries.hint).toMatch(/only the bank can unblock/);
    expect(tries.hint).not.toMatch(/ATM resets/);
    const code = capkit(["cap", "code", "--reader", pcscd.reader, "--pin-stdin"], { input: "1111\n" });
    expect(code.status).toBe(3);
    expect(code.stderr).toContain("PIN_BLOCKED");
  });
});
