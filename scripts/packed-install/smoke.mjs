// Runs in a fresh project where the packed tarballs were installed with npm, as a developer's code would.
// Golden values come from the RFCs; the CAP code is checked by enrolling the card in the verifier.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CapkitError } from "@capkit/core";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, totp } from "@capkit/oath";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { SqliteStore } from "@capkit/verify/sqlite";

// RFC 6238 Appendix B: SHA-1, seed "12345678901234567890", T = 59 s, 8 digits → 94287082.
const key = new HmacKey(new TextEncoder().encode("12345678901234567890"), "SHA1");
assert.equal(totp(key, 59, 8), "94287082");

const card = new SimulatedCard(newSimCardState("sesame", "1234"));
const cap = await generateCapCode(
  card,
  { mode: "identify" },
  { profile: readerProfile("sesame"), pin: "1234" },
);
assert.match(cap.code, /^\d{8}$/);

const dir = mkdtempSync(join(tmpdir(), "capkit-smoke-"));
const store = new SqliteStore(join(dir, "state.db"));
try {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
  const verifier = new Verifier({ store, keys });
  await verifier.enroll({ id: "card-1", kind: "cap", record: card.issuerRecord() });
  assert.equal((await verifier.verify({ id: "card-1", code: cap.code })).result, "accepted");
  assert.equal((await verifier.verify({ id: "card-1", code: cap.code })).result, "rejected");
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

assert.ok(new CapkitError("INPUT_INVALID", "x") instanceof Error);

// Last, the SQLite driver npm chose for this Node must survive the garbage collection of its statements:
// better-sqlite3 12 built against Node 24.19+ headers aborts there ("Assertion failed: (env) != nullptr" in
// ~Statement, nodejs/node#65446), mostly when the process ends. pragma() prepares a statement per call, as
// SqliteStore's constructor does; thousands dropped, then an idle event loop, made it abort in 20 runs of
// 20 on Node 24.21 (0 of 20 with better-sqlite3 13), so a driver with that bug fails here, not in a user's
// process (docs/architecture.md §8).
{
  const Database = createRequire(import.meta.url)("better-sqlite3");
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (a)");
  for (let i = 0; i < 20000; i++) assert.equal(db.pragma("table_info(t)").length, 1);
  db.close();
  await new Promise((r) => setTimeout(r, 50));
}
console.log(
  `smoke ok on Node ${process.version}: TOTP, CAP code ${cap.display}, SQLite enrol + verify, 20000 statements dropped`,
);
