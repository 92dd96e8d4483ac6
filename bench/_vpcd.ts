import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { PcscContext } from "@capkit/reader-pcsc";
import { startPcscd } from "@capkit/test-support";

const pcscd = await startPcscd(40311);
const host = process.argv[2] ?? "127.0.0.1";
const t0 = performance.now();
const log: string[] = [];
const s = connect(pcscd.port, host);
s.setNoDelay(true);
let buf = Buffer.alloc(0);
s.on("data", (c) => {
  log.push(`${(performance.now() - t0).toFixed(2)} recv ${c.length} bytes`);
  buf = Buffer.concat([buf, c]);
  while (buf.length >= 2) {
    const n = buf.readUInt16BE(0);
    if (buf.length < 2 + n) break;
    const p = buf.subarray(2, 2 + n);
    buf = buf.subarray(2 + n);
    let reply: Buffer | undefined;
    if (n === 1)
      reply = p[0] === 4 ? Buffer.from("3B8880010000000000000000000000", "hex").subarray(0, 9) : undefined;
    else reply = Buffer.from([0x90, 0x00]);
    if (reply) {
      const h = Buffer.alloc(2);
      h.writeUInt16BE(reply.length);
      s.write(Buffer.concat([h, reply]));
      log.push(`${(performance.now() - t0).toFixed(2)} sent ${reply.length + 2}`);
    }
  }
});
await new Promise((r) => s.on("connect", r));
const ctx = await PcscContext.open();
await ctx.waitForCard({ reader: pcscd.reader, timeoutMs: 10000 });
const conn = await ctx.connect(pcscd.reader);
log.length = 0;
const times: number[] = [];
for (let i = 0; i < 10; i++) {
  const a = performance.now();
  log.push(`${(a - t0).toFixed(2)} transmit ${i}`);
  await conn.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0, 0, 0, 3, 0x10, 0x10, 0x00]));
  times.push(performance.now() - a);
}
console.log("capkit transmit ms:", times.map((t) => t.toFixed(1)).join(" "));
console.log(log.slice(0, 16).join("\n"));
await conn.close();
await ctx.close();
const pid = spawnSync("pgrep", ["-x", "pcscd"], { encoding: "utf8" }).stdout.trim();
console.log(spawnSync("ss", ["-tnp", "sport", "=", String(pcscd.port)], { encoding: "utf8" }).stdout);
const { spawn } = await import("node:child_process");
const st = spawn("strace", [
  "-f",
  "-tt",
  "-e",
  "trace=sendto,recvfrom,send,recv,write,read,poll,select",
  "-p",
  pid,
  "-o",
  "/tmp/i15/strace.txt",
]);
await new Promise((r) => setTimeout(r, 1000));
const c2 = await PcscContext.open();
const k2 = await c2.connect(pcscd.reader);
for (let i = 0; i < 3; i++)
  await k2.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0, 0, 0, 3, 0x10, 0x10, 0x00]));
await k2.close();
await c2.close();
st.kill("SIGINT");
await new Promise((r) => setTimeout(r, 500));
s.destroy();
await pcscd.dispose();
