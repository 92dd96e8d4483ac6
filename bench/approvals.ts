import { generateKeyPairSync, sign, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64 } from "@capkit/core";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import {
  approvalMessage,
  canonicalJson,
  createOperation,
  RECEIPT_VERSION,
  type Receipt,
  type SignedReceipt,
  verifyReceipt,
} from "@capkit/provision";
import { startPostgres, startSoftHsm } from "@capkit/test-support";
import {
  type KeyProvider,
  MemoryStore,
  SoftwareKeyProvider,
  type StateStore,
  Verifier,
} from "@capkit/verify";
import {
  Approvals,
  type DeviceDecision,
  MemorySecurityStore,
  SecurityEvents,
  type SecurityStore,
} from "@capkit/verify/approvals";
import { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
import { PostgresSecurityStore, PostgresStore } from "@capkit/verify/postgres";
import { SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";
import { machineLine, median, runSuite, writeSection } from "./harness.js";

/**
 * @capkit/verify/approvals at its limits:
 * - receipts signed through the key provider (software, and SoftHSM2 over PKCS#11) against bare Ed25519 of the
 *   same bytes with node:crypto, and checked offline (`verifyReceipt`, @noble/curves) against bare verification;
 * - a whole approval on each store — `decide()` with a device signature: the signature checked, the user's
 *   lockout asked, the one atomic write (operation, chain head, receipt, audit), the receipt signed — against
 *   a TOTP verification on the same store; the creation of an operation; a security event; a session check.
 * Decisions are signed before the clock starts: the device's work is not the bank's.
 */
const N = 200;
const RUNS = 5;

const RECEIPT: Receipt = {
  v: RECEIPT_VERSION,
  operationDigest: "ab".repeat(32),
  user: "10203040",
  credential: "SOFT0042.1",
  method: "device",
  evidence: { signatureDigest: "cd".repeat(32) },
  result: "approved",
  time: "2026-12-05T09:00:00Z",
  previous: "ef".repeat(32),
};
const RECEIPT_BYTES = new TextEncoder().encode(canonicalJson(RECEIPT));

interface Rig {
  /** The clock of the verifier and the approvals (ms): the TOTP batch moves it a step per code. */
  now: number;
  readonly verifier: Verifier;
  readonly approvals: Approvals;
  readonly events: SecurityEvents;
  readonly close: () => Promise<void>;
}

function rig(store: StateStore, security: SecurityStore, keys: KeyProvider): Rig {
  const r = { now: Date.UTC(2026, 11, 5, 9, 0, 0) } as Rig;
  const now = () => r.now;
  const verifier = new Verifier({ store, keys, now });
  return Object.assign(r, {
    verifier,
    approvals: new Approvals({ verifier, store: security, keys, now }),
    events: new SecurityEvents({ store: security, now }),
    close: async () => {
      await security.close();
      await store.close();
    },
  });
}

/** Per second, median of RUNS batches of N (after a warm-up batch): `make` prepares a batch, `one` runs an item. */
async function rate<T>(make: () => Promise<T[]>, one: (x: T) => Promise<unknown>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const batch = await make();
    const t = performance.now();
    for (const x of batch) await one(x);
    if (r > 0) rates.push(batch.length / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

async function measure(r: Rig, name: string): Promise<string> {
  const user = `bench-${name.replace(/[^a-z]/gi, "")}-${Date.now()}`;
  const credential = `${user}-app`;
  const secret = Buffer.alloc(20, 5);
  await r.verifier.enroll({ id: credential, user, kind: "totp", secret });
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const raw = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x!, "base64url"),
    Buffer.from(jwk.y!, "base64url"),
  ]);
  await r.approvals.registerDevice({ credential, publicKey: new Uint8Array(raw) });
  let k = 0;
  const document = () =>
    createOperation(
      {
        type: "transfer",
        payee: { iban: "DE75512108001245126199", name: "Garage" },
        amount: { minor: 100 + k, currency: "EUR" },
      },
      { id: `op-${user}-${k++}`, account: "DE89370400440532013000", now: Math.floor(r.now / 1000) },
    );
  const decisionOf = (digest: string): DeviceDecision => ({
    decision: "accept",
    operationDigest: digest,
    signature: toBase64(
      sign("sha256", approvalMessage(Buffer.from(digest, "hex"), "accept"), {
        key: privateKey,
        dsaEncoding: "ieee-p1363",
      }),
    ),
  });
  const create = await rate(
    async () => Array.from({ length: N }, document),
    (d) => r.approvals.create({ document: d, user, credential, method: "device" }),
  );
  const decide = await rate(
    async () => {
      const batch: { id: string; device: DeviceDecision }[] = [];
      for (let i = 0; i < N; i++) {
        const op = await r.approvals.create({ document: document(), user, credential, method: "device" });
        batch.push({ id: op.id, device: decisionOf(op.digest) });
      }
      return batch;
    },
    async (d) => {
      if ((await r.approvals.decide(d)).result !== "approved") throw new Error("not approved");
    },
  );
  // A TOTP verification on the same store, as the verifier's own benchmark makes one: a fresh step per code.
  const totpId = `${user}-totp`;
  await r.verifier.enroll({ id: totpId, kind: "totp", secret });
  const gen = new HotpGenerator(new HmacKey(secret), 6);
  await r.verifier.verify({ id: totpId, code: gen.code(Math.floor(r.now / 30_000)) }); // its engine, cached
  const totp = await rate(
    async () => Array.from({ length: N }, () => 0),
    async () => {
      r.now += 30_000;
      const code = gen.code(Math.floor(r.now / 30_000));
      if ((await r.verifier.verify({ id: totpId, code })).result !== "accepted") throw new Error("rejected");
    },
  );
  const event = await rate(
    async () => Array.from({ length: N }, () => 0),
    () => r.events.record({ type: "password-change", subject: { kind: "user", id: user }, cause: "bench" }),
  );
  const stamp = await r.events.stamp([
    { subject: { kind: "user", id: user }, class: "session" },
    { subject: { kind: "user", id: user }, class: "device" },
  ]);
  const check = await rate(
    async () => Array.from({ length: N * 5 }, () => 0),
    () => r.events.valid(stamp),
  );
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  return `| ${name} | ${f(decide)} | ${f(totp)} | ${f(create)} | ${f(event)} | ${f(check)} |`;
}

export async function approvalsSuite(): Promise<string> {
  const hsm = startSoftHsm("capkit-bench-receipts");
  hsm.use();
  const software = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
  const token = Pkcs11KeyProvider.open({ module: hsm.module, token: hsm.token, pin: hsm.pin });
  const dir = mkdtempSync(join(tmpdir(), "capkit-bench-approvals-"));
  const pg = await startPostgres();
  try {
    token.rotate();
    const bare = generateKeyPairSync("ed25519");
    const bareSignature = sign(null, RECEIPT_BYTES, bare.privateKey);
    const publicHex = Object.values(await software.receiptPublicKeys())[0]!;
    const { keyId, signature } = await software.signReceipt(new TextEncoder().encode(canonicalJson(RECEIPT)));
    const signed: SignedReceipt = { receipt: RECEIPT, keyId, signature: toBase64(signature) };
    const keys = { [signed.keyId]: Uint8Array.from(Buffer.from(publicHex, "hex")) };
    if (!verifyReceipt(signed, keys).ok) throw new Error("the receipt does not verify");
    const signs = await runSuite(
      "Receipts: signed (Ed25519 of a receipt's canonical bytes)",
      "bare Ed25519, node:crypto",
      [
        { name: "bare Ed25519, node:crypto", fn: () => sign(null, RECEIPT_BYTES, bare.privateKey) },
        {
          name: "KeyProvider.signReceipt, software (HKDF-derived key, node:crypto)",
          fn: () => software.signReceipt(RECEIPT_BYTES),
        },
        {
          name: "KeyProvider.signReceipt, PKCS#11 (SoftHSM2, CKM_EDDSA)",
          fn: () => token.signReceipt(RECEIPT_BYTES),
        },
      ],
    );
    const verifies = await runSuite("Receipts: verified offline", "bare Ed25519 verify, node:crypto", [
      {
        name: "bare Ed25519 verify, node:crypto",
        fn: () => verify(null, RECEIPT_BYTES, bare.publicKey, bareSignature),
      },
      {
        name: "verifyReceipt (shape, canonical JSON, @noble/curves Ed25519)",
        fn: () => verifyReceipt(signed, keys),
      },
    ]);

    const rows: string[] = [];
    const memory = new MemoryStore({ auditLimit: 100_000 });
    rows.push(await measure(rig(memory, new MemorySecurityStore(memory), software), "memory"));
    const path = join(dir, "state.db");
    const sqlite = new SqliteStore(path);
    const sqliteRig = rig(sqlite, new SqliteSecurityStore(path), software);
    rows.push(await measure(sqliteRig, "SQLite (synchronous=FULL)"));
    await sqliteRig.close();
    const store = await PostgresStore.connect(pg.url);
    const pgRig = rig(store, await PostgresSecurityStore.connect(pg.url), software);
    rows.push(await measure(pgRig, "PostgreSQL (loopback, fsync on)"));
    await pgRig.close();

    const md = [
      "## Approvals, receipts and events (`@capkit/verify/approvals`)",
      "",
      machineLine(),
      "",
      signs.markdown,
      verifies.markdown,
      `### One approval, and what surrounds it, on each store (per second, median of ${RUNS} batches of ${N}, one at a time)`,
      "",
      "| store | approvals (`decide`, device) | TOTP verifications | operations created | security events | session checks (`valid`, 2 entries) |",
      "|---|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      "An approval is: the device's ECDSA P-256 signature checked (node:crypto), the user's lockout asked",
      "(`checkFactor`: one write), the decision's atomic write (the operation, the user's receipt chain head, the",
      "receipt and the audit row: on PostgreSQL one transaction that locks the chain head, the subjects and the",
      "operation), and the receipt signed by the key provider and its signature stored: three commits, each an",
      "fsync on SQLite (synchronous=FULL) and PostgreSQL, which is most of an approval's time there — about what",
      "three TOTP verifications cost on the same store. A session check is one indexed read of the subjects'",
      "epochs, whatever the number of sessions, devices or grants. Receipts verified in a browser go through",
      "@noble/curves (`verifyReceipt`), about a tenth of node:crypto's Ed25519.",
    ].join("\n");
    writeSection("approvals", md);
    return md;
  } finally {
    token.close();
    hsm.dispose();
    await pg.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
