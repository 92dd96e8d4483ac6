import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "@capkit/core";
import { activationW } from "@capkit/provision";
import { type Postgres, startPostgres } from "@capkit/test-support";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { PostgresProvisioningStore, PostgresStore } from "../src/postgres.js";
import { MemoryDevOutbox, Provisioner, type ProvisioningStore } from "../src/provisioning.js";
import { SqliteProvisioningStore, SqliteStore } from "../src/sqlite.js";
import { TestApp } from "./provisioning-app.js";

/**
 * Activations under the rough faults (docs/testing.md): two bank processes activating the same customer's
 * device at once, SIGKILLed at random points (12 rounds), on SQLite and on a real PostgreSQL. After every kill: no slot
 * holds two active tokens (or two pending), every step a process saw answered is in the database, every token
 * it saw activated is active or replaced by a newer one that is, and each was activated once.
 */
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** Kill rounds per store: two worker processes each (a process start is most of a round's time). */
const ROUNDS = 12;
const dir = mkdtempSync(join(tmpdir(), "capkit-provisioning-faults-"));
const material = SoftwareKeyProvider.generateMaterial();
const keys = new SoftwareKeyProvider(material);
let pg: Postgres | undefined;
afterAll(async () => {
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Fixture {
  readonly spec: string;
  open(): Promise<{ state: StateStore; provisioning: ProvisioningStore }>;
}

const sqlite = (path: string): Fixture => ({
  spec: path,
  open: async () => {
    const state = new SqliteStore(path);
    return { state, provisioning: new SqliteProvisioningStore(state) };
  },
});

/**
 * One worker run until killed — `ms` after its `lines`-th acknowledged line, so that a kill lands at a random
 * point of a random step however fast or loaded the machine is — and its acknowledged lines.
 */
function killedWorker(spec: string, args: string[], lines: number, ms: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/activation-kill-worker.ts", import.meta.url)),
        spec,
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, CAPKIT_KEYS: JSON.stringify(material) }, stdio: "pipe" },
    );
    let out = "";
    let err = "";
    let armed = false;
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      // "ready", then the acknowledged lines.
      if (!armed && out.split("\n").length - 2 >= lines) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), ms);
      }
    });
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(out.split("\n").filter(Boolean).slice(1)) : reject(new Error(err)),
    );
  });
}

function killTest(name: string, fixture: () => Promise<Fixture>) {
  it(`${name}: two processes activating one customer, 12 rounds of SIGKILL at random points — nothing lost, never two tokens in the slot`, async () => {
    const fx = await fixture();
    const user = String(randomInt(10_000_000, 100_000_000));
    const phone = "+33611223344";
    const password = "correct-horse-7";
    const seen = { b2: new Map<string, string>(), b4: [] as string[] };
    for (let round = 0; round < ROUNDS; round++) {
      // Rounds 30 days apart: a worker's clock moves 31 minutes an iteration, and a fast machine fits a few
      // hundred iterations before the kill — no round's clock reaches the next one's.
      const from = String(Date.UTC(2026, 11, 5) + round * 30 * 86_400_000);
      const lines = (
        await Promise.all(
          [0, 1].map((w) =>
            killedWorker(
              fx.spec,
              [user, phone, password, String(Number(from) + w * 7_000)],
              randomInt(0, 16),
              Math.random() * 40,
            ),
          ),
        )
      ).flat();
      const roundB1 = new Set<string>();
      for (const l of lines) {
        const [what, a, b] = l.split(" ");
        if (what === "B1") roundB1.add(a!);
        if (what === "B2") seen.b2.set(a!, b!);
        if (what === "B4") seen.b4.push(b!);
        if (what === "L") expect(b, l).toMatch(/^(accepted|rejected|reactivation-required)$/);
        if (what === "X")
          expect(a, l).toMatch(/^(ACTIVATION_CODE_DEAD|ACTIVATION_REFUSED|STORE_UNAVAILABLE)$/);
      }
      const { state, provisioning } = await fx.open();
      try {
        const verifier = new Verifier({ store: state, keys });
        const provisioner = new Provisioner({
          verifier,
          store: provisioning,
          keys,
          policy: { serverIdentity: "sogesmart.example" },
          directory: async () => undefined,
          sms: new MemoryDevOutbox(),
          password: async () => false,
        });
        const status = await provisioner.status(user);
        const byCredential = new Map(status.instances.map((i) => [i.credential, i]));
        expect(status.instances.filter((i) => i.state === "active").length).toBeLessThanOrEqual(1);
        expect(status.instances.filter((i) => i.state === "pending").length).toBeLessThanOrEqual(1);
        // Every acknowledged step is stored.
        const activations = new Map(
          (await provisioning.activations(user, 1000)).map((a) => [a.id, a.state] as const),
        );
        // (This round's: a start purges activations a day past their expiry, and rounds are 30 days apart.)
        for (const id of roundB1) expect(activations.get(id)?.tries, id).toBeGreaterThanOrEqual(1);
        for (const credential of seen.b2.values())
          expect(byCredential.has(credential), credential).toBe(true);
        // Every token a process saw activated was activated once, in the trail, and is active now or was
        // revoked as replaced by another token that was itself activated (never lost, never left pending).
        const trail = (await verifier.audit(undefined, 100_000)).filter((e) => e.user === user);
        const activated = trail.filter((e) => e.action === "activate").map((e) => e.credentialId);
        expect(new Set(activated).size).toBe(activated.length);
        const replacedBy = new Map(
          trail
            .filter((e) => e.action === "revoke" && e.detail?.startsWith("replaced by "))
            .map((e) => [e.credentialId, e.detail!.slice("replaced by ".length)] as const),
        );
        for (const credential of seen.b4) {
          expect(activated, `${credential} was activated`).toContain(credential);
          const i = byCredential.get(credential)!;
          if (i.state === "active") continue;
          expect(i.state, credential).toBe("ended");
          expect(activated, `${credential} was replaced by an activated token`).toContain(
            replacedBy.get(credential),
          );
        }
      } finally {
        await state.close();
      }
      if (!fx.spec.startsWith("postgres")) {
        const db = new Database(fx.spec, { readonly: true });
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        db.close();
      }
    }
    expect(seen.b4.length, "some activations finished between the kills").toBeGreaterThan(0);
  }, 900_000);
}

describe("activations under SIGKILL", () => {
  killTest("SQLite", async () => sqlite(join(dir, "kill.db")));
  killTest("PostgreSQL", async () => {
    pg ??= await startPostgres();
    const url = pg.url;
    return {
      spec: url,
      open: async () => {
        const state = await PostgresStore.connect(url);
        return { state, provisioning: await PostgresProvisioningStore.open(state) };
      },
    };
  });
});

describe("secrets at rest", () => {
  it("the SQLite file holds no activation code, no w, no seed and no password: sealed, or never stored", async () => {
    const path = join(dir, "rest.db");
    const state = new SqliteStore(path);
    const outbox = new MemoryDevOutbox();
    const password = "correct-horse-7";
    const provisioner = new Provisioner({
      verifier: new Verifier({ store: state, keys }),
      store: new SqliteProvisioningStore(state),
      keys,
      policy: { serverIdentity: "sogesmart.example" },
      directory: async () => ({ phone: "+33611223344" }),
      sms: outbox,
      password: async (_u, p) => p === password,
    });
    // One activation finished, one left after its a1 (its w and run keys are at rest).
    const secrets: Buffer[] = [];
    for (const finish of [true, false]) {
      const app = new TestApp();
      const { offer, delivered } = await provisioner.start({
        user: finish ? "10203040" : "50607080",
        appVersion: "5.2.0",
      });
      await delivered;
      const [sms] = await outbox.list({ limit: 1 });
      const code = /(\d{4} \d{4})/.exec(sms!.text)![1]!;
      const w = activationW(offer.regId, { sms: code.replace(" ", "") })
        .toString(16)
        .padStart(64, "0");
      secrets.push(
        Buffer.from(code),
        Buffer.from(code.replace(" ", "")),
        Buffer.from(w),
        Buffer.from(w, "hex"),
      );
      const b1 = (await provisioner.step(app.begin(offer, { sms: code }))).reply;
      if (!finish) continue;
      const b2 = (await provisioner.step(await app.bind(b1, password))).reply;
      app.finish((await provisioner.step(await app.activate(b2, Date.now()))).reply);
      const seed = app.seedForTests!;
      secrets.push(Buffer.from(seed), Buffer.from(toHex(seed)), Buffer.from(toHex(seed).toLowerCase()));
    }
    secrets.push(Buffer.from(password));
    await state.close();
    const raw = Buffer.concat([path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f)));
    for (const s of secrets) expect(raw.includes(s), s.toString("hex")).toBe(false);
  });
});
