import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { SqliteStore } from "@capkit/verify/sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * examples/verify-server/main.ts as a bank runs it — the real process, over real sockets (issue 20: one request
 * whose client went away mid-body, or any body of 512 MiB, took it down). HOTP codes are computed here with
 * node:crypto as RFC 4226 §5.3 says, independently of capkit.
 */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "capkit-verify-server-"));
const secret = randomBytes(20);
const material = SoftwareKeyProvider.generateMaterial();
let port = 0;
let child: ChildProcess;
let stderr = "";

function hotp(counter: number): string {
  const c = Buffer.alloc(8);
  c.writeBigUInt64BE(BigInt(counter));
  const h = createHmac("sha1", secret).update(c).digest();
  const o = h[19]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const post = async (body: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`http://127.0.0.1:${port}/verify`, { method: "POST", body, headers });
  return { status: r.status, body: await r.json() };
};

/** A raw connection: what a client that goes away mid-body sends. */
function raw(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => resolve(s)).on("error", reject);
  });
}
/** What the server sends back on `s` until it closes its side. */
function answerOf(s: Socket): Promise<string> {
  return new Promise((r) => {
    let got = "";
    s.on("data", (d) => (got += d))
      .on("end", () => r(got))
      .on("close", () => r(got))
      .on("error", () => {});
  });
}
const partial =
  'POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":';

beforeAll(async () => {
  const db = join(dir, "state.db");
  const store = new SqliteStore(db);
  await new Verifier({ store, keys: new SoftwareKeyProvider(material) }).enroll({
    id: "alice",
    kind: "hotp",
    secret,
  });
  await store.close();
  port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  child = spawn(
    process.execPath,
    ["--conditions=@capkit/source", "--import", "tsx", fileURLToPath(new URL("../main.ts", import.meta.url))],
    {
      cwd: ROOT,
      env: { ...process.env, CAPKIT_DB: db, CAPKIT_KEYS: JSON.stringify(material), PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  child.stderr!.on("data", (d) => (stderr += d));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((r) =>
      connect(port, "127.0.0.1", () => r(true)).on("error", () => r(false)),
    );
    if (up) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`the server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const alive = () => {
  expect(child.exitCode, stderr).toBeNull();
  expect(stderr).toBe("");
};

describe("examples/verify-server, the real process", () => {
  let counter = 0;

  it("answers as the README says: 200 accepted, 403 rejected (a replay not counted), 400 bad request, 404", async () => {
    const code = hotp(counter++);
    expect(await post(JSON.stringify({ id: "alice", code, requestId: "r-1" }))).toMatchObject({
      status: 200,
      body: { result: "accepted", counter: 0 },
    });
    expect(await post(JSON.stringify({ id: "alice", code }))).toEqual({
      status: 403,
      body: { result: "rejected", replayed: true },
    });
    expect((await post(JSON.stringify({ id: "alice", code, requestId: "r-1" }))).status).toBe(200);
    expect(await post(JSON.stringify({ id: "alice", code: "000000x" }))).toEqual({
      status: 403,
      body: { result: "rejected", triesLeft: 4 },
    });
    expect(await post(JSON.stringify({ id: "nobody", code }))).toEqual({
      status: 403,
      body: { result: "rejected", triesLeft: 4 },
    });
    expect(await post('{"id":"alice","code":123456}')).toMatchObject({
      status: 400,
      body: { error: "INPUT_INVALID", message: expect.stringContaining("string, as typed") },
    });
    expect(await post("not json")).toEqual({ status: 400, body: { error: "BAD_REQUEST" } });
    expect(await post("null")).toEqual({
      status: 400,
      body: { error: "INPUT_INVALID", message: expect.any(String) },
    });
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    alive();
  });

  it("a body over the limit is 413, declared or streamed, and the server keeps serving (a 512 MiB claim too)", async () => {
    expect(await post("x".repeat(1 << 20))).toEqual({ status: 413, body: { error: "TOO_LARGE" } });
    // Streamed (chunked, no length): answered 413 once past the limit, the rest never read.
    const streamed = await raw();
    const streamedAnswer = answerOf(streamed);
    streamed.write("POST /verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = `4000\r\n${" ".repeat(0x4000)}\r\n`;
    for (let i = 0; i < 64 && !streamed.destroyed; i++) {
      streamed.write(chunk);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await streamedAnswer).toMatch(/^HTTP\/1.1 413/);
    const s = await raw();
    const answer = answerOf(s);
    s.write("POST /verify HTTP/1.1\r\nHost: x\r\nContent-Length: 536870912\r\n\r\n{");
    expect(await answer).toMatch(/^HTTP\/1.1 413/);
    expect((await post(JSON.stringify({ id: "alice", code: hotp(counter++) }))).status).toBe(200);
    alive();
  });

  for (const how of ["RST", "FIN", "half-close"] as const) {
    it(`a client that goes away mid-body (${how}), 20 times: the server keeps serving`, async () => {
      for (let i = 0; i < 20; i++) {
        const s = await raw();
        s.write(partial);
        await new Promise((r) => setTimeout(r, 5));
        if (how === "RST") s.resetAndDestroy();
        else if (how === "FIN") s.destroySoon();
        else {
          // Half-closed: the request ends unfinished, the client still reads: a 400 or a close, never a crash.
          const answer = answerOf(s);
          s.end();
          expect(await answer).toMatch(/^$|^HTTP\/1.1 400/);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
      expect((await post(JSON.stringify({ id: "alice", code: hotp(counter++) }))).status).toBe(200);
      alive();
    });
  }
});
