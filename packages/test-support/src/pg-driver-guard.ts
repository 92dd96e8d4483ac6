import { afterAll, afterEach } from "vitest";

/**
 * A vitest setup file (vitest.config.ts `setupFiles`): a deprecation warning of node-postgres fails the test that
 * caused it. Above all "Calling client.query() when the client is already executing a query": two statements
 * queued on one client at once — in a verifier, possibly one transaction's statements interleaved with
 * another's — which pg 9 turns into an error (every pg deprecation names "pg@9"). Node prints a deprecation once
 * per process and a test file runs in a process of its own, so the first misuse of a file fails it; the warning's
 * stack names the code that queued the statement.
 */
const PG_DEPRECATION = /pg@9/;

const seen: Error[] = [];
process.on("warning", (w) => {
  if (w.name === "DeprecationWarning" && PG_DEPRECATION.test(w.message)) seen.push(w);
});

function check(): void {
  const [first] = seen.splice(0);
  if (first) throw new Error(`node-postgres: ${first.message}\n${first.stack ?? ""}`);
}

afterEach(check);
afterAll(check);
