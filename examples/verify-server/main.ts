// A bank's code check in 20 lines: POST {"id","code"} to /verify → 200 accepted, 403 rejected or locked.
import { createServer } from "node:http";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { SqliteStore } from "@capkit/verify/sqlite";

const verifier = new Verifier({
  store: new SqliteStore(process.env["CAPKIT_DB"] ?? "capkit-state.db"), // or PostgresStore (@capkit/verify/postgres)
  keys: SoftwareKeyProvider.fromEnv(), // CAPKIT_KEYS: the master key and issuer keys, never logged
});

createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  try {
    const { id, code } = JSON.parse(body) as { id: string; code: string };
    const r = await verifier.verify({ id, code });
    res
      .writeHead(r.result === "accepted" ? 200 : 403, { "content-type": "application/json" })
      .end(JSON.stringify(r));
  } catch (e) {
    const code = (e as { code?: string }).code ?? "BAD_REQUEST"; // an unknown id is "rejected", not an error
    res
      .writeHead(code === "STORE_UNAVAILABLE" ? 503 : 400, { "content-type": "application/json" })
      .end(JSON.stringify({ error: code }));
  }
}).listen(Number(process.env["PORT"] ?? 8080), "127.0.0.1");
