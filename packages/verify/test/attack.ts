import { randomBytes } from "node:crypto";
import { CapCodeModel, generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { FakeClock, newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type KeyProvider,
  SoftwareKeyProvider,
  type StateStore,
  sourceThrottle,
  Verifier,
} from "../src/index.js";
import { watchCalls } from "./store-writes.js";

/** A store that also says how many unknown subjects it counts (all three do). */
export type CountingStore = StateStore & { unknownCount(): Promise<number> };

/**
 * The verifier under attack (issue 20), on every store: replays are not guesses, a factor the application
 * checks shares the lockout, unknown ids and users are counted and locked like known ones with the same work,
 * and a burst of wrong codes with the right one last never gets it accepted.
 */
export function attackConformance(
  name: string,
  open: (options?: { unknownLimit?: number }) => Promise<CountingStore>,
): void {
  describe(`The verifier under attack, on ${name}`, () => {
    let store: CountingStore;
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 10, 0, 0));
    let verifier: Verifier;
    const uid = (p: string) => `${p}-${randomBytes(6).toString("hex")}`;

    beforeAll(async () => {
      store = await open();
      verifier = new Verifier({ store, keys, now: () => clock.now() });
    });
    afterAll(() => store?.close());

    /** A TOTP token; codes computed independently of the verifier (RFC 6238 through @capkit/oath). */
    const totp = async (user?: string, v = verifier) => {
      const secret = randomBytes(20);
      const id = uid("totp");
      await v.enroll({ id, kind: "totp", secret, ...(user ? { user } : {}) });
      const gen = new HotpGenerator(new HmacKey(secret), 6);
      const step = () => Math.floor(clock.now() / 30_000);
      const window = () => [-1, 0, 1].map((d) => gen.code(step() + d));
      return { id, code: () => gen.code(step()), wrong: (n: number) => wrongCodes(n, window()) };
    };
    const hotp = async () => {
      const secret = randomBytes(20);
      const id = uid("hotp");
      await verifier.enroll({ id, kind: "hotp", secret });
      return { id, gen: new HotpGenerator(new HmacKey(secret), 6) };
    };

    describe("a replay is not a guess", () => {
      it("the code just accepted, sent again: rejected with `replayed`, not counted; a wrong code still counts", async () => {
        const t = await totp();
        const c = t.code();
        expect(await verifier.verify({ id: t.id, code: c })).toMatchObject({ result: "accepted" });
        expect(await verifier.verify({ id: t.id, code: c })).toEqual({ result: "rejected", replayed: true });
        expect(await verifier.verify({ id: t.id, code: `${c.slice(0, 3)} ${c.slice(3)}` })).toEqual({
          result: "rejected",
          replayed: true,
        });
        expect((await verifier.status(t.id)).failures).toBe(0);
        expect(await verifier.verify({ id: t.id, code: t.wrong(1)[0]! })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
        // After the failure the same replay is still not counted.
        expect(await verifier.verify({ id: t.id, code: c })).toEqual({ result: "rejected", replayed: true });
        expect((await verifier.status(t.id)).failures).toBe(1);
        expect((await verifier.audit(t.id)).map((a) => a.result)).toEqual([
          "ok",
          "accepted",
          "replayed",
          "replayed",
          "rejected",
          "replayed",
        ]);
      });

      it("10 parallel submits of one valid code, by id and by user: one accepted, none counted, never locked", async () => {
        for (const by of ["id", "user", "own"] as const) {
          const user = uid("double");
          const t = await totp(by === "own" ? undefined : user);
          const c = t.code();
          const results = await Promise.all(
            Array.from({ length: 10 }, () =>
              verifier.verify(by === "user" ? { user, code: c } : { id: t.id, code: c }),
            ),
          );
          expect(
            results.filter((r) => r.result === "accepted"),
            by,
          ).toHaveLength(1);
          expect(
            results.filter((r) => r.result === "rejected" && r.replayed),
            by,
          ).toHaveLength(9);
          const s = await verifier.status(t.id);
          expect(s, by).toMatchObject({ failures: 0, locked: false });
        }
      });

      it("`requestId`: the retry of an accept answers `accepted` again; another request is a replay", async () => {
        const t = await totp();
        const c = t.code();
        const first = await verifier.verify({ id: t.id, code: c, requestId: "req-1" });
        expect(first.result).toBe("accepted");
        expect(await verifier.verify({ id: t.id, code: c, requestId: "req-1" })).toEqual({
          result: "accepted",
          counter: first.counter,
        });
        expect(await verifier.verify({ id: t.id, code: c, requestId: "req-2" })).toEqual({
          result: "rejected",
          replayed: true,
        });
        expect((await verifier.status(t.id)).failures).toBe(0);
      });

      it("only 'just' accepted: after policy.replayWindowMs, or after a newer accept, the old code counts", async () => {
        const h = await hotp();
        expect((await verifier.verify({ id: h.id, code: h.gen.code(0) })).result).toBe("accepted");
        clock.advance(verifier.policy.replayWindowMs + 1);
        expect(await verifier.verify({ id: h.id, code: h.gen.code(0) })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
        expect((await verifier.verify({ id: h.id, code: h.gen.code(1) })).result).toBe("accepted");
        expect(await verifier.verify({ id: h.id, code: h.gen.code(0) })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
      });

      it("a signature submitted twice (same challenge, amount and code) is a replay; another amount counts", async () => {
        const card = new SimulatedCard(newSimCardState("uk", "1234"));
        const id = uid("card");
        await verifier.enroll({ id, kind: "cap", record: card.issuerRecord() });
        const ch = await verifier.issueChallenge(id, "sign");
        const s = await generateCapCode(
          card,
          { mode: "sign", challenge: ch.challenge, amount: "250.00" },
          { pin: "1234", profile: readerProfile(card.profile.readerProfile) },
        );
        const req = {
          id,
          code: s.code,
          function: "sign",
          challengeId: ch.challengeId,
          amount: "250.00",
        } as const;
        expect((await verifier.verify(req)).result).toBe("accepted");
        expect(await verifier.verify(req)).toEqual({ result: "rejected", replayed: true });
        expect(await verifier.verify({ ...req, amount: "999.00" })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
      });
    });

    describe("checkFactor: the application's own factor in the same count and lockout", () => {
      it("password failures and code failures add up; the 5th locks; ok while locked is 'locked', nothing changed", async () => {
        const user = uid("customer");
        const t = await totp(user);
        const pw = (ok: boolean) => verifier.checkFactor({ user, factor: "password", ok });
        expect(await pw(false)).toEqual({ result: "rejected", triesLeft: 4 });
        expect(await verifier.verify({ id: t.id, code: t.wrong(1)[0]! })).toEqual({
          result: "rejected",
          triesLeft: 3,
        });
        expect(await pw(true)).toEqual({ result: "accepted" });
        expect((await verifier.userStatus(user)).failures).toBe(0);
        for (let i = 4; i >= 1; i--) expect(await pw(false)).toEqual({ result: "rejected", triesLeft: i });
        expect(await verifier.verify({ user, code: t.wrong(1)[0]! })).toEqual({ result: "locked" });
        expect(await pw(false)).toEqual({ result: "locked" });
        expect(await pw(true)).toEqual({ result: "locked" });
        expect(await verifier.userStatus(user)).toMatchObject({ locked: true, failures: 6 });
        expect((await verifier.verify({ id: t.id, code: t.code() })).result).toBe("locked");
        await verifier.unlockUser(user);
        expect(await pw(true)).toEqual({ result: "accepted" });
        const trail = (await verifier.audit(user)).filter((a) => a.action === "factor");
        expect(trail.map((a) => `${a.result}:${a.detail}`)).toContain("locked:password");
        expect(trail.every((a) => a.detail === "password")).toBe(true);
      });

      it("a user registered with addUser (a password only) and a user nobody registered lock alike", async () => {
        const registered = uid("pw-only");
        await verifier.addUser(registered);
        await verifier.addUser(registered); // idempotent
        const stranger = uid("stranger");
        for (const user of [registered, stranger]) {
          const answers = [];
          for (let i = 0; i < 6; i++)
            answers.push(await verifier.checkFactor({ user, factor: "password", ok: false }));
          answers.push(await verifier.checkFactor({ user, factor: "password", ok: true }));
          expect(answers, user).toEqual(SEVEN_FAILURES);
        }
        expect(await verifier.userStatus(registered)).toMatchObject({ locked: true, credentials: [] });
        await expect(verifier.userStatus(stranger)).rejects.toMatchObject({ code: "CREDENTIAL_UNKNOWN" });
      });

      it("bad arguments are INPUT_INVALID, nothing counted", async () => {
        const user = uid("args");
        await verifier.addUser(user);
        for (const bad of [
          { user, factor: "password", ok: "yes" },
          { user, factor: "", ok: false },
          { user, factor: "pass word", ok: false },
          { user: "bad user!", factor: "password", ok: false },
        ])
          await expect(verifier.checkFactor(bad as never)).rejects.toMatchObject({ code: "INPUT_INVALID" });
        expect((await verifier.userStatus(user)).failures).toBe(0);
      });
    });

    describe("unknown ids and users are counted and locked like known ones", () => {
      it("the same answers, triesLeft included, for a known and an unknown id, by id and by user", async () => {
        const user = uid("known-user");
        const t = await totp(user);
        const codes = t.wrong(7);
        const answers = async (req: (code: string) => Parameters<Verifier["verify"]>[0]) => {
          const out = [];
          for (const code of codes) out.push(await verifier.verify(req(code)));
          return out;
        };
        const expected = SEVEN_FAILURES;
        expect(await answers((code) => ({ id: t.id, code }))).toEqual(expected);
        const nobody = uid("nobody");
        expect(await answers((code) => ({ id: nobody, code }))).toEqual(expected);
        await verifier.unlockUser(user);
        expect(await answers((code) => ({ user, code }))).toEqual(expected);
        const stranger = uid("stranger");
        expect(await answers((code) => ({ user: stranger, code }))).toEqual(expected);
        expect((await verifier.audit(nobody)).map((a) => a.result)).toEqual([
          "unknown",
          "unknown",
          "unknown",
          "unknown",
          "locked",
          "locked",
          "locked",
        ]);
      });

      it("a second verifier (another server) sees an unknown id's lock; enrolling the id there makes it known here", async () => {
        const other = new Verifier({ store, keys, now: () => clock.now() });
        const id = uid("later");
        for (let i = 0; i < 5; i++) await other.verify({ id, code: "000000" });
        expect(await verifier.verify({ id, code: "000000" })).toEqual({ result: "locked" });
        const secret = randomBytes(20);
        await other.enroll({ id, kind: "hotp", secret });
        const gen = new HotpGenerator(new HmacKey(secret), 6);
        expect(await verifier.verify({ id, code: gen.code(0) })).toMatchObject({
          result: "accepted",
          counter: 0,
        });
      });

      it("bounded: beyond the store's limit the oldest unknown subjects are dropped", async () => {
        const small = await open({ unknownLimit: 3 });
        try {
          const v = new Verifier({ store: small, keys, now: () => clock.now() });
          const ids = Array.from({ length: 5 }, () => uid("flood"));
          for (const id of ids) await v.verify({ id, code: "000000" });
          expect(await small.unknownCount()).toBe(3);
          for (let i = 0; i < 4; i++) await v.verify({ id: ids[4]!, code: "000000" });
          expect(await v.verify({ id: ids[4]!, code: "000000" })).toEqual({ result: "locked" });
          // Tried again or not, it goes when three newer ones have come: the table holds the newest three.
          for (let i = 0; i < 3; i++) await v.verify({ id: uid("flood"), code: "000000" });
          expect(await small.unknownCount()).toBe(3);
          expect(await v.verify({ id: ids[4]!, code: "000000" })).toEqual({
            result: "rejected",
            triesLeft: 4,
          });
        } finally {
          await small.close();
        }
      });
    });

    describe("every path does the same work whether the subject exists, is locked, or the code is right", () => {
      it("store calls, key-provider calls and MACs per path (TOTP and CAP)", async () => {
        const work = countWork();
        try {
          const w = { store: work.store(store), keys: work.keys(keys) };
          // A verifier with an empty cache, like a server just started.
          const v = new Verifier({ store: w.store, keys: w.keys, now: () => clock.now() });
          const user = uid("work-user");
          const t = await totp(user, v);
          const other = await totp(undefined, v);
          const ghost = uid("ghost");
          const wrong = t.wrong(1)[0]!;
          // The credential loaded last is the one an unknown id is judged like: load `other` first.
          await v.verify({ id: other.id, code: wrong });
          const first = [await work.of(() => v.verify({ id: t.id, code: wrong }))];
          first.push(await work.of(() => v.verify({ id: ghost, code: wrong })));
          const again = [await work.of(() => v.verify({ id: t.id, code: wrong }))];
          again.push(await work.of(() => v.verify({ id: ghost, code: wrong })));
          for (let i = 0; i < 3; i++) {
            await v.verify({ id: t.id, code: wrong });
            await v.verify({ id: ghost, code: wrong });
          }
          const rightCode = t.code(); // computed here: the HMACs counted are the verifier's only
          const locked = [
            await work.of(() => v.verify({ id: t.id, code: rightCode })),
            await work.of(() => v.verify({ id: t.id, code: wrong })),
            await work.of(() => v.verify({ id: ghost, code: rightCode })),
          ];
          expect(locked.map((x) => x.result)).toEqual(["locked", "locked", "locked"]);
          // By user: a user none of whose credentials this verifier has read yet, and a user nobody enrolled;
          // then each once more.
          const user2 = uid("work-user");
          await totp(user2, v);
          const ghostUser = uid("ghost-user");
          const byUser = [
            await work.of(() => v.verify({ user: user2, code: wrong })),
            await work.of(() => v.verify({ user: ghostUser, code: wrong })),
          ];
          const byUserAgain = [
            await work.of(() => v.verify({ user: user2, code: wrong })),
            await work.of(() => v.verify({ user: ghostUser, code: wrong })),
          ];
          const factor = [
            await work.of(() => v.checkFactor({ user, factor: "password", ok: false })),
            await work.of(() => v.checkFactor({ user: uid("ghost-user"), factor: "password", ok: false })),
          ];
          for (const [what, paths] of Object.entries({ first, again, locked, byUser, byUserAgain, factor })) {
            const [a, ...rest] = paths.map((p) => p.work);
            for (const b of rest) expect(b, what).toEqual(a);
          }
          expect(first[0]!.work).toEqual({ store: 2, keys: 1, macs: 3 });
          expect(again[0]!.work).toEqual({ store: 1, keys: 0, macs: 3 });
          expect(locked[0]!.work).toEqual({ store: 1, keys: 0, macs: 3 });

          // CAP: a card, and an unknown id judged like it (the card loaded last).
          const card = new SimulatedCard(newSimCardState("sesame", "1234"));
          const cardId = uid("card");
          await v.enroll({ id: cardId, kind: "cap", record: card.issuerRecord() });
          const rp = readerProfile(card.profile.readerProfile);
          const right = await generateCapCode(card, { mode: "identify" }, { pin: "1234", profile: rp });
          const bad = String((Number(right.code) + 1) % 1e8).padStart(8, "0");
          const cap = [
            await work.of(() => v.verify({ id: cardId, code: bad })),
            await work.of(() => v.verify({ id: uid("ghost-card"), code: bad })),
          ];
          expect(cap[1]!.work).toEqual(cap[0]!.work);
          expect(cap[0]!.work.macs).toBeGreaterThan(0);
          // A challenge for a card this verifier has not read yet, and for an id nobody holds; then again.
          const card2 = uid("card");
          await v.enroll({
            id: card2,
            kind: "cap",
            record: new SimulatedCard(newSimCardState("sesame", "1234")).issuerRecord(),
          });
          const ghostCard = uid("ghost-card");
          for (let round = 0; round < 2; round++) {
            const ch = [
              await work.of(() => v.issueChallenge(card2, "respond")),
              await work.of(() => v.issueChallenge(ghostCard, "respond")),
            ];
            expect(ch[1]!.work, `challenge, round ${round}`).toEqual(ch[0]!.work);
          }
          // A response to a challenge issued for each (an unknown id's is never stored), and to none.
          const issued = [
            await v.issueChallenge(card2, "respond"),
            await v.issueChallenge(ghostCard, "respond"),
          ];
          const respond = [
            await work.of(() =>
              v.verify({ id: card2, code: bad, function: "respond", challengeId: issued[0]!.challengeId }),
            ),
            await work.of(() =>
              v.verify({
                id: ghostCard,
                code: bad,
                function: "respond",
                challengeId: issued[1]!.challengeId,
              }),
            ),
          ];
          expect(respond[1]!.work).toEqual(respond[0]!.work);
          expect(respond[0]!.work.macs).toBeGreaterThan(0);
        } finally {
          work.restore();
        }
      });
    });

    describe("options a bank expects", () => {
      it("a timed release of the lockout (policy.lockoutReleaseMs, off by default): the count starts again", async () => {
        const timed = new Verifier({
          store,
          keys,
          now: () => clock.now(),
          policy: { lockoutReleaseMs: 60_000 },
        });
        const user = uid("timed");
        const t = await totp(user, timed);
        const own = await totp(undefined, timed);
        const nobody = uid("timed-nobody");
        const stranger = uid("timed-stranger");
        const lock = async () => {
          for (let i = 0; i < 5; i++) {
            await timed.verify({ id: own.id, code: own.wrong(1)[0]! });
            await timed.verify({ user, code: t.wrong(1)[0]! });
            await timed.verify({ id: nobody, code: "000000" });
            await timed.checkFactor({ user: stranger, factor: "password", ok: false });
          }
        };
        await lock();
        clock.advance(59_999);
        expect((await timed.verify({ id: own.id, code: own.code() })).result).toBe("locked");
        expect((await timed.verify({ id: t.id, code: t.code() })).result).toBe("locked");
        expect(await timed.verify({ id: nobody, code: "000000" })).toEqual({ result: "locked" });
        expect(await timed.checkFactor({ user: stranger, factor: "password", ok: true })).toEqual({
          result: "locked",
        });
        // The attempts while locked keep counting but do not move the release: it counts from the lock.
        clock.advance(1);
        expect((await timed.userStatus(user)).locked).toBe(false);
        expect((await timed.status(own.id)).locked).toBe(false);
        expect((await timed.verify({ id: own.id, code: own.code() })).result).toBe("accepted");
        expect(await timed.verify({ user, code: t.wrong(1)[0]! })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
        expect(await timed.verify({ id: nobody, code: "000000" })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
        expect(await timed.checkFactor({ user: stranger, factor: "password", ok: true })).toEqual({
          result: "accepted",
        });
        // Off by default: the same wait lifts nothing.
        const forever = await totp();
        for (let i = 0; i < 5; i++) await verifier.verify({ id: forever.id, code: forever.wrong(1)[0]! });
        clock.advance(365 * 86_400_000);
        expect((await verifier.verify({ id: forever.id, code: forever.code() })).result).toBe("locked");
      });
    });

    describe("a per-source throttle", () => {
      it("sourceThrottle: a source past its rate is refused RATE_LIMITED, nothing judged or counted; others go on", async () => {
        const seen: unknown[] = [];
        const limit = sourceThrottle({ perMinute: 3, burst: 3, now: () => clock.now() });
        const v = new Verifier({
          store,
          keys,
          now: () => clock.now(),
          throttle: (r) => {
            seen.push(r);
            return limit(r);
          },
        });
        const user = uid("spray");
        const t = await totp(user, v);
        // One address, one password, many ids (a spray): the burst, then refused.
        for (let i = 0; i < 3; i++)
          expect((await v.verify({ id: uid("ghost"), code: "000000", source: "198.51.100.7" })).result).toBe(
            "rejected",
          );
        const refused = await v
          .verify({ user, code: t.code(), source: "198.51.100.7" })
          .catch((e: unknown) => e);
        expect(refused).toMatchObject({ code: "RATE_LIMITED", details: { retryAfterMs: 20_000 } });
        await expect(
          v.checkFactor({ user, factor: "password", ok: false, source: "198.51.100.7" }),
        ).rejects.toMatchObject({ code: "RATE_LIMITED" });
        await expect(v.issueChallenge(t.id, "respond", { source: "198.51.100.7" })).rejects.toMatchObject({
          code: "RATE_LIMITED",
        });
        expect((await v.userStatus(user)).failures).toBe(0); // refused attempts are not counted
        // Another source, and attempts naming none, go on; the first source again after its wait.
        expect((await v.verify({ user, code: t.code(), source: "203.0.113.9" })).result).toBe("accepted");
        clock.advance(30_000); // past the wait, and the next TOTP step (the last one's code was just used)
        expect((await v.verify({ user, code: t.code(), source: "198.51.100.7" })).result).toBe("accepted");
        expect(seen[3]).toEqual({ source: "198.51.100.7", action: "verify", id: undefined, user });
        await expect(v.verify({ user, code: "1", source: "bad source" })).rejects.toMatchObject({
          code: "INPUT_INVALID",
        });
      });
    });

    describe("the door: bad arguments are INPUT_INVALID (or another typed error) with a message true to the cause, nothing written", () => {
      it("every method, every argument", async () => {
        const t = await totp();
        const card = new SimulatedCard(newSimCardState("sesame", "1234"));
        const record = card.issuerRecord();
        const ch = "0".repeat(32);
        let writes = 0;
        const watched = watchCalls(store, (method) => {
          if (!["get", "list", "user", "audit"].includes(method)) writes++;
        });
        const v = new Verifier({ store: watched, keys, now: () => clock.now() });
        const id = t.id;
        const cases: [string, () => Promise<unknown> | unknown, string, RegExp][] = [
          [
            "neither id nor user",
            () => v.verify({ code: "123456" } as never),
            "INPUT_INVALID",
            /needs an id or a user/,
          ],
          [
            "both",
            () => v.verify({ id, user: "u", code: "123456" }),
            "INPUT_INVALID",
            /an id or a user, not both/,
          ],
          [
            "a JSON number",
            () => v.verify({ id, code: 123456 as never }),
            "INPUT_INVALID",
            /string, as typed \(got number\)/,
          ],
          [
            "a code too long",
            () => v.verify({ id, code: "1".repeat(65) }),
            "INPUT_INVALID",
            /at most 64 characters/,
          ],
          [
            "a NUL in the id",
            () => v.verify({ id: "a\u0000b", code: "1" }),
            "INPUT_INVALID",
            /credential id is 1–128/,
          ],
          [
            "an id too long",
            () => v.verify({ id: "x".repeat(129), code: "1" }),
            "INPUT_INVALID",
            /credential id is 1–128/,
          ],
          [
            "an object for an id",
            () => v.verify({ id: {} as never, code: "1" }),
            "INPUT_INVALID",
            /credential id is/,
          ],
          ["a user id", () => v.verify({ user: "u u", code: "1" }), "INPUT_INVALID", /user id is 1–128/],
          [
            "a function",
            () => v.verify({ id, code: "1", function: "constructor" as never }),
            "INPUT_INVALID",
            /function is one of/,
          ],
          [
            "respond without challenge",
            () => v.verify({ id, code: "1", function: "respond" }),
            "INPUT_INVALID",
            /answers a challenge/,
          ],
          [
            "identify with a challenge",
            () => v.verify({ id, code: "1", function: "identify", challengeId: ch }),
            "INPUT_INVALID",
            /identify takes no challenge/,
          ],
          [
            "a challenge id",
            () => v.verify({ id, code: "1", challengeId: "xyz" }),
            "INPUT_INVALID",
            /32 hex digits/,
          ],
          [
            "an amount",
            () => v.verify({ id, code: "1", function: "sign", challengeId: ch, amount: "1.234" }),
            "INPUT_INVALID",
            /amount must look like 1234.56/,
          ],
          [
            "an amount without sign",
            () => v.verify({ id, code: "1", amount: "12.00" }),
            "INPUT_INVALID",
            /go with function sign/,
          ],
          [
            "sign without amount",
            () => v.verify({ id, code: "1", function: "sign", challengeId: ch }),
            "INPUT_INVALID",
            /sign needs the amount/,
          ],
          [
            "a currency",
            () =>
              v.verify({ id, code: "1", function: "sign", challengeId: ch, amount: "1", currency: "EUR" }),
            "INPUT_INVALID",
            /3-digit ISO 4217/,
          ],
          [
            "TDS numbers",
            () => v.verify({ id, code: "1", tds: [1234] as never }),
            "INPUT_INVALID",
            /array of 1 to 10 strings/,
          ],
          [
            "a request id",
            () => v.verify({ id, code: "1", requestId: "bad id!" }),
            "INPUT_INVALID",
            /request id is 1–128/,
          ],
          [
            "a typo",
            () => v.verify({ id, code: "1", challengeID: ch } as never),
            "INPUT_INVALID",
            /unknown field "challengeID"/,
          ],
          ["no request", () => v.verify(null as never), "INPUT_INVALID", /request is an object/],
          [
            "by user with a challenge",
            () => v.verify({ user: "u", code: "1", function: "respond", challengeId: ch }),
            "INPUT_INVALID",
            /by user, only identify/,
          ],
          [
            "resync's code",
            () => v.resync(id, 123456 as never, "1"),
            "INPUT_INVALID",
            /first code is a string/,
          ],
          [
            "a factor's ok",
            () => v.checkFactor({ user: "u", factor: "password", ok: 1 as never }),
            "INPUT_INVALID",
            /ok is true or false/,
          ],
          [
            "a factor's name",
            () => v.checkFactor({ user: "u", factor: "pass word", ok: false }),
            "INPUT_INVALID",
            /factor is named by/,
          ],
          [
            "a kind",
            () => v.enroll({ id: uid("k"), kind: "constructor" } as never),
            "CREDENTIAL_INVALID",
            /kind is one of cap, hotp, totp, ocra/,
          ],
          [
            "a profile",
            () => v.enroll({ id: uid("k"), kind: "cap", record: { ...record, profile: "constructor" } }),
            "PROFILE_INVALID",
            /unknown reader profile "constructor"/,
          ],
          [
            "a CVN",
            () =>
              v.enroll({
                id: uid("k"),
                kind: "cap",
                record: { ...record, cryptogramVersion: "constructor" },
              }),
            "PROFILE_INVALID",
            /unknown cryptogram version "constructor"/,
          ],
          [
            "a challenge's function",
            () => v.issueChallenge(id, "identify" as never),
            "INPUT_INVALID",
            /respond, sign or ocra/,
          ],
          [
            "a page size",
            () => v.list({ limit: 0 }),
            "INPUT_INVALID",
            /page size \(limit\) must be an integer from 1 to 1000/,
          ],
          ["an audit limit", () => v.audit(id, 1.5), "INPUT_INVALID", /number of entries \(limit\)/],
          ["a date", () => v.pruneAudit(new Date(Number.NaN)), "INPUT_INVALID", /valid Date/],
          [
            "a policy",
            () => new Verifier({ store, keys, policy: { maxFailures: 0 } }),
            "INPUT_INVALID",
            /policy.maxFailures must be an integer from 1/,
          ],
          [
            "a policy field",
            () => new Verifier({ store, keys, policy: { constructor: 1 } as never }),
            "INPUT_INVALID",
            /unknown field "constructor"/,
          ],
          [
            "a cache size",
            () => new Verifier({ store, keys, cacheSize: Number.NaN }),
            "INPUT_INVALID",
            /options.cacheSize/,
          ],
          [
            "a prototype name is an id like any other",
            () => v.status("constructor"),
            "CREDENTIAL_UNKNOWN",
            /no credential constructor/,
          ],
        ];
        for (const [what, call, code, message] of cases) {
          const before = writes;
          const e = await (async () => call())().then(
            () => undefined,
            (x: unknown) => x,
          );
          expect(e, what).toMatchObject({ code, message: expect.stringMatching(message) });
          expect(writes, `${what}: nothing written`).toBe(before);
        }
        expect((await v.status(id)).failures).toBe(0);
      });
    });

    describe("the lockout is exact under concurrency: a burst of wrong codes with the right one last", () => {
      for (const n of [50, 200, 1000]) {
        for (const by of ["id", "user's credential by id", "user"] as const) {
          it(`${n} codes by ${by}: none accepted, every one counted, locked`, async () => {
            const user = uid("burst");
            const t = await totp(by === "id" ? undefined : user);
            const wrong = t.wrong(n - 1);
            const req = (code: string) => (by === "user" ? { user, code } : { id: t.id, code });
            const results = await Promise.all([...wrong, t.code()].map((code) => verifier.verify(req(code))));
            expect(results.filter((r) => r.result === "accepted")).toHaveLength(0);
            expect(results.at(-1)).toEqual({ result: "locked" });
            expect(await verifier.status(t.id)).toMatchObject({ failures: n, locked: true });
          }, 60_000);
        }
      }
    });
  });
}

/** The answers to 7 attempts in a row, none accepted: the 5th failure locks, and then even a right one is "locked". */
const SEVEN_FAILURES = [
  { result: "rejected", triesLeft: 4 },
  { result: "rejected", triesLeft: 3 },
  { result: "rejected", triesLeft: 2 },
  { result: "rejected", triesLeft: 1 },
  { result: "locked" },
  { result: "locked" },
  { result: "locked" },
];

/** `n` distinct 6-digit codes, none of them in `exclude` (the codes that would be right). */
export function wrongCodes(n: number, exclude: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 100_000; out.length < n; i++) {
    const c = String(i);
    if (!exclude.includes(c)) out.push(c);
  }
  return out;
}

/**
 * Counts the work of one call: store operations (every method call), key-provider calls, and MACs — HMACs of
 * OATH codes (HmacKey.truncatedCounter) and CAP cryptograms (each call of a CapCodeModel's code function).
 */
function countWork() {
  const n = { store: 0, keys: 0, macs: 0 };
  const hmac = HmacKey.prototype.truncatedCounter;
  const forInputs = CapCodeModel.prototype.forInputs;
  HmacKey.prototype.truncatedCounter = function (this: HmacKey, ...a: [number, number]) {
    n.macs++;
    return hmac.apply(this, a);
  };
  CapCodeModel.prototype.forInputs = function (this: CapCodeModel, ...a: Parameters<typeof forInputs>) {
    const f = forInputs.apply(this, a);
    return (atc: number) => {
      n.macs++;
      return f(atc);
    };
  };
  const counted = <T extends object>(target: T, field: "store" | "keys"): T =>
    watchCalls(target, () => n[field]++);
  return {
    store: (s: StateStore) => counted(s, "store"),
    keys: (k: KeyProvider) => counted(k, "keys"),
    async of<T>(f: () => Promise<T>): Promise<{ result: unknown; work: typeof n }> {
      n.store = n.keys = n.macs = 0;
      const r = await f();
      return { result: (r as { result?: unknown }).result, work: { ...n } };
    },
    restore() {
      HmacKey.prototype.truncatedCounter = hmac;
      CapCodeModel.prototype.forInputs = forInputs;
    },
  };
}
