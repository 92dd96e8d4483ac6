import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import pgDriver from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import { PostgresStore } from "../src/postgres.js";
import { SqliteStore } from "../src/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "capkit-rekey-"));
let pg: Postgres | undefined;
afterAll(async () => {
  await pg?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => Promise<StateStore>][] = [
  ["the memory store", async () => new MemoryStore()],
  ["SQLite", async () => new SqliteStore(join(dir, `${randomBytes(4).toString("hex")}.db`))],
  [
    "PostgreSQL",
    async () => {
      // A database of its own per test: a rotation walks every credential in the store.
      pg ??= await startPostgres();
      const name = `rekey_${randomBytes(4).toString("hex")}`;
      const admin = new pgDriver.Client({ connectionString: pg.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      return PostgresStore.connect(pg.url.replace(/\/postgres$/, `/${name}`));
    },
  ],
];

describe.each(stores)("key rotation on %s", (_name, open) => {
  it("every credential re-sealed under the new key while verifications go on; the old key is refused afterwards; audited", async () => {
    const store = await open();
    try {
      const old = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
      const fresh = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
      const before = new Verifier({ store, keys: new SoftwareKeyProvider(old) });
      const pin = "1234";
      const cards = Array.from({ length: 3 }, () => new SimulatedCard(newSimCardState("sesame", pin)));
      for (const [i, card] of cards.entries())
        await before.enroll({ id: `card-${i}`, kind: "cap", record: card.issuerRecord() });
      const secret = randomBytes(20);
      await before.enroll({ id: "token", user: "u", kind: "hotp", secret });
      await before.enroll({
        id: "ocra",
        kind: "ocra",
        secret: randomBytes(20),
        suite: "OCRA-1:HOTP-SHA1-6:QN08",
      });
      const gen = new HotpGenerator(new HmacKey(secret), 6);

      // During the rotation every verifier holds the new key, and the old one as previous.
      const during = new SoftwareKeyProvider({ ...fresh, previousMasterKeys: [old.masterKey] });
      const verifier = new Verifier({ store, keys: during });
      const rp = readerProfile(cards[0]!.profile.readerProfile);
      const code = async (i: number) =>
        (await generateCapCode(cards[i]!, { mode: "identify" }, { pin, profile: rp })).code;
      expect((await verifier.verify({ id: "card-0", code: await code(0) })).result).toBe("accepted");
      let counter = 0;
      const verifications = (async () => {
        const results: string[] = [];
        for (let i = 0; i < 20; i++) {
          results.push((await verifier.verify({ id: "token", code: gen.code(counter++) })).result);
          results.push((await verifier.verify({ id: "card-0", code: await code(0) })).result);
        }
        return results;
      })();
      const [report, results] = await Promise.all([
        verifier.rekey({ actor: "admin:marie", pageSize: 2 }),
        verifications,
      ]);
      expect(results.every((r) => r === "accepted")).toBe(true);
      expect(report).toEqual({ resealed: 5, current: 0, keyId: during.currentKeyId });
      expect(await verifier.rekey()).toEqual({ resealed: 0, current: 5, keyId: during.currentKeyId });

      // Afterwards: the new key alone opens everything (a fresh verifier, nothing cached) ...
      const after = new Verifier({ store, keys: new SoftwareKeyProvider(fresh) });
      expect((await after.verify({ id: "token", code: gen.code(counter++) })).result).toBe("accepted");
      for (const i of [0, 1, 2])
        expect((await after.verify({ id: `card-${i}`, code: await code(i) })).result).toBe("accepted");
      // ... and the old key is refused.
      const stale = new Verifier({ store, keys: new SoftwareKeyProvider(old) });
      await expect(stale.verify({ id: "card-1", code: await code(1) })).rejects.toMatchObject({
        code: "KEY_INVALID",
      });
      const trail = (await store.audit(undefined, 1000)).filter((e) => e.action === "rekey");
      expect(trail.map((e) => e.credentialId).sort()).toEqual([
        "card-0",
        "card-1",
        "card-2",
        "ocra",
        "token",
      ]);
      expect(trail.every((e) => e.detail?.endsWith(`→ ${during.currentKeyId}`))).toBe(true);
      expect(JSON.stringify(trail)).not.toContain(old.masterKey);
    } finally {
      await store.close();
    }
  }, 60_000);

  it("a database from before PANs were sealed: the rotation seals the PAN in clear", async () => {
    const store = await open();
    try {
      const material = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
      const keys = new SoftwareKeyProvider(material);
      const card = new SimulatedCard(newSimCardState("sesame", "1234"));
      const verifier = new Verifier({ store, keys });
      await verifier.enroll({ id: "old-card", kind: "cap", record: card.issuerRecord() });
      const c = (await store.get("old-card"))!;
      if (c.params.kind !== "cap") throw new Error("a card");
      const clear = { ...c.params, record: { ...c.params.record, pan: card.state.pan } };
      expect(
        await store.reseal(
          "old-card",
          c,
          { sealed: c.sealed, params: clear },
          { at: 0, credentialId: "old-card", action: "rekey", result: "ok" },
        ),
      ).toBe(true);
      expect(JSON.stringify(await store.get("old-card"))).toContain(card.state.pan);
      expect(await verifier.rekey()).toMatchObject({ resealed: 1 });
      expect(JSON.stringify(await store.get("old-card"))).not.toContain(card.state.pan);
      const rp = readerProfile(card.profile.readerProfile);
      const code = (await generateCapCode(card, { mode: "identify" }, { pin: "1234", profile: rp })).code;
      expect((await new Verifier({ store, keys }).verify({ id: "old-card", code })).result).toBe("accepted");
    } finally {
      await store.close();
    }
  });
});

describe("key rotation killed part-way (SIGKILL)", () => {
  it("resumes where it stopped: every credential under the new key exactly once, none lost", async () => {
    const path = join(dir, "killed.db");
    const old = SoftwareKeyProvider.generateMaterial();
    const fresh = SoftwareKeyProvider.generateMaterial();
    const seed = new Verifier({ store: new SqliteStore(path), keys: new SoftwareKeyProvider(old) });
    const secrets = Array.from({ length: 300 }, () => randomBytes(20));
    for (const [i, secret] of secrets.entries())
      await seed.enroll({ id: `t${String(i).padStart(3, "0")}`, kind: "hotp", secret });
    const env = {
      ...process.env,
      CAPKIT_KEYS: JSON.stringify({ ...fresh, previousMasterKeys: [old.masterKey] }),
    };
    const run = (killAfter?: number) =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            "--conditions=@capkit/source",
            "--import",
            "tsx",
            fileURLToPath(new URL("./fixtures/rekey-worker.ts", import.meta.url)),
            path,
          ],
          { env, stdio: ["ignore", "pipe", "pipe"] },
        );
        const lines: string[] = [];
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.stdout.on("data", (d: Buffer) => {
          lines.push(...d.toString().trim().split("\n"));
          if (killAfter !== undefined && lines.length >= killAfter) child.kill("SIGKILL");
        });
        child.on("exit", (code, signal) =>
          signal === "SIGKILL" || code === 0
            ? resolve(lines)
            : reject(new Error(`worker exited ${code}: ${err}`)),
        );
      });
    const first = await run(5);
    expect(first.some((l) => l.startsWith("done"))).toBe(false);
    const second = await run();
    const done = second.at(-1)!.split(" ");
    expect(done[0]).toBe("done");
    expect(Number(done[1])).toBeGreaterThan(0);
    expect(Number(done[1]) + Number(done[2])).toBe(300);
    const store = new SqliteStore(path);
    try {
      const rekeyed = (await store.audit(undefined, 10_000)).filter((e) => e.action === "rekey");
      expect(rekeyed.length).toBe(300); // each credential re-sealed exactly once across the two runs
      expect(new Set(rekeyed.map((e) => e.credentialId)).size).toBe(300);
      expect(rekeyed.every((e) => e.actor === "test:rotation")).toBe(true);
      const after = new Verifier({ store, keys: new SoftwareKeyProvider(fresh) });
      for (const i of [0, 150, 299]) {
        const gen = new HotpGenerator(new HmacKey(secrets[i]!), 6);
        expect((await after.verify({ id: `t${String(i).padStart(3, "0")}`, code: gen.code(0) })).result).toBe(
          "accepted",
        );
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
