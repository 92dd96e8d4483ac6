import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { capkit, TEST_KEYS } from "./run-cli.js";

/** The README's 20-line server (examples/verify-server) really checks codes enrolled with the CLI. */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

it("examples/verify-server accepts a fresh code once, then 403", async () => {
  const dir = mkdtempSync(join(tmpdir(), "capkit-example-"));
  const db = join(dir, "state.db");
  const card = join(dir, "card.json");
  capkit(["sim", "card", "new", "--pin", "1234", "--out", card]);
  capkit(["verify", "enroll", "--db", db, "--id", "alice", "--card", card]); // the tests' default key file
  const keys = JSON.stringify(TEST_KEYS);
  const port = await freePort();
  server = spawn(
    process.execPath,
    ["--conditions=@capkit/source", "--import", "tsx", "examples/verify-server/main.ts"],
    {
      cwd: ROOT,
      env: { ...process.env, CAPKIT_DB: db, CAPKIT_KEYS: keys, PORT: String(port) },
      stdio: "pipe",
    },
  );
  const code = capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "1234\n" }).json()
    .display;
  const post = async () => {
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/verify`, {
          method: "POST",
          body: JSON.stringify({ id: "alice", code }),
        });
        return { status: r.status, body: await r.json() };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error("the example server did not start");
  };
  expect(await post()).toMatchObject({ status: 200, body: { result: "accepted" } });
  expect(await post()).toMatchObject({ status: 403, body: { result: "rejected" } });
});
