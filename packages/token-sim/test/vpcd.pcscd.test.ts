import { execFile } from "node:child_process";
import { type Pcscd, startPcscd } from "@capkit/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSimCardState, SimulatedCard } from "../src/index.js";
import { VpcdBridge } from "../src/node.js";

/**
 * Third-party PC/SC clients against our virtual card through a real pcscd + vpcd. Clients run asynchronously:
 * the bridge answering them lives in this process's event loop.
 */
const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 10_000 }, (_e, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });

async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cardIn = async () => /^0\s+Yes\s+.*capkit test 00 00/m.test(await run("opensc-tool", ["-l"]));
const cardOut = async () => /^0\s+No\s+.*capkit test 00 00/m.test(await run("opensc-tool", ["-l"]));

describe("vpcd bridge with a real pcscd", () => {
  let pcscd: Pcscd;
  let bridge: VpcdBridge;
  let card: SimulatedCard;

  beforeAll(async () => {
    pcscd = await startPcscd(40111);
    card = new SimulatedCard(newSimCardState("sesame", "1234"));
    bridge = new VpcdBridge(card, { port: pcscd.port, minBackoffMs: 50, maxBackoffMs: 400 });
    await bridge.insert();
  });

  afterAll(async () => {
    bridge?.remove();
    await pcscd?.dispose();
  });

  it("opensc-tool -l and pcsc_scan -r see the virtual card's reader", async () => {
    await eventually(cardIn, "opensc-tool sees the card");
    expect(await run("pcsc_scan", ["-r"])).toContain("capkit test 00 00");
  });

  it("opensc-tool -s gets our FCI", async () => {
    const out = await run("opensc-tool", ["-r", "0", "-s", "00A4040007A0000000038002"]);
    expect(out).toContain("SW1=0x90, SW2=0x00");
    // opensc-tool dumps 16 bytes a line, hex then ASCII: keep the hex columns after "Received".
    const dump = out
      .split("Received")[1]!
      .split("\n")
      .slice(1)
      .map((line) => line.slice(0, 48).replace(/\s+/g, ""))
      .join("");
    const inProcess = Buffer.from(card.process(Buffer.from("00A4040007A000000003800200", "hex")))
      .toString("hex")
      .toUpperCase();
    expect(dump).toBe(inProcess.slice(0, -4));
  });

  it("clients see removal and reinsertion", async () => {
    bridge.remove();
    await eventually(cardOut, "the card is seen as removed");
    await bridge.insert();
    await eventually(cardIn, "the card is seen again");
  });

  it("survives a pcscd restart: the bridge reconnects by itself", async () => {
    await pcscd.restart();
    await eventually(() => bridge.connected, "the bridge reconnects", 8000);
    await eventually(cardIn, "the card is seen after the restart", 8000);
  });
});
