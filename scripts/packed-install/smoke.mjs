// Runs in a fresh project where the packed tarballs were installed with npm, as a developer's code would.
// Golden values come from the RFCs; the CAP code is checked by enrolling the card in the verifier.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CapkitError } from "@capkit/core";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, totp } from "@capkit/oath";
import {
  approvalMessage,
  createOperation,
  generateSigningKey,
  receiptDigest,
  signReceipt,
  softwareSigner,
  spake2Start,
  verifyReceiptChain,
} from "@capkit/provision";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Approvals } from "@capkit/verify/approvals";
import { SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";
import { bundleCapkitWeb } from "@capkit/web/bundle";
import { parseQrActivation, qrActivationText } from "@capkit/web/sogesmart/qr";

// RFC 6238 Appendix B: SHA-1, seed "12345678901234567890", T = 59 s, 8 digits → 94287082.
const key = new HmacKey(new TextEncoder().encode("12345678901234567890"), "SHA1");
assert.equal(totp(key, 59, 8), "94287082");

// RFC 9382 Appendix B, A='server', B='client': pA from w and x.
const pA = spake2Start(
  "A",
  0x2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5fn,
  0x43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729n,
).share;
assert.equal(
  Buffer.from(pA).toString("hex"),
  "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
);
// A receipt signed and checked offline.
const signer = softwareSigner(generateSigningKey(), "smoke");
const receipt = {
  v: "capkit-receipt/1",
  operationDigest: "0".repeat(64),
  user: "u1",
  credential: "c1",
  method: "ocra",
  evidence: { counter: 1 },
  result: "approved",
  time: "2026-12-05T09:00:00Z",
  previous: null,
};
const signed = await signReceipt(receipt, signer);
assert.deepEqual(verifyReceiptChain([signed], { smoke: signer.publicKey }), { ok: true });
assert.match(receiptDigest(receipt), /^[0-9a-f]{64}$/);

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

  // An operation approved on a device key beside the verifier (@capkit/verify/approvals), its receipt checked.
  const path = join(dir, "state.db");
  const security = new SqliteSecurityStore(path);
  const approvals = new Approvals({ verifier, store: security, keys });
  await verifier.enroll({ id: "app-1", user: "u1", kind: "totp", secret: new Uint8Array(20).fill(1) });
  const device = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = device.publicKey.export({ format: "jwk" });
  const publicKey = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x, "base64url"),
    Buffer.from(jwk.y, "base64url"),
  ]);
  await approvals.registerDevice({ credential: "app-1", publicKey: new Uint8Array(publicKey) });
  const document = createOperation(
    { type: "beneficiary-add", payee: { iban: "DE75512108001245126199", name: "Garage" } },
    { id: "op-1", account: "DE89370400440532013000", now: Math.floor(Date.now() / 1000) },
  );
  const op = await approvals.create({ document, user: "u1", credential: "app-1", method: "device" });
  const signature = sign("sha256", approvalMessage(Buffer.from(op.digest, "hex"), "accept"), {
    key: device.privateKey,
    dsaEncoding: "ieee-p1363",
  }).toString("base64");
  const decided = await approvals.decide({
    id: op.id,
    device: { decision: "accept", operationDigest: op.digest, signature },
  });
  assert.equal(decided.result, "approved");
  assert.deepEqual(verifyReceiptChain(await approvals.receipts("u1"), await approvals.receiptKeys()), {
    ok: true,
  });
  await security.close();
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
// @capkit/web as installed: the bundler builds the elements from the published builds (not the workspace's
// sources), with nothing of Node in them; an activation's QR code reads back as written.
for (const entry of ["devices", "sogesmart"]) {
  const js = await bundleCapkitWeb({ entry });
  assert.match(js, entry === "devices" ? /capkit-sesame-reader/ : /capkit-sogesmart-app/);
  assert.doesNotMatch(js, /from\s*"node:|require\("node:/);
}
const activation = {
  activationId: "0123456789abcdef0123456789abcdef",
  regId: "fedcba9876543210fedcba9876543210",
  serverIdentity: "bank.example",
  webSession: "00112233445566778899aabbccddeeff",
};
assert.deepEqual(parseQrActivation(qrActivationText(activation)), activation);

console.log(
  `smoke ok on Node ${process.version}: TOTP, SPAKE2 (RFC 9382), a receipt, CAP code ${cap.display}, SQLite enrol + verify, 20000 statements dropped, the web elements bundled`,
);
