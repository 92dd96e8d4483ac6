import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { spake2Finish, spake2Start, verifyDeviceSignature } from "@capkit/provision";
import { startPostgres } from "@capkit/test-support";
import { MemoryStore, SoftwareKeyProvider, type StateStore, Verifier } from "@capkit/verify";
import { PostgresProvisioningStore, PostgresStore } from "@capkit/verify/postgres";
import {
  MemoryDevOutbox,
  MemoryProvisioningStore,
  Provisioner,
  type ProvisioningStore,
} from "@capkit/verify/provisioning";
import { SqliteProvisioningStore, SqliteStore } from "@capkit/verify/sqlite";
import { p256 } from "@noble/curves/nist.js";
import { TestApp } from "../packages/verify/test/provisioning-app.js";
import { machineLine, median, writeSection } from "./harness.js";

/**
 * Activations per second on each store, the bank's side only: a whole activation (start with its SMS, a1, a2,
 * a4) between an app and the Provisioner in this process, the time counted inside the Provisioner's calls (the
 * app's own SPAKE2 side, ECDSA signatures and TOTP are not the bank's). Against the limit: the bank's bare
 * cryptography per activation — one SPAKE2 side (4 P-256 scalar multiplications, @noble/curves) and two ECDSA
 * P-256 verifications (the device's binding at a2, its signature over the first code at a4).
 */
const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
const BATCHES = 3;
const PER_BATCH = 12;
const LOGINS_PER_BATCH = 200;

async function ratesOn(
  state: StateStore,
  provisioning: ProvisioningStore,
): Promise<{ activations: number; logins: number; bare: number }> {
  let now = Date.UTC(2026, 11, 5, 9, 0, 0);
  const clock = () => now;
  const verifier = new Verifier({ store: state, keys, now: clock });
  const outbox = new MemoryDevOutbox({ now: clock });
  const provisioner = new Provisioner({
    verifier,
    store: provisioning,
    keys,
    policy: { serverIdentity: "bench.example" },
    directory: async (u) => ({ phone: `+33${u}` }),
    sms: outbox,
    password: async (_u, p) => p === "112233",
    now: clock,
  });
  let bankMs = 0;
  const bank = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      bankMs += performance.now() - t;
    }
  };
  let user = 10_000_000 + Math.floor(Math.random() * 80_000_000);
  const activateOne = async () => {
    const app = new TestApp();
    const who = String(user++);
    await verifier.addUser(who);
    now += 31_000;
    const { offer } = await bank(async () => {
      const s = await provisioner.start({ user: who, appVersion: "5.2.0" });
      await s.delivered;
      return s;
    });
    const [sms] = await outbox.list({ to: `+33${who}`, limit: 1 });
    const a1 = app.begin(offer, { sms: /(\d{4} \d{4})/.exec(sms!.text)![1]! });
    const b1 = await bank(() => provisioner.step(a1));
    const a2 = await app.bind(b1.reply, "112233");
    const b2 = await bank(() => provisioner.step(a2));
    const a4 = await app.activate(b2.reply, now);
    const b4 = await bank(() => provisioner.step(a4));
    if (b4.outcome !== "activated") throw new Error(`the benchmark's activation ended ${b4.outcome}`);
    app.finish(b4.reply);
    return app;
  };
  let app: TestApp | undefined;
  const activate = async () => {
    app = await activateOne();
  };
  for (let i = 0; i < 3; i++) {
    await activate(); // warm-up
    bareOnce();
  }
  // The limit is timed in the same batches, one bare run after each activation: the same moments of a shared
  // machine's load, the same state of the JIT and the heap.
  const activations: number[] = [];
  const bares: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    bankMs = 0;
    let bareMs = 0;
    for (let i = 0; i < PER_BATCH; i++) {
      await activate();
      const t = performance.now();
      bareOnce();
      bareMs += performance.now() - t;
    }
    activations.push(PER_BATCH / (bankMs / 1000));
    bares.push(PER_BATCH / (bareMs / 1000));
  }
  // Logins of the last device: a challenge, then the code and the device's signature (a new TOTP step each).
  const device = app!;
  const login = async () => {
    now += 30_000;
    const { challenge } = await bank(() => provisioner.issueLoginChallenge(device.credential));
    const proof = await device.login(challenge, now);
    const r = await bank(() => provisioner.verifyDevice(proof));
    if (r.result !== "accepted") throw new Error(`the benchmark's login was ${r.result}`);
  };
  for (let i = 0; i < 20; i++) await login();
  const logins: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    bankMs = 0;
    for (let i = 0; i < LOGINS_PER_BATCH; i++) await login();
    logins.push(LOGINS_PER_BATCH / (bankMs / 1000));
  }
  return { activations: median(activations), logins: median(logins), bare: median(bares) };
}

/** The bank's bare cryptography of one activation: one SPAKE2 side and two ECDSA P-256 verifications. */
const bareOnce = (() => {
  const w = 0x2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5fn;
  const a = spake2Start("A", w);
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const ctx = { idA: utf8("device"), idB: utf8("bank"), aad: utf8("bench") };
  const device = p256.keygen();
  const publicKey = p256.getPublicKey(device.secretKey, false);
  const message = utf8("capkit-activation/1 device binding");
  const signature = p256.sign(message, device.secretKey, { prehash: true, format: "compact" });
  return () => {
    spake2Finish(spake2Start("B", w), w, a.share, ctx);
    if (!verifyDeviceSignature(publicKey, message, signature)) throw new Error("bare signature");
    verifyDeviceSignature(publicKey, message, signature);
  };
})();

export async function provisioningSuite(): Promise<string> {
  const rows: [string, { activations: number; logins: number; bare: number }][] = [];
  {
    const state = new MemoryStore();
    rows.push(["memory store", await ratesOn(state, new MemoryProvisioningStore(state))]);
  }
  const dir = mkdtempSync(join(tmpdir(), "capkit-bench-provisioning-"));
  try {
    const state = new SqliteStore(join(dir, "state.db"));
    rows.push(["SQLite (WAL, synchronous=FULL)", await ratesOn(state, new SqliteProvisioningStore(state))]);
    await state.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const server = await startPostgres();
  try {
    const state = await PostgresStore.connect(server.url);
    rows.push(["PostgreSQL", await ratesOn(state, await PostgresProvisioningStore.open(state))]);
    await state.close();
  } finally {
    await server.dispose();
  }
  const memory = rows[0]![1].activations;
  const bare = rows[0]![1].bare;
  const md = [
    "## Activations (`@capkit/verify/provisioning`)",
    "",
    `${machineLine()}; load average ${loadavg()[0]!.toFixed(1)} at the end of the run (a shared VM: ratios within ±20 % of each other are one figure).`,
    "",
    `Whole activations of an in-app token, the bank's side only (start with its SMS to a dev outbox, a1, a2, a4: the time inside the Provisioner's calls; the app's own SPAKE2 side and signatures run in the same process but are not counted). Median of ${BATCHES} batches of ${PER_BATCH} after 3 warm-up activations, one after the other.`,
    "",
    "| case | activations/s | ratio to the limit | device logins/s |",
    "|---|---:|---:|---:|",
    `| the limit: the bank's bare cryptography of one activation (one SPAKE2 side, two ECDSA P-256 verifications), timed between the memory store's activations | ${Math.round(bare)} | 1.00× | |`,
    ...rows.map(
      ([name, r]) =>
        `| ${name} | ${Math.round(r.activations)} | ${(r.activations / r.bare).toFixed(2)}× | ${Math.round(r.logins).toLocaleString("en-US")} |`,
    ),
    "",
    "Each store's ratio is to the bare cryptography timed in its own batches.",
    "",
    `Device logins (median of ${BATCHES} batches of ${LOGINS_PER_BATCH}, after 20): \`issueLoginChallenge\` then \`verifyDevice\` — the challenge stored and taken,`,
    "the instance read, the device's ECDSA signature checked with node:crypto (about nine times @noble/curves' speed",
    "here, the same answers: test/device-signature.test.ts), then one verification of the code.",
    "",
    `On the memory store an activation runs at **${((memory / bare) * 100).toFixed(0)} %** of its bare cryptography: the rest is the protocol (parsing, the`,
    "transcript, AES-GCM boxes, HKDF), sealing and opening the activation's secrets (an HMAC and AES-GCM per step),",
    "the pending credential's enrolment and its first code's verification. On SQLite and PostgreSQL each activation",
    "also makes 7 commits (the start, the SMS's audit row, each step's compare-and-set with its audit rows, the",
    "password's count, the first code's accept), and a login 3 (the challenge stored, taken, the code's accept),",
    "each durable before the answer (SQLite: synchronous=FULL). On PostgreSQL every statement is a round trip and",
    "a provisioning transaction is several (BEGIN, the user's row locked, its statements, COMMIT): about 50 per",
    "activation, 5 per login, one flow after the other here, so the server's latency sets the rate (the verifier's",
    "own figures above run 4 clients at once). An activation is rare",
    "(once per device), so what matters is that a burst of them cannot starve logins: a SPAKE2 side is what the",
    "bank spends per try, and tries are bounded per code (5) and codes per identifiant (3 a day).",
  ].join("\n");
  console.log(md);
  writeSection("provisioning", md);
  return md;
}
