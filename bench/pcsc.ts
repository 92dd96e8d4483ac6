import { execFile, execFileSync } from "node:child_process";
import { connect } from "node:net";
import { generateCapCode, readerProfile, TracingConnection } from "@capkit/emv-cap";
import { PcscContext } from "@capkit/reader-pcsc";
import { type Pcscd, startPcscd } from "@capkit/test-support";
import { newSimCardState, SIM_CARD_PROFILES, SimulatedCard } from "@capkit/token-sim";
import { VpcdBridge } from "@capkit/token-sim/node";
import { machineLine, median, writeSection } from "./harness.js";

/**
 * One CAP code through a real pcscd + vpcd (our virtual card over loopback TCP), per card profile: the APDUs
 * exchanged and the wall time, next to the same code computed in-process. Starts and stops its own pcscd.
 */
const INS: Record<number, string> = {
  164: "SELECT",
  168: "GPO",
  178: "READ RECORD",
  202: "GET DATA",
  32: "VERIFY",
  174: "GENERATE AC",
  192: "GET RESPONSE",
};
const RUNS = Number(process.env["BENCH_PCSC_RUNS"] ?? 30);

/**
 * A bare vpcd card (the protocol of token-sim's VpcdBridge, docs/testing.md §1) that answers 90 00 to every
 * APDU and notes, for each APDU vpcd sends, whether its 2-byte length arrived alone and how long before the
 * body. It isolates the transport from everything capkit does with a card.
 */
function bareCard(port: number, host: string) {
  const frames: { split: boolean; gapMs: number }[] = [];
  const socket = connect(port, host);
  socket.setNoDelay(true);
  let buffer = Buffer.alloc(0);
  let headerAt = 0;
  socket.on("data", (chunk) => {
    if (buffer.length === 0) headerAt = performance.now();
    const split = buffer.length === 2;
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 2) {
      const n = buffer.readUInt16BE(0);
      if (buffer.length < 2 + n) break;
      const payload = buffer.subarray(2, 2 + n);
      buffer = buffer.subarray(2 + n);
      let reply: Buffer | undefined;
      if (n > 1) {
        frames.push({ split, gapMs: performance.now() - headerAt });
        reply = Buffer.of(0x90, 0x00);
      } else if (payload[0] === 0x04) {
        reply = Buffer.from("3B8080010101", "hex"); // ATR of a T=1 card
      }
      if (reply) socket.write(Buffer.concat([Buffer.of(0, reply.length), reply]));
    }
  });
  socket.on("error", () => {});
  return {
    frames,
    connected: new Promise((r) => socket.once("connect", r)),
    close: () => socket.destroy(),
  };
}

const SELECT = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0, 0, 0, 0x03, 0x10, 0x10, 0x00);

async function transportRow(ctx: PcscContext, pcscd: Pcscd, host: string, label: string): Promise<string> {
  const card = bareCard(pcscd.port, host);
  await card.connected;
  await ctx.waitForCard({ reader: pcscd.reader, timeoutMs: 10_000 });
  const conn = await ctx.connect(pcscd.reader);
  const times: number[] = [];
  card.frames.length = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await conn.transmit(SELECT);
    times.push(performance.now() - t0);
  }
  await conn.close();
  // opensc-tool, another PC/SC client, on the same card: (31 APDUs − 1 APDU) / 30 removes its start-up.
  const opensc = async (n: number) => {
    const t0 = performance.now();
    const args = [
      "-r",
      pcscd.reader,
      ...Array.from({ length: n }, () => ["-s", "00A4040007A0000000031010"]).flat(),
    ];
    await new Promise((resolve, reject) =>
      execFile("opensc-tool", args, (e) => (e ? reject(e) : resolve(undefined))),
    );
    return performance.now() - t0;
  };
  const openscPerApdu = ((await opensc(RUNS + 1)) - (await opensc(1))) / RUNS;
  const frames = card.frames.slice(0, RUNS);
  card.close();
  await new Promise((r) => setTimeout(r, 500));
  return `| ${label} | ${median(times).toFixed(2)} ms | ${openscPerApdu.toFixed(2)} ms | ${frames.filter((f) => f.split).length} of ${frames.length} | ${median(frames.map((f) => f.gapMs)).toFixed(2)} ms |`;
}

/**
 * Linux sends a delayed ACK at once for destinations whose route has `quickack 1`. A /32 local route for
 * 127.0.0.2 changes nothing else on the machine, and is removed afterwards. Root only.
 */
const QUICKACK_HOST = "127.0.0.2";
const QUICKACK_ROUTE = ["local", `${QUICKACK_HOST}/32`, "dev", "lo", "table", "local"];
function withQuickAckRoute(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["route", "replace", ...QUICKACK_ROUTE, "quickack", "1"]);
    return true;
  } catch {
    return false;
  }
}

async function identifyThrough(ctx: PcscContext, pcscd: Pcscd, profile: string, host: string) {
  const state = newSimCardState(profile, "1234");
  const options = { pin: "1234", profile: readerProfile(SIM_CARD_PROFILES[profile]!.readerProfile) };
  const bridge = new VpcdBridge(new SimulatedCard(state), { port: pcscd.port, host });
  await bridge.insert();
  await ctx.waitForCard({ reader: pcscd.reader, timeoutMs: 10_000 });
  const conn = await ctx.connect(pcscd.reader);
  const times: number[] = [];
  let sequence: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const traced = new TracingConnection(conn);
    const t0 = performance.now();
    await generateCapCode(traced, { mode: "identify" }, options);
    times.push(performance.now() - t0);
    sequence = traced
      .transcript()
      .exchanges.map((e) => INS[Number.parseInt(e.c.slice(2, 4), 16)] ?? e.c.slice(0, 4));
  }
  await conn.close();
  bridge.remove();
  await new Promise((r) => setTimeout(r, 500));
  return { state, options, sequence, ms: median(times) };
}

export async function pcscSuite(): Promise<string> {
  const pcscd = await startPcscd(40311);
  const ctx = await PcscContext.open();
  const rows: string[] = [];
  const transport: string[] = [];
  const quickRows: string[] = [];
  let quickAck = false;
  try {
    for (const profile of Object.keys(SIM_CARD_PROFILES)) {
      const { state, options, sequence, ms } = await identifyThrough(ctx, pcscd, profile, "127.0.0.1");
      const local = new SimulatedCard(state);
      const localTimes: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await generateCapCode(local, { mode: "identify" }, options);
        localTimes.push(performance.now() - t0);
      }
      rows.push(
        `| ${profile} | ${sequence.length} | ${sequence.join(" → ")} | ${ms.toFixed(1)} ms | ${median(localTimes).toFixed(2)} ms |`,
      );
      console.log(rows[rows.length - 1]);
    }
    transport.push(await transportRow(ctx, pcscd, "127.0.0.1", "127.0.0.1 (as above)"));
    console.log(transport[0]);
    quickAck = withQuickAckRoute();
    if (quickAck) {
      transport.push(
        await transportRow(ctx, pcscd, QUICKACK_HOST, `${QUICKACK_HOST}, route \`quickack 1\` (ACK at once)`),
      );
      console.log(transport[1]);
      for (const profile of Object.keys(SIM_CARD_PROFILES)) {
        const { sequence, ms } = await identifyThrough(ctx, pcscd, profile, QUICKACK_HOST);
        quickRows.push(`| ${profile} | ${sequence.length} | ${ms.toFixed(1)} ms |`);
        console.log(quickRows[quickRows.length - 1]);
      }
    }
  } finally {
    if (quickAck) execFileSync("ip", ["route", "del", ...QUICKACK_ROUTE]);
    await ctx.close();
    await pcscd.dispose();
  }
  const md = [
    "## PC/SC (`@capkit/reader-pcsc`)",
    "",
    machineLine(),
    "",
    `### One identify code per profile, through pcscd + vpcd (median of ${RUNS})`,
    "",
    "| card profile | APDUs | sequence | through pcscd | in-process |",
    "|---|---:|---|---:|---:|",
    ...rows,
    "",
    "The minimal sequence the card allows: one SELECT (the profile's AID answers first), GPO, each AFL record read",
    "once, GET DATA 9F17 before VERIFY, both GENERATE ACs; no GET RESPONSE (the virtual card is T=1-like).",
    "",
    `### Where the time per APDU goes: one SELECT to a bare vpcd card answering 90 00 (median of ${RUNS})`,
    "",
    "| card side connects to vpcd via | capkit transmit | opensc-tool, per APDU | APDUs whose length came alone | length → body |",
    "|---|---:|---:|---:|---:|",
    ...transport,
    "",
    "vpcd (vsmartcard) sends each APDU to the card in two writes — its 2-byte length, then the body: the length",
    "arrives alone every time — on a socket with Nagle's algorithm on. The length leaves at once; Nagle holds the",
    "body until the card's side acknowledges the length, and Linux delays that ACK (40 ms minimum) because the",
    "connection is interactive (the card answers every command). Each APDU thus waits one delayed-ACK timeout, whichever",
    "PC/SC client asks (opensc-tool alike) and whatever the card does: the bare card above answers in",
    "microseconds. Nothing the card side may send can trigger the ACK earlier (any byte would be read as the",
    "answer), and Node cannot set TCP_QUICKACK on a socket, so the cure is in vpcd (TCP_NODELAY, or one write",
    "per frame). The last row shows the cause: with a route that makes Linux acknowledge at once (root only,",
    "for 127.0.0.2 alone, removed after the run) the same APDU takes well under a millisecond.",
    ...(quickRows.length
      ? [
          "",
          "### One identify code through pcscd + vpcd with ACKs not delayed (route `quickack 1`, as above)",
          "",
          "| card profile | APDUs | through pcscd |",
          "|---|---:|---:|",
          ...quickRows,
          "",
          "Without the delayed ACK a whole code through pcscd + vpcd takes a few milliseconds, capkit included; physical",
          "readers talk USB CCID and do not go through vpcd.",
        ]
      : ["", "(The `quickack` comparison needs root; this run was not root.)"]),
  ].join("\n");
  writeSection("pcsc", md);
  return md;
}
