// Runs in a fresh project where the packed tarballs were installed with npm, as a developer's code would.
// Golden values come from the RFCs; the CAP code is checked by enrolling the card in the verifier.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
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
console.log(`smoke ok on Node ${process.version}: TOTP, CAP code ${cap.display}, SQLite enrol + verify`);
