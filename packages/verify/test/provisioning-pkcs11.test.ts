import { type SoftHsm, startSoftHsm } from "@capkit/test-support";
import { FakeClock } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore, Verifier } from "../src/index.js";
import { Pkcs11KeyProvider } from "../src/pkcs11.js";
import { MemoryDevOutbox, MemoryProvisioningStore, Provisioner } from "../src/provisioning.js";
import { TestApp } from "./provisioning-app.js";

/**
 * The Provisioner with its keys in a PKCS#11 token (SoftHSM2): each activation's key and the token's seed are
 * sealed into the token, which computes the HMACs; an activation and a login go through as with software keys.
 */
let hsm: SoftHsm;
let keys: Pkcs11KeyProvider;
beforeAll(() => {
  hsm = startSoftHsm("capkit-provisioning");
  hsm.use();
  keys = Pkcs11KeyProvider.open({ module: hsm.module, token: hsm.token, pin: hsm.pin });
  keys.rotate();
});
afterAll(() => {
  keys?.close();
  hsm?.dispose();
});

describe("activations with a PKCS#11 key provider", () => {
  it("seals the activation's key and the seed into the token; the activation and a login go through", async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 11, 0, 0));
    const now = () => clock.now();
    const state = new MemoryStore();
    const store = new MemoryProvisioningStore(state);
    const verifier = new Verifier({ store: state, keys, now });
    const outbox = new MemoryDevOutbox({ now });
    const provisioner = new Provisioner({
      verifier,
      store,
      keys,
      policy: { serverIdentity: "sogesmart.example" },
      directory: async () => ({ phone: "+33611223344" }),
      sms: outbox,
      password: async (_u, p) => p === "112233",
      now,
    });
    await verifier.addUser("10203040");
    const { offer, delivered } = await provisioner.start({ user: "10203040", appVersion: "5.2.0" });
    await delivered;
    expect((await store.activation(offer.activationId))?.secretKey).toMatch(/^p11:/);
    const [sms] = await outbox.list({ limit: 1 });
    const app = new TestApp();
    const b1 = await provisioner.step(app.begin(offer, { sms: /(\d{4} \d{4})/.exec(sms!.text)![1]! }));
    const b2 = await provisioner.step(await app.bind(b1.reply, "112233"));
    const b4 = await provisioner.step(await app.activate(b2.reply, clock.now()));
    expect(b4.outcome).toBe("activated");
    app.finish(b4.reply);
    expect((await state.get(app.credential))?.sealed).toMatch(/^p11:/);
    clock.advance(30_000);
    const { challenge } = await provisioner.issueLoginChallenge(app.credential);
    expect(await provisioner.verifyDevice(await app.login(challenge, clock.now()))).toMatchObject({
      result: "accepted",
    });
  });
});
