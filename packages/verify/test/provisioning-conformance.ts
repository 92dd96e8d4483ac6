import { randomBytes, randomInt } from "node:crypto";
import { isCapkitError } from "@capkit/core";
import { FakeClock } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import {
  type ActivationOffer,
  MemoryDevOutbox,
  Provisioner,
  type ProvisioningPolicyInput,
  type ProvisioningStore,
} from "../src/provisioning.js";
import { TestApp } from "./provisioning-app.js";
import { watchCalls } from "./store-writes.js";

export interface ProvisioningFixture {
  readonly state: StateStore;
  readonly provisioning: ProvisioningStore;
  close(): Promise<void>;
}

interface Customer {
  readonly user: string;
  readonly phone: string;
  readonly password: string;
}

/**
 * One behaviour, three stores: the Provisioner on every ProvisioningStore (docs/architecture.md §11). Users are
 * fresh per test, so one store serves the whole suite; the clock only moves forward.
 */
export function provisioningConformance(name: string, open: () => Promise<ProvisioningFixture>): void {
  describe(`Provisioner on ${name}`, () => {
    let fx: ProvisioningFixture;
    const material = SoftwareKeyProvider.generateMaterial();
    const keys = new SoftwareKeyProvider(material);
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 9, 0, 0));
    const customers = new Map<string, Customer>();

    let registry: Verifier;
    beforeAll(async () => {
      fx = await open();
      registry = new Verifier({ store: fx.state, keys });
    });
    afterAll(async () => {
      await fx?.close();
    });

    /** A customer of the bank: in its directory, and registered with the verifier (its one lockout). */
    const customer = async (): Promise<Customer> => {
      const c = {
        user: String(randomInt(10_000_000, 100_000_000)),
        phone: `+336${randomInt(10_000_000, 100_000_000)}`,
        password: String(randomInt(100_000, 1_000_000)),
      };
      customers.set(c.user, c);
      await registry.addUser(c.user);
      return c;
    };
    const unknown = () => String(randomInt(10_000_000, 100_000_000));

    const bank = (policy: Partial<ProvisioningPolicyInput> = {}) => {
      const outbox = new MemoryDevOutbox({ now: () => clock.now() });
      const verifier = new Verifier({ store: fx.state, keys, now: () => clock.now() });
      const provisioner = new Provisioner({
        verifier,
        store: fx.provisioning,
        keys,
        policy: { serverIdentity: "sogesmart.example", appName: "SogeSmart", ...policy },
        directory: async (u) => {
          const c = customers.get(u);
          return c && { phone: c.phone };
        },
        sms: outbox,
        password: async (u, p) => customers.get(u)?.password === p,
        now: () => clock.now(),
      });
      return { outbox, verifier, provisioner };
    };
    type Bank = ReturnType<typeof bank>;

    const smsCode = async (b: Bank, c: Customer) => {
      const [m] = await b.outbox.list({ to: c.phone, limit: 1 });
      return /(\d{4} \d{4})/.exec(m!.text)![1]!;
    };

    /** A whole activation from the app's side; the offer and the outcome of each step. */
    const activate = async (
      b: Bank,
      c: Customer,
      o: { app?: TestApp; slot?: number; code?: string; password?: string; offer?: ActivationOffer } = {},
    ) => {
      const app = o.app ?? new TestApp();
      let offer = o.offer;
      if (!offer) {
        const started = await b.provisioner.start({
          user: c.user,
          appVersion: app.appVersion,
          ...(o.slot !== undefined ? { slot: o.slot } : {}),
        });
        await started.delivered;
        offer = started.offer;
      }
      const code = o.code ?? (await smsCode(b, c));
      const s1 = await b.provisioner.step(app.begin(offer, { sms: code }));
      const s2 = await b.provisioner.step(await app.bind(s1.reply, o.password ?? c.password));
      const s4 = await b.provisioner.step(await app.activate(s2.reply, clock.now()));
      app.finish(s4.reply);
      return { app, offer, outcomes: [s1.outcome, s2.outcome, s4.outcome] };
    };

    const login = async (b: Bank, app: TestApp) => {
      const { challenge } = await b.provisioner.issueLoginChallenge(app.credential);
      return b.provisioner.verifyDevice(await app.login(challenge, clock.now()));
    };
    const nextStep = () => clock.advance(30_000);
    const rejectedWith = async (p: Promise<unknown>, code: string) => {
      try {
        await p;
      } catch (e) {
        if (isCapkitError(e)) return expect(e.code).toBe(code);
        throw e;
      }
      throw new Error(`expected ${code}`);
    };

    it("an activation end to end: the SMS code, the PAKE, the pending token bound, activated by its first code; every step audited, never a secret", async () => {
      const b = bank();
      const c = await customer();
      const { app, offer, outcomes } = await activate(b, c);
      expect(outcomes).toEqual(["answered", "bound", "activated"]);
      const [sms] = await b.outbox.list({ to: c.phone });
      expect(sms!.text).toMatch(
        /^SogeSmart : votre mot de passe d'activation est \d{4} \d{4}\. Il expire dans 10 minutes\. Ne le communiquez à personne, pas même à un conseiller\.$/,
      );
      expect(offer).toMatchObject({ serverIdentity: "sogesmart.example", features: ["sms", "password"] });
      const status = await b.provisioner.status(c.user);
      expect(status.instances).toEqual([
        expect.objectContaining({
          credential: app.credential,
          slot: 1,
          state: "active",
          appVersion: "5.2.0",
        }),
      ]);
      expect(status.activations[0]).toMatchObject({ phase: "active", tries: 1, failures: 0, known: true });
      expect(await b.verifier.status(app.credential)).toMatchObject({
        kind: "totp",
        state: "active",
        user: c.user,
      });
      const trail = (await b.verifier.audit(app.credential)).map((e) => `${e.action}:${e.result}`);
      expect(trail).toEqual([
        "activation:started",
        "activation:sms-sent",
        "activation:pake-answered",
        "enroll:ok",
        "activation:pake-confirmed",
        "verify:accepted",
        "activate:ok",
        "activation:activated",
      ]);
      const code = await smsCode(b, c);
      const text = JSON.stringify(await b.verifier.audit(undefined, 1000));
      for (const secret of [code, code.replace(" ", ""), c.password]) expect(text).not.toContain(secret);
      // Logins from the app: the device's signature and the code.
      nextStep();
      expect(await login(b, app)).toMatchObject({ result: "accepted", credential: app.credential });
    });

    it("an identifiant nobody holds: the same answer, no SMS; its a1 is answered like a customer's and it can never finish", async () => {
      const b = bank();
      const who = unknown();
      const { offer, delivered } = await b.provisioner.start({ user: who, appVersion: "5.2.0" });
      expect(await delivered).toEqual({ sent: [], failed: [] });
      expect(Object.keys(offer).sort()).toEqual([
        "activationId",
        "expiresAt",
        "features",
        "regId",
        "serverIdentity",
      ]);
      expect(await b.outbox.list()).toEqual([]);
      const app = new TestApp();
      const s1 = await b.provisioner.step(app.begin(offer, { sms: "12345678" }));
      expect(s1.outcome).toBe("answered");
      await rejectedWith(app.bind(s1.reply, "000000"), "ACTIVATION_REFUSED"); // no one has the code
      expect((await b.provisioner.status(who)).activations[0]).toMatchObject({ tries: 1, known: false });
    });

    it("the rate of codes: one per 60 s and 3 in any 24 h, for a customer and an unknown identifiant alike; 10 concurrent starts send 1", async () => {
      const b = bank();
      const start = async (user: string) => {
        const s = await b.provisioner.start({ user, appVersion: "5.2.0" });
        await s.delivered;
        return s;
      };
      for (const user of [(await customer()).user, unknown()]) {
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => start(user)));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results)
          if (r.status === "rejected")
            expect(r.reason).toMatchObject({ code: "ACTIVATION_RATE_LIMITED", details: { retryAfter: 60 } });
        clock.advance(60_000);
        await start(user);
        clock.advance(60_000);
        await start(user);
        clock.advance(60_000);
        const fourth = b.provisioner.start({ user, appVersion: "5.2.0" });
        await expect(fourth).rejects.toMatchObject({
          code: "ACTIVATION_RATE_LIMITED",
          details: { retryAfter: 86_400 - 180 },
        });
        clock.advance(86_400_000 - 180_000);
        await start(user); // the first has left the 24 hours
      }
      expect((await b.outbox.list()).length).toBe(4); // the customer's; none for the unknown identifiant
    });

    it("5 PAKE runs kill the code: each try stored before its answer, a refusal telling nothing", async () => {
      const b = bank();
      const c = await customer();
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      const right = await smsCode(b, c);
      const wrong = right.startsWith("0") ? "11111111" : "00000000";
      for (let i = 1; i <= 5; i++) {
        const app = new TestApp();
        const s1 = await b.provisioner.step(app.begin(offer, { sms: wrong }));
        // The try is counted before the app reads b1: stored already.
        expect((await b.provisioner.status(c.user)).activations[0]).toMatchObject({ tries: i });
        await rejectedWith(app.bind(s1.reply, c.password), "ACTIVATION_REFUSED");
      }
      await rejectedWith(activate(b, c, { offer, code: right }), "ACTIVATION_CODE_DEAD");
      expect((await b.verifier.userStatus(c.user)).failures).toBe(0); // the code's own tries, not the user's
    });

    it("the second feature: a wrong banking password fails the run and counts in the user's one lockout", async () => {
      const b = bank();
      const c = await customer();
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      const code = await smsCode(b, c);
      const app = new TestApp();
      const s1 = await b.provisioner.step(app.begin(offer, { sms: code }));
      const s2 = await b.provisioner.step(await app.bind(s1.reply, "999999"));
      expect(s2.outcome).toBe("second-feature-failed");
      expect(JSON.parse(s2.reply)).toMatchObject({ type: "refused", retry: true });
      expect(await b.verifier.userStatus(c.user)).toMatchObject({ failures: 1, locked: false });
      // Locked elsewhere (4 more wrong passwords at the bank's login): the right password fails here too.
      for (let i = 0; i < 4; i++)
        await b.verifier.checkFactor({ user: c.user, factor: "password", ok: false });
      await rejectedWith(activate(b, c, { offer, code }), "ACTIVATION_REFUSED");
      expect(await b.verifier.userStatus(c.user)).toMatchObject({ locked: true });
      expect((await b.provisioner.status(c.user)).instances).toEqual([]);
    });

    it("reactivation: the old device works until the new one's first code, which revokes it in the same write; the old one is told to reactivate, nothing counted", async () => {
      const b = bank();
      const c = await customer();
      const old = (await activate(b, c)).app;
      nextStep();
      clock.advance(60_000);
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      const app = new TestApp();
      const s1 = await b.provisioner.step(app.begin(offer, { sms: await smsCode(b, c) }));
      const s2 = await b.provisioner.step(await app.bind(s1.reply, c.password));
      const pending = (await b.provisioner.status(c.user)).instances[1]!.credential;
      expect(await b.verifier.status(pending)).toMatchObject({ state: "pending", replaces: old.credential });
      expect(await login(b, old)).toMatchObject({ result: "accepted" }); // still the customer's device
      nextStep();
      app.finish((await b.provisioner.step(await app.activate(s2.reply, clock.now()))).reply);
      const instances = (await b.provisioner.status(c.user)).instances;
      expect(instances.map((i) => [i.credential, i.state, i.reason])).toEqual([
        [old.credential, "ended", "replaced"],
        [app.credential, "active", undefined],
      ]);
      nextStep();
      expect(await login(b, old)).toEqual({ result: "reactivation-required", reason: "replaced" });
      expect((await b.verifier.userStatus(c.user)).failures).toBe(0);
      expect(await login(b, app)).toMatchObject({ result: "accepted" });
      const trail = (await b.verifier.audit(old.credential)).map(
        (e) => `${e.action}:${e.result}:${e.detail ?? ""}`,
      );
      expect(trail).toContain(`revoke:ok:replaced by ${app.credential}`);
    });

    it("a new start supersedes the slot's unfinished activation: its code dies and its pending token is revoked", async () => {
      const b = bank();
      const c = await customer();
      const first = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await first.delivered;
      const app = new TestApp();
      const s1 = await b.provisioner.step(app.begin(first.offer, { sms: await smsCode(b, c) }));
      const s2 = await b.provisioner.step(await app.bind(s1.reply, c.password));
      expect(s2.outcome).toBe("bound");
      const pending = (await b.provisioner.status(c.user)).instances[0]!.credential;
      clock.advance(60_000);
      await (await b.provisioner.start({ user: c.user, appVersion: "5.2.0" })).delivered;
      await rejectedWith(
        b.provisioner.step(await app.activate(s2.reply, clock.now())),
        "ACTIVATION_CODE_DEAD",
      );
      await rejectedWith(b.verifier.status(pending), "CREDENTIAL_UNKNOWN");
      expect((await b.provisioner.status(c.user)).instances[0]).toMatchObject({
        state: "ended",
        reason: "superseded",
      });
      expect((await b.provisioner.status(c.user)).activations[1]).toMatchObject({ ended: "superseded" });
    });

    it("two first codes at once (a4 twice, a4 beside a login, the login first): one activation, one 'activate' row", async () => {
      const b = bank();
      for (const rival of ["a4", "login", "login first"] as const) {
        const c = await customer();
        const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
        await delivered;
        const app = new TestApp();
        const s1 = await b.provisioner.step(app.begin(offer, { sms: await smsCode(b, c) }));
        const s2 = await b.provisioner.step(await app.bind(s1.reply, c.password));
        const a4 = await app.activate(s2.reply, clock.now());
        const other: Promise<unknown> =
          rival === "a4"
            ? b.provisioner.step(a4)
            : b.provisioner
                .issueLoginChallenge(app.credential)
                .then(async ({ challenge }) =>
                  b.provisioner.verifyDevice(await app.login(challenge, clock.now())),
                );
        if (rival === "login first") await other;
        const [mine, theirs] = await Promise.all([b.provisioner.step(a4), other]);
        if (rival === "a4") {
          // The same request twice: one activates, the other gets its stored reply.
          const outcomes = [mine.outcome, (theirs as typeof mine).outcome].sort();
          expect(outcomes).toEqual(["activated", "retried"]);
          expect((theirs as typeof mine).reply).toBe(mine.reply);
        } else expect(mine.outcome).toBe("activated"); // the login came with a4's code: a replay, not counted
        const rows = (await b.verifier.audit(app.credential)).filter((e) => e.action === "activate");
        expect(rows).toHaveLength(1);
        expect(await b.verifier.status(app.credential)).toMatchObject({ state: "active" });
        nextStep();
      }
    });

    it("devices racing for one slot: 6 activations at once leave at most one token active in it, and none pending", async () => {
      const b = bank({ startIntervalSeconds: 0, startsPerDay: 100 });
      const c = await customer();
      const runs = Array.from({ length: 6 }, async () => {
        const app = new TestApp();
        const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
        await delivered;
        const sms = await b.outbox.list({ to: c.phone });
        const code = /(\d{4} \d{4})/.exec(sms.at(-1)!.text)![1]!;
        try {
          const s1 = await b.provisioner.step(app.begin(offer, { sms: code }));
          const s2 = await b.provisioner.step(await app.bind(s1.reply, c.password));
          app.finish((await b.provisioner.step(await app.activate(s2.reply, clock.now()))).reply);
          return "active";
        } catch (e) {
          if (isCapkitError(e)) return e.code;
          throw e;
        }
      });
      const results = await Promise.all(runs);
      const instances = (await b.provisioner.status(c.user)).instances;
      expect(instances.filter((i) => i.state === "active").length).toBeLessThanOrEqual(1);
      expect(instances.filter((i) => i.state === "pending")).toEqual([]);
      for (const r of results) expect(["active", "ACTIVATION_CODE_DEAD", "ACTIVATION_REFUSED"]).toContain(r);
      nextStep();
    });

    it("retries: the same start key sends one SMS and gives the same offer; the same step gets the same reply, nothing changed", async () => {
      const b = bank();
      const c = await customer();
      const idempotencyKey = randomBytes(16).toString("hex");
      const one = await b.provisioner.start({ user: c.user, appVersion: "5.2.0", idempotencyKey });
      const two = await b.provisioner.start({ user: c.user, appVersion: "5.2.0", idempotencyKey });
      await Promise.all([one.delivered, two.delivered]);
      expect(two.offer).toEqual(one.offer);
      expect(await b.outbox.list({ to: c.phone })).toHaveLength(1);
      const app = new TestApp();
      const a1 = app.begin(one.offer, { sms: await smsCode(b, c) });
      const first = await b.provisioner.step(a1);
      const again = await Promise.all([b.provisioner.step(a1), b.provisioner.step(a1)]);
      for (const r of again) expect(r).toEqual({ reply: first.reply, outcome: "retried" });
      expect((await b.provisioner.status(c.user)).activations[0]).toMatchObject({ tries: 1 });
      const a2 = await app.bind(first.reply, c.password);
      const bound = await b.provisioner.step(a2);
      expect(await b.provisioner.step(a2)).toEqual({ reply: bound.reply, outcome: "retried" });
      const a4 = await app.activate(bound.reply, clock.now());
      const done = await b.provisioner.step(a4);
      expect(await b.provisioner.step(a4)).toEqual({ reply: done.reply, outcome: "retried" });
      app.finish(done.reply);
      expect((await b.provisioner.status(c.user)).instances).toHaveLength(1);
      nextStep();
    });

    it("bad input at the door: typed errors, nothing stored, nothing counted", async () => {
      const b = bank({ minAppVersion: "5.0" });
      const c = await customer();
      const bad: [unknown, string][] = [
        [{ user: "", appVersion: "5.2.0" }, "INPUT_INVALID"],
        [{ user: "a b", appVersion: "5.2.0" }, "INPUT_INVALID"],
        [{ user: c.user, appVersion: 5 }, "INPUT_INVALID"],
        [{ user: c.user, appVersion: "5.2.x" }, "INPUT_INVALID"],
        [{ user: c.user, appVersion: "4.9" }, "APP_VERSION_UNSUPPORTED"],
        [{ user: c.user, appVersion: "5.2.0", slot: 2 }, "INPUT_INVALID"],
        [{ user: c.user, appVersion: "5.2.0", slot: "1" }, "INPUT_INVALID"],
        [{ user: c.user, appVersion: "5.2.0", idempotencyKey: "ABC" }, "INPUT_INVALID"],
        [null, "INPUT_INVALID"],
      ];
      for (const [req, code] of bad) await rejectedWith(b.provisioner.start(req as never), code);
      for (const request of [
        undefined,
        42,
        "{}",
        "x".repeat(9000),
        '{"v":"capkit-activation/1","type":"b1"}',
      ])
        await rejectedWith(b.provisioner.step(request), "ACTIVATION_MESSAGE_INVALID");
      await rejectedWith(
        b.provisioner.step(
          new TestApp().begin(
            {
              activationId: "0".repeat(32),
              regId: "1".repeat(32),
              serverIdentity: "x",
              features: [],
              expiresAt: 0,
            },
            { sms: "1" },
          ),
        ),
        "ACTIVATION_UNKNOWN",
      );
      for (const login of [
        null,
        { credential: "x", challenge: "0".repeat(32), code: "123456", signature: "A".repeat(88) },
        { credential: "SD1.1", challenge: "nope", code: "123456", signature: "A".repeat(88) },
        { credential: "SD1.1", challenge: "0".repeat(32), code: 123456, signature: "A".repeat(88) },
        { credential: "SD1.1", challenge: "0".repeat(32), code: "123456", signature: "AAAA" },
      ])
        await rejectedWith(b.provisioner.verifyDevice(login as never), "INPUT_INVALID");
      await rejectedWith(b.provisioner.reset(c.user, { reason: "Not A Reason" }), "INPUT_INVALID");
      await rejectedWith(b.provisioner.status("a b"), "INPUT_INVALID");
      expect(await b.provisioner.status(c.user)).toMatchObject({
        instances: [],
        activations: [],
        starts: { last24h: 0 },
      });
      expect(await b.outbox.list()).toEqual([]);
    });

    it("device logins: a wrong signature, a used or foreign challenge, an unknown instance are counted failures in the one lockout; a replayed code is not", async () => {
      const b = bank();
      const c = await customer();
      const { app } = await activate(b, c);
      nextStep();
      const { challenge } = await b.provisioner.issueLoginChallenge(app.credential);
      const good = await app.login(challenge, clock.now());
      const thief = new TestApp(); // the same serial and instance, another key
      thief.token = app.token;
      const forged = { ...good, signature: (await thief.login(challenge, clock.now(), good.code)).signature };
      expect(await b.provisioner.verifyDevice(forged)).toEqual({ result: "rejected", triesLeft: 4 });
      // The forged try used the challenge: the right proof with it is a failure too.
      expect(await b.provisioner.verifyDevice(good)).toEqual({ result: "rejected", triesLeft: 3 });
      const fresh = await app.login(
        (await b.provisioner.issueLoginChallenge(app.credential)).challenge,
        clock.now(),
      );
      expect(await b.provisioner.verifyDevice(fresh)).toMatchObject({ result: "accepted" });
      // The same code again with a new challenge: a replay, not a guess.
      const replay = await app.login(
        (await b.provisioner.issueLoginChallenge(app.credential)).challenge,
        clock.now(),
      );
      expect(await b.provisioner.verifyDevice(replay)).toEqual({ result: "rejected", replayed: true });
      expect((await b.verifier.userStatus(c.user)).failures).toBe(0);
      // Another instance's challenge, an id nobody holds: failures, counted like a known one's.
      const other = (await activate(b, await customer())).app;
      const foreign = await app.login(
        (await b.provisioner.issueLoginChallenge(other.credential)).challenge,
        clock.now(),
      );
      expect(await b.provisioner.verifyDevice(foreign)).toMatchObject({ result: "rejected", triesLeft: 4 });
      const nobody = `SD${randomInt(1e9, 1e10)}.1`;
      for (let i = 4; i >= 1; i--) {
        const { challenge: ch } = await b.provisioner.issueLoginChallenge(nobody);
        expect(await b.provisioner.verifyDevice({ ...good, credential: nobody, challenge: ch })).toEqual({
          result: "rejected",
          triesLeft: i,
        });
      }
      const { challenge: ch } = await b.provisioner.issueLoginChallenge(nobody);
      expect(await b.provisioner.verifyDevice({ ...good, credential: nobody, challenge: ch })).toEqual({
        result: "locked",
      });
      nextStep();
    });

    it("the app-version floor: an instance activated with an older app must be reactivated, told so after its proof, nothing counted", async () => {
      const c = await customer();
      const { app } = await activate(bank(), c, { app: new TestApp("4.8.1") });
      nextStep();
      const raised = bank({ minAppVersion: "5.0" });
      expect(await login(raised, app)).toEqual({ result: "reactivation-required", reason: "app-version" });
      expect((await raised.verifier.userStatus(c.user)).failures).toBe(0);
      clock.advance(60_000);
      const updated = await activate(raised, c, { app: new TestApp("5.0.0") });
      nextStep();
      expect(await login(raised, updated.app)).toMatchObject({ result: "accepted" });
    });

    it("the grace period lasts until the new instance's first accepted code", async () => {
      const b = bank({ graceSeconds: 7 * 86_400 });
      const c = await customer();
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      expect(await b.provisioner.grace(c.user)).toEqual({ until: clock.now() + 7 * 86_400_000 });
      await activate(b, c, { offer });
      expect(await b.provisioner.grace(c.user)).toBeUndefined();
      expect(await b.provisioner.grace(unknown())).toBeUndefined();
      nextStep();
    });

    it("20 PAKE runs with wrong codes at once: 5 answered, the others refused as the code dies; the right code then finds it dead", async () => {
      const b = bank();
      const c = await customer();
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      const right = await smsCode(b, c);
      const wrong = right.startsWith("0") ? "11111111" : "00000000";
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          b.provisioner.step(new TestApp().begin(offer, { sms: wrong })).then(
            (r) => r.outcome as string,
            (e) => (e as { code: string }).code,
          ),
        ),
      );
      expect(results.filter((r) => r === "answered")).toHaveLength(5);
      expect(results.filter((r) => r === "ACTIVATION_CODE_DEAD")).toHaveLength(15);
      expect((await b.provisioner.status(c.user)).activations[0]).toMatchObject({ tries: 5 });
      await rejectedWith(activate(b, c, { offer, code: right }), "ACTIVATION_CODE_DEAD");
    });

    it("device logins racing: 10 forged signatures and the right login at once — the right one is accepted only before the 5th failure", async () => {
      const b = bank();
      const c = await customer();
      const { app } = await activate(b, c);
      nextStep();
      const thief = new TestApp();
      thief.token = app.token;
      const logins = await Promise.all(
        Array.from({ length: 11 }, async (_, i) => {
          const { challenge } = await b.provisioner.issueLoginChallenge(app.credential);
          return i === 10 ? app.login(challenge, clock.now()) : thief.login(challenge, clock.now(), "000000");
        }),
      );
      const results = await Promise.all(logins.map((l) => b.provisioner.verifyDevice(l)));
      // In the order the verifier judged them (its audit): the right code is accepted only if fewer than 5
      // failures came before it since the last success, and never more than 5 failures are judged between.
      const judged = (await b.verifier.audit(c.user, 1000)).filter(
        (e) => e.action === "factor" || e.action === "verify",
      );
      let run = 0;
      for (const e of judged) {
        if (e.result === "accepted") {
          expect(run).toBeLessThan(5);
          run = 0;
        } else run++;
      }
      expect(results.filter((r) => r.result === "accepted").length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r.result === "rejected").length).toBeLessThanOrEqual(9);
      expect(await b.verifier.userStatus(c.user)).toMatchObject({ locked: true });
      nextStep();
    });

    it("the same work for a customer and an identifiant nobody holds: store calls, seals, verifier calls counted", async () => {
      const b = bank();
      const counts = new Map<string, number>();
      const count = <T extends object>(what: string, target: T): T =>
        watchCalls(target, (method) =>
          counts.set(`${what}.${method}`, (counts.get(`${what}.${method}`) ?? 0) + 1),
        );
      const verifier = count(
        "verifier",
        new Verifier({ store: count("state", fx.state), keys, now: () => clock.now() }),
      );
      const provisioner = new Provisioner({
        verifier,
        store: count("store", fx.provisioning),
        keys: count("keys", keys),
        policy: { serverIdentity: "sogesmart.example" },
        directory: async (u) => (customers.get(u) ? { phone: customers.get(u)!.phone } : undefined),
        sms: b.outbox,
        password: async () => false,
        now: () => clock.now(),
      });
      // The answer's work: the start until it answers (the SMS goes out after), then a1.
      const work = async (user: string) => {
        counts.clear();
        const { offer, delivered } = await provisioner.start({ user, appVersion: "5.2.0" });
        const start = new Map(counts);
        await delivered;
        counts.clear();
        await provisioner.step(new TestApp().begin(offer, { sms: "12345678" }));
        return { start, a1: new Map(counts) };
      };
      const known = await work((await customer()).user);
      const nobody = await work(unknown());
      expect(nobody).toEqual(known);
      expect(known.start.get("store.start")).toBe(1);
      // A login on an instance nobody holds, and on a real one with a forged signature.
      const c = await customer();
      const { app } = await activate(b, c);
      nextStep();
      const thief = new TestApp();
      thief.token = app.token;
      const login = async (credential: string) => {
        const { challenge } = await provisioner.issueLoginChallenge(credential);
        const proof = await thief.login(challenge, clock.now(), "000000");
        counts.clear();
        expect((await provisioner.verifyDevice({ ...proof, credential })).result).toBe("rejected");
        return new Map(counts);
      };
      expect(await login(`SD${randomInt(1e9, 1e10)}.1`)).toEqual(await login(app.credential));
      nextStep();
    });

    it("a pending token is activated by its first code or revoked: disabling or enabling it is refused", async () => {
      const b = bank();
      const c = await customer();
      const { offer, delivered } = await b.provisioner.start({ user: c.user, appVersion: "5.2.0" });
      await delivered;
      const app = new TestApp();
      const s1 = await b.provisioner.step(app.begin(offer, { sms: await smsCode(b, c) }));
      await b.provisioner.step(await app.bind(s1.reply, c.password));
      const pending = (await b.provisioner.status(c.user)).instances[0]!.credential;
      await rejectedWith(b.verifier.disable(pending), "INPUT_INVALID");
      await rejectedWith(b.verifier.enable(pending), "INPUT_INVALID");
      expect(await b.verifier.status(pending)).toMatchObject({ state: "pending" });
      await b.verifier.revoke(pending);
      expect((await b.provisioner.status(c.user)).instances[0]).toMatchObject({
        state: "ended",
        reason: "revoked",
      });
    });

    it("reset: activations ended, instances revoked, logins told why (after their proof), the rate cleared", async () => {
      const b = bank({ maxDevices: 2 });
      const c = await customer();
      const one = (await activate(b, c)).app;
      clock.advance(60_000);
      const two = (await activate(b, c, { slot: 2 })).app;
      clock.advance(60_000);
      await (await b.provisioner.start({ user: c.user, appVersion: "5.2.0" })).delivered;
      expect((await b.provisioner.status(c.user)).instances.map((i) => i.state)).toEqual([
        "active",
        "active",
      ]);
      expect(await b.provisioner.reset(c.user, { reason: "password-reset" })).toEqual({
        activations: 1,
        instances: 2,
      });
      nextStep();
      for (const app of [one, two])
        expect(await login(b, app)).toEqual({ result: "reactivation-required", reason: "password-reset" });
      expect((await b.provisioner.status(c.user)).starts.last24h).toBe(0);
      await (await b.provisioner.start({ user: c.user, appVersion: "5.2.0" })).delivered;
      nextStep();
    });
  });
}
