import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "@capkit/token-sim";
import { MemoryKeyStore, SoftDigipass } from "@capkit/token-sim/soft-digipass";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "../src/index.js";
import {
  credentialIdOf,
  MemoryDevOutbox,
  MemoryProvisioningStore,
  Provisioner,
} from "../src/provisioning.js";
import { SqliteProvisioningStore, SqliteStore } from "../src/sqlite.js";
import { provisioningConformance } from "./provisioning-conformance.js";

provisioningConformance("the memory store", async () => {
  const state = new MemoryStore();
  return { state, provisioning: new MemoryProvisioningStore(state), close: () => state.close() };
});

const dir = mkdtempSync(join(tmpdir(), "capkit-provisioning-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
provisioningConformance("SQLite", async () => {
  const state = new SqliteStore(join(dir, "state.db"));
  return { state, provisioning: new SqliteProvisioningStore(state), close: () => state.close() };
});
provisioningConformance("SQLite (tablePrefix auth_)", async () => {
  const state = new SqliteStore(join(dir, "state.db"), { tablePrefix: "auth_" });
  return { state, provisioning: new SqliteProvisioningStore(state), close: () => state.close() };
});

describe("the real app: SoftDigipass (token-sim) against the Provisioner", () => {
  it("activates with the SMS code and the banking password, then logs in with its device signature", async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 10, 0, 0));
    const now = () => clock.now();
    const state = new MemoryStore();
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    const verifier = new Verifier({ store: state, keys, now });
    const outbox = new MemoryDevOutbox({ now });
    const provisioner = new Provisioner({
      verifier,
      store: new MemoryProvisioningStore(state),
      keys,
      policy: { serverIdentity: "sogesmart.example", appName: "SogeSmart" },
      directory: async (u) => (u === "10203040" ? { phone: "+33611223344" } : undefined),
      sms: outbox,
      password: async (u, p) => u === "10203040" && p === "112233",
      now,
    });
    await verifier.addUser("10203040");
    const app = await SoftDigipass.open({ store: new MemoryKeyStore(), appVersion: "5.2.0", clock });
    const sms = outbox.next("+33611223344");
    const { offer } = await provisioner.start({ user: "10203040", appVersion: app.appVersion });
    const code = /(\d{4} \d{4})/.exec((await sms).text)![1]!;
    const token = await app.activate({
      transport: async (request) => (await provisioner.step(request)).reply,
      activationId: offer.activationId,
      regId: offer.regId,
      serverIdentity: offer.serverIdentity,
      codes: { sms: code },
      bankPassword: "112233",
      appPassword: "135790",
    });
    const credential = credentialIdOf(token.serial, token.instance);
    expect((await provisioner.status("10203040")).instances).toEqual([
      expect.objectContaining({ credential, state: "active" }),
    ]);
    clock.advance(30_000);
    const { challenge } = await provisioner.issueLoginChallenge(credential);
    const proof = await app.loginProof(challenge);
    expect(
      await provisioner.verifyDevice({ credential, challenge, code: proof.otp, signature: proof.signature }),
    ).toMatchObject({ result: "accepted", credential });
  });
});

describe("the provisioning store's actor", () => {
  it("names the service or administrator on every audit row it writes (unless the row names one)", async () => {
    const state = new MemoryStore();
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    const outbox = new MemoryDevOutbox();
    const provisioner = new Provisioner({
      verifier: new Verifier({ store: state, keys, actor: "sogesmart-api" }),
      store: new MemoryProvisioningStore(state, { actor: "sogesmart-api" }),
      keys,
      policy: { serverIdentity: "sogesmart.example", features: ["sms", "letter"] },
      directory: async () => ({ phone: "+33611223344", address: "1 rue de la Paix" }),
      sms: outbox,
      letters: outbox,
    });
    await (await provisioner.start({ user: "10203040", appVersion: "5.2.0" })).delivered;
    await provisioner.reset("10203040");
    const rows = await state.audit(undefined, 100);
    expect(rows.map((r) => `${r.action}:${r.result}`)).toEqual([
      "activation:started",
      "activation:sms-sent",
      "activation:letter-sent",
      "activation:reset",
    ]);
    for (const r of rows) expect(r.actor).toBe("sogesmart-api");
  });
});
