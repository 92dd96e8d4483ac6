// A bank's code check: POST a verification request — {"id" or "user", "code", "requestId"} — to /verify →
// 200 accepted, 403 rejected or locked, 400 bad request, 413 too large, 503 store unavailable (retry the same
// request: a verification that committed unseen answers "accepted" again with the same requestId).
import { createServer } from "node:http";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { SqliteStore } from "@capkit/verify/sqlite";

const verifier = new Verifier({
  // Its tables are named capkit_… (CAPKIT_TABLE_PREFIX): it can share the application's database. Or PostgresStore
  // (@capkit/verify/postgres), with a URL, a pg.PoolConfig or the application's pg.Pool, and a schema of its own.
  store: new SqliteStore(process.env["CAPKIT_DB"] ?? "capkit-state.db", {
    ...(process.env["CAPKIT_TABLE_PREFIX"] ? { tablePrefix: process.env["CAPKIT_TABLE_PREFIX"] } : {}),
  }),
  keys: SoftwareKeyProvider.fromEnv(), // CAPKIT_KEYS: the master key and issuer keys, never logged
});
const LIMIT = 4096; // bytes: a verification request is a few dozen

const server = createServer(async (req, res) => {
  const { socket } = req;
  const send = (status: number, body: object) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify(body), () => req.complete || socket.destroy()); // the rest is never read
  };
  try {
    if (req.method !== "POST" || req.url !== "/verify") return send(404, { error: "NOT_FOUND" });
    if (Number(req.headers["content-length"] ?? 0) > LIMIT) return send(413, { error: "TOO_LARGE" });
    const body = await new Promise<Buffer | undefined>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > LIMIT) resolve(undefined);
        else chunks.push(chunk);
      });
      req.on("end", () => resolve(Buffer.concat(chunks))).on("close", () => reject(new Error("client gone")));
    });
    if (!body) return send(413, { error: "TOO_LARGE" });
    const r = await verifier.verify(JSON.parse(body.toString("utf8"))); // every field checked at its door
    send(r.result === "accepted" ? 200 : 403, r);
  } catch (e) {
    // A client gone mid-body lands here (nobody to answer); an unknown id is "rejected", never an error.
    const { code = "BAD_REQUEST", message, hint } = e as { code?: string; message?: string; hint?: string };
    if (code === "STORE_UNAVAILABLE") send(503, { error: code, hint });
    else send(400, { error: code, ...(code === "INPUT_INVALID" ? { message } : {}) });
  }
});
server.requestTimeout = 10_000; // a client that never finishes its request is cut off
server.listen(Number(process.env["PORT"] ?? 8080), "127.0.0.1");
