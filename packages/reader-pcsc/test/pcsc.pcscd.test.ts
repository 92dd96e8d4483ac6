import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { type Pcscd, startPcscd } from "@capkit/test-support";
import {
  newSimCardState,
  SIM_ATR,
  SIM_CARD_PROFILES,
  SIM_COLD_ATR,
  type SimCardState,
  SimulatedCard,
  VpcdBridge,
} from "@capkit/token-sim/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PcscContext } from "../src/index.js";

/** The real driver against a real pcscd + vpcd + our virtual card, all started here (never skipped). */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const child = (script: string, args: string[]): ChildProcess =>
  spawn(
    process.execPath,
    [
      "--conditions=@capkit/source",
      "--import",
      "tsx",
      fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)),
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );

async function eventually<T>(
  f: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v as T;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

describe("reader-pcsc with a real pcscd and vpcd", () => {
  let pcscd: Pcscd;
  let ctx: PcscContext;
  let bridge: VpcdBridge | undefined;

  /** Swaps the card in the virtual reader, waiting until pcscd has seen the old one go and the new one come. */
  const serve = async (card: SimulatedCard) => {
    if (bridge) {
      bridge.remove();
      await eventually(
        async () => (await ctx.readers()).find((r) => r.name === pcscd.reader && !r.cardPresent),
        "card gone",
      );
    }
    bridge = new VpcdBridge(card, { port: pcscd.port, minBackoffMs: 50, maxBackoffMs: 400 });
    await bridge.insert();
    await eventually(
      async () => (await ctx.readers()).find((r) => r.name === pcscd.reader && r.cardPresent),
      "card present",
    );
  };

  beforeAll(async () => {
    pcscd = await startPcscd(40211);
    ctx = await PcscContext.open();
  });

  afterAll(async () => {
    bridge?.remove();
    await ctx?.close();
    await pcscd?.dispose();
  });

  it("lists the reader, the card and its ATR, and reports insertion and removal as events", async () => {
    const card = new SimulatedCard(newSimCardState("sesame", "1234"));
    const events: string[] = [];
    const abort = new AbortController();
    const watching = (async () => {
      for await (const e of ctx.events(abort.signal)) events.push(`${e.type} ${e.reader}`);
    })();
    await serve(card);
    const info = (await ctx.readers()).find((r) => r.name === pcscd.reader)!;
    expect(info).toMatchObject({ cardPresent: true, atr: SIM_ATR });
    bridge!.remove();
    await eventually(() => events.includes(`card-removed ${pcscd.reader}`), "card-removed event");
    const waiting = ctx.waitForCard({ reader: pcscd.reader, timeoutMs: 8000 });
    await bridge!.insert();
    expect((await waiting).name).toBe(pcscd.reader);
    expect(events).toContain(`card-inserted ${pcscd.reader}`);
    abort.abort();
    await watching;
    await expect(ctx.waitForCard({ reader: "capkit test 00 01", timeoutMs: 300 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    const cancel = new AbortController();
    const cancelled = ctx.waitForCard({ reader: "capkit test 00 01", signal: cancel.signal });
    cancel.abort(new Error("user cancelled"));
    await expect(cancelled).rejects.toThrow("user cancelled");
  });

  for (const profile of Object.keys(SIM_CARD_PROFILES)) {
    it(`${profile}: the CAP engine over PcscConnection gives the in-process code`, async () => {
      const state: SimCardState = newSimCardState(profile, "1234");
      await serve(new SimulatedCard(state));
      const inputs = { mode: "respond" as const, challenge: "31415926" };
      // Each card with its reader (the payment-application cards need a reader that uses them).
      const options = { pin: "1234", profile: readerProfile(SIM_CARD_PROFILES[profile]!.readerProfile) };
      const conn = await ctx.connect(pcscd.reader);
      try {
        const viaPcsc = await generateCapCode(conn, inputs, options);
        const inProcess = await generateCapCode(new SimulatedCard(state), inputs, options);
        expect(viaPcsc.code).toBe(inProcess.code);
        expect(viaPcsc.atc).toBe(inProcess.atc);
      } finally {
        await conn.close();
      }
    });
  }

  it("a French card in its cold state (3F ATR, 6D00 until a warm reset) yields its code through pcscd", async () => {
    const state: SimCardState = newSimCardState("sesame", "1234");
    const card = new SimulatedCard(state, { coldState: "6D00" });
    await serve(card);
    const info = (await ctx.readers()).find((r) => r.name === pcscd.reader)!;
    expect(info.atr).toBe(SIM_COLD_ATR);
    const conn = await ctx.connect(pcscd.reader);
    try {
      const steps: string[] = [];
      const viaPcsc = await generateCapCode(
        conn,
        { mode: "identify" },
        {
          pin: "1234",
          onStep: (s) => steps.push(s.step),
        },
      );
      expect(steps[0]).toBe("reset");
      const inProcess = await generateCapCode(
        new SimulatedCard(state),
        { mode: "identify" },
        { pin: "1234" },
      );
      expect(viaPcsc.code).toBe(inProcess.code);
    } finally {
      await conn.close();
    }
  });

  /** Another process holding the card in `share` mode, until `release()`, which resolves with its exit code. */
  const holdInAnotherProcess = async (share: "shared" | "exclusive") => {
    await serve(new SimulatedCard(newSimCardState("sesame", "1234")));
    const holder = child("hold-reader.ts", [pcscd.reader, share]);
    let out = "";
    holder.stdout!.on("data", (d) => (out += d));
    await eventually(() => out.includes("held"), "the other process holds the card", 15_000);
    return {
      release: () => {
        holder.stdin!.end();
        return new Promise((r) => holder.on("exit", r));
      },
    };
  };

  it("shared connections coexist; an exclusive request beside one meets CARD_BUSY", async () => {
    const holder = await holdInAnotherProcess("shared");
    const conn = await ctx.connect(pcscd.reader, { share: "shared" });
    const r = await generateCapCode(conn, { mode: "identify" }, { pin: "1234" });
    expect(r.code).toMatch(/^\d{8}$/);
    await conn.close();
    await expect(ctx.connect(pcscd.reader)).rejects.toMatchObject({ code: "CARD_BUSY" });
    expect(await holder.release()).toBe(0);
  });

  it("a session holds the card: a second program gets CARD_BUSY with a hint, then its turn", async () => {
    const holder = await holdInAnotherProcess("exclusive");
    await expect(ctx.connect(pcscd.reader)).rejects.toMatchObject({
      code: "CARD_BUSY",
      hint: expect.stringContaining("another capkit"),
    });
    await expect(ctx.connect(pcscd.reader, { share: "shared" })).rejects.toMatchObject({ code: "CARD_BUSY" });
    expect(await holder.release()).toBe(0);
    const conn = await eventually(() => ctx.connect(pcscd.reader), "the card free again");
    expect((await generateCapCode(conn, { mode: "identify" }, { pin: "1234" })).code).toMatch(/^\d{8}$/);
    await conn.close();
  });

  it("card removed during the flow → CARD_REMOVED within 2 s, no hang", async () => {
    class PulledAtGenerateAc extends SimulatedCard {
      override process(command: Uint8Array): Uint8Array {
        if (command[1] === 0xae) this.remove();
        return super.process(command);
      }
    }
    await serve(new PulledAtGenerateAc(newSimCardState("sesame", "1234")));
    const conn = await ctx.connect(pcscd.reader);
    const started = Date.now();
    const failure = await within(
      2000,
      generateCapCode(conn, { mode: "identify" }, { pin: "1234" }).catch((e) => e),
      "the failure",
    );
    expect(failure).toMatchObject({ code: "CARD_REMOVED" });
    expect(Date.now() - started).toBeLessThan(2000);
    await conn.close();
  });

  it("pcscd stopped → PCSCD_NOT_RUNNING; restarted → the next call works", async () => {
    await serve(new SimulatedCard(newSimCardState("sesame", "1234")));
    await pcscd.stop();
    await eventually(async () => {
      try {
        await ctx.readers();
        return undefined;
      } catch (e) {
        return (e as { code?: string }).code === "PCSCD_NOT_RUNNING" ? true : undefined;
      }
    }, "PCSCD_NOT_RUNNING from the open context");
    await expect(PcscContext.open()).rejects.toMatchObject({
      code: "PCSCD_NOT_RUNNING",
      hint: expect.stringContaining("pcscd"),
    });
    await pcscd.start();
    const info = await eventually(
      async () => (await ctx.readers()).find((r) => r.name === pcscd.reader && r.cardPresent),
      "the card after the restart",
    );
    expect(info.atr).toBe(SIM_ATR);
    const conn = await ctx.connect(pcscd.reader);
    expect((await generateCapCode(conn, { mode: "identify" }, { pin: "1234" })).code).toMatch(/^\d{8}$/);
    await conn.close();
  });

  it("a process that used the reader exits by itself", async () => {
    await serve(new SimulatedCard(newSimCardState("sesame", "1234")));
    const p = child("code-and-exit.ts", [pcscd.reader, "1234"]);
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    const code = await within(20_000, new Promise((r) => p.on("exit", r)), "the child's exit");
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d{8}$/);
  });
});
