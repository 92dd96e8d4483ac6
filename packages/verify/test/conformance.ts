import { randomBytes } from "node:crypto";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator, Ocra } from "@capkit/oath";
import { FakeClock, newSimCardState, SgpassToken, SimulatedCard } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";

/**
 * One behaviour, three stores: every StateStore must pass this suite (docs/architecture.md §6). Credentials get fresh ids per
 * test, so one store serves the whole suite.
 */
export function conformance(
  name: string,
  open: () => Promise<StateStore>,
  close?: () => Promise<void>,
): void {
  describe(`Verifier on ${name}`, () => {
    let store: StateStore;
    const material = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
    const keys = new SoftwareKeyProvider(material);
    const clock = new FakeClock(Date.UTC(2026, 10, 23, 10, 0, 0));
    let verifier: Verifier;
    const uid = (p: string) => `${p}-${randomBytes(6).toString("hex")}`;
    const pin = "1234";

    beforeAll(async () => {
      store = await open();
      verifier = new Verifier({ store, keys, now: () => clock.now() });
    });
    afterAll(async () => {
      await store?.close();
      await close?.();
    });

    const capCard = async (profile = "sesame") => {
      const card = new SimulatedCard(newSimCardState(profile, pin));
      const id = uid("card");
      await verifier.enroll({ id, kind: "cap", record: card.issuerRecord() });
      const rp = readerProfile(card.profile.readerProfile);
      return {
        card,
        id,
        code: (inputs: Parameters<typeof generateCapCode>[1] = { mode: "identify" }) =>
          generateCapCode(card, inputs, { pin, profile: rp }),
      };
    };
    const totpToken = async () => {
      const secret = randomBytes(20);
      const id = uid("token");
      await verifier.enroll({ id, kind: "totp", secret });
      return { id, token: new SgpassToken({ kind: "totp", secret, clock }) };
    };

    it("Sésame CAP codes: accepted once, replay and stale ATC rejected, '1234 5678' accepted as typed", async () => {
      const { id, code } = await capCard();
      const older = await code();
      const newer = await code();
      expect(await verifier.verify({ id, code: newer.display })).toMatchObject({
        result: "accepted",
        counter: newer.atc,
      });
      expect((await verifier.verify({ id, code: newer.code })).result).toBe("rejected");
      expect((await verifier.verify({ id, code: older.code })).result).toBe("rejected");
      const next = await code();
      expect((await verifier.verify({ id, code: next.code })).result).toBe("accepted");
      expect((await verifier.status(id)).failures).toBe(0);
    });

    it("SGpass TOTP codes: accepted once; the next step's code is accepted; non-numeric input is a failure", async () => {
      const { id, token } = await totpToken();
      const c1 = token.press().code!;
      expect((await verifier.verify({ id, code: c1 })).result).toBe("accepted");
      expect((await verifier.verify({ id, code: c1 })).result).toBe("rejected");
      clock.advance(30_000);
      expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted");
      expect((await verifier.verify({ id, code: "12a456" })).result).toBe("rejected");
      expect((await verifier.status(id)).failures).toBe(1); // the acceptance in between reset the count
    });

    it("HOTP: look-ahead, and resync with two consecutive codes beyond it", async () => {
      const secret = randomBytes(20);
      const id = uid("hotp");
      await verifier.enroll({ id, kind: "hotp", secret });
      const t = new SgpassToken({ kind: "hotp", secret, clock });
      for (let i = 0; i < 5; i++) t.press();
      expect(await verifier.verify({ id, code: t.press().code! })).toMatchObject({
        result: "accepted",
        counter: 5,
        offset: 5,
      });
      for (let i = 0; i < 50; i++) t.press();
      const far = t.press().code!;
      expect((await verifier.verify({ id, code: far })).result).toBe("rejected");
      const a = t.press().code!;
      const b = t.press().code!;
      expect(await verifier.resync(id, a, b)).toMatchObject({ result: "accepted", counter: 58 });
      expect((await verifier.verify({ id, code: t.press().code! })).result).toBe("accepted");
    });

    it("CAP resync: a card that ran past the ATC window comes back with two consecutive codes", async () => {
      const { id, code } = await capCard();
      for (let i = 0; i < 300; i++) await code();
      const lost = await code();
      expect((await verifier.verify({ id, code: lost.code })).result).toBe("rejected");
      const a = await code();
      const b = await code();
      expect(await verifier.resync(id, a.code, b.code)).toMatchObject({ result: "accepted", counter: b.atc });
      expect((await verifier.verify({ id, code: (await code()).code })).result).toBe("accepted");
    });

    it("lockout: success resets the count; the 5th consecutive failure locks, then even a valid code is 'locked' until unlock", async () => {
      const { id, code } = await capCard();
      for (let i = 0; i < 4; i++)
        expect((await verifier.verify({ id, code: "00000000" })).result).toBe("rejected");
      expect((await verifier.verify({ id, code: (await code()).code })).result).toBe("accepted");
      for (let i = 0; i < 4; i++) await verifier.verify({ id, code: "00000000" });
      expect((await verifier.verify({ id, code: "00000000" })).result).toBe("locked");
      const valid = await code();
      expect((await verifier.verify({ id, code: valid.code })).result).toBe("locked");
      expect((await verifier.status(id)).locked).toBe(true);
      await verifier.unlock(id);
      expect((await verifier.verify({ id, code: valid.code })).result).toBe("accepted");
    });

    it("respond: a CSPRNG challenge, bound to its function, used once, expiring", async () => {
      const { id, code } = await capCard();
      const ch = await verifier.issueChallenge(id, "respond");
      expect(ch.challenge).toMatch(/^[1-9][0-9]{7}$/);
      const r = await code({ mode: "respond", challenge: ch.challenge });
      expect((await verifier.verify({ id, code: r.code, function: "identify" })).result).toBe("rejected");
      expect(
        (
          await verifier.verify({
            id,
            code: r.code,
            function: "sign",
            challengeId: ch.challengeId,
            amount: "1",
          })
        ).result,
      ).toBe("rejected");
      const ch2 = await verifier.issueChallenge(id, "respond");
      const r2 = await code({ mode: "respond", challenge: ch2.challenge });
      expect(
        (await verifier.verify({ id, code: r2.code, function: "respond", challengeId: ch2.challengeId }))
          .result,
      ).toBe("accepted");
      const r3 = await code({ mode: "respond", challenge: ch2.challenge });
      expect(
        (await verifier.verify({ id, code: r3.code, function: "respond", challengeId: ch2.challengeId }))
          .result,
      ).toBe("rejected");
      const ch3 = await verifier.issueChallenge(id, "respond");
      const r4 = await code({ mode: "respond", challenge: ch3.challenge });
      clock.advance(verifier.policy.challengeTtlMs + 1);
      expect(
        (await verifier.verify({ id, code: r4.code, function: "respond", challengeId: ch3.challengeId }))
          .result,
      ).toBe("rejected");
      await verifier.unlock(id);
    });

    it("sign binds the amount; identify with TDS binds the numbers", async () => {
      const { id, code } = await capCard("uk");
      const ch = await verifier.issueChallenge(id, "sign");
      const s = await code({ mode: "sign", challenge: ch.challenge, amount: "250.00" });
      const ch2 = await verifier.issueChallenge(id, "sign");
      const s2 = await code({ mode: "sign", challenge: ch2.challenge, amount: "250.00" });
      expect(
        (
          await verifier.verify({
            id,
            code: s.code,
            function: "sign",
            challengeId: ch.challengeId,
            amount: "999.00",
          })
        ).result,
      ).toBe("rejected");
      expect(
        (
          await verifier.verify({
            id,
            code: s2.code,
            function: "sign",
            challengeId: ch2.challengeId,
            amount: "250.00",
          })
        ).result,
      ).toBe("accepted");
      const t = await code({ mode: "identify", tds: ["1234", "5678"] });
      expect((await verifier.verify({ id, code: t.code, tds: ["1234", "5679"] })).result).toBe("rejected");
      const t2 = await code({ mode: "identify", tds: ["1234", "5678"] });
      expect((await verifier.verify({ id, code: t2.code, tds: ["1234", "5678"] })).result).toBe("accepted");
    });

    it("OCRA challenge/response (keypad SGpass)", async () => {
      const secret = randomBytes(32);
      const id = uid("ocra");
      const suite = "OCRA-1:HOTP-SHA256-8:QN08";
      await verifier.enroll({ id, kind: "ocra", secret, suite });
      const token = new SgpassToken({ kind: "totp", secret, ocraSuite: suite, clock });
      const ch = await verifier.issueChallenge(id, "ocra");
      const response = token.respond(ch.challenge);
      expect((await verifier.verify({ id, code: response, challengeId: ch.challengeId })).result).toBe(
        "accepted",
      );
      expect((await verifier.verify({ id, code: response, challengeId: ch.challengeId })).result).toBe(
        "rejected",
      );
    });

    it("OCRA windows are frozen at enrolment: a later policy moves neither the look-ahead nor the time steps", async () => {
      const secret = randomBytes(20);
      const now = () => clock.now();
      const narrow = new Verifier({
        store,
        keys,
        now,
        policy: { hotpLookAhead: 2, totpPast: 0, totpFuture: 0 },
      });
      const wide = new Verifier({
        store,
        keys,
        now,
        policy: { hotpLookAhead: 50, totpPast: 5, totpFuture: 5 },
      });
      const counted = { id: uid("ocra-c"), suite: "OCRA-1:HOTP-SHA1-6:C-QN08" };
      const timed = { id: uid("ocra-t"), suite: "OCRA-1:HOTP-SHA1-6:QN08-T1M" };
      for (const t of [counted, timed])
        await narrow.enroll({ id: t.id, kind: "ocra", secret, suite: t.suite });
      const answer = async (t: typeof counted, input: { counter?: number; time?: number }) => {
        const ch = await wide.issueChallenge(t.id, "ocra");
        const code = new Ocra(t.suite, secret).response({ challenge: ch.challenge, ...input });
        return (await wide.verify({ id: t.id, code, challengeId: ch.challengeId })).result;
      };
      // Counters 0–2 (look-ahead 2 at enrolment), though the policy now says 50.
      expect(await answer(counted, { counter: 5 })).toBe("rejected");
      expect(await answer(counted, { counter: 2 })).toBe("accepted");
      // The current step only (±0 at enrolment), though the policy now says ±5.
      const seconds = Math.floor(clock.now() / 1000);
      expect(await answer(timed, { time: seconds - 60 })).toBe("rejected");
      expect(await answer(timed, { time: seconds })).toBe("accepted");
    });

    it("32 concurrent verifications of one valid code accept exactly one", async () => {
      const { id, token } = await totpToken();
      const c = token.press().code!;
      const results = await Promise.all(Array.from({ length: 32 }, () => verifier.verify({ id, code: c })));
      expect(results.filter((r) => r.result === "accepted")).toHaveLength(1);
    });

    it("100 concurrent wrong codes: the failure count is exact and the credential locked", async () => {
      const { id } = await capCard();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => verifier.verify({ id, code: String(10_000_000 + i) })),
      );
      expect(results.every((r) => r.result !== "accepted")).toBe(true);
      const s = await verifier.status(id);
      expect(s).toMatchObject({ failures: 100, locked: true });
    });

    it("keeps an audit trail without secrets", async () => {
      const { id, token } = await totpToken();
      await verifier.verify({ id, code: token.press().code! });
      await verifier.verify({ id, code: "000000" });
      await verifier.unlock(id);
      const trail = await verifier.audit(id);
      expect(trail.map((a) => `${a.action}:${a.result}`)).toEqual([
        "enroll:ok",
        "verify:accepted",
        "verify:rejected",
        "unlock:ok",
      ]);
      expect(JSON.stringify(trail)).not.toContain(material.masterKey);
    });

    it("enrolment validates every number: NaN, fractions, negatives and out-of-range values are INPUT_INVALID", async () => {
      const card = new SimulatedCard(newSimCardState("sesame", pin));
      const record = card.issuerRecord();
      const secret = randomBytes(20);
      const bad: Parameters<Verifier["enroll"]>[0][] = [
        { id: uid("v"), kind: "cap", record, lastAtc: Number.NaN },
        { id: uid("v"), kind: "cap", record, lastAtc: 1.5 },
        { id: uid("v"), kind: "cap", record, lastAtc: 0x10000 },
        { id: uid("v"), kind: "cap", record, lastAtc: -1 },
        { id: uid("v"), kind: "cap", record, atcWindow: 0 },
        { id: uid("v"), kind: "hotp", secret, counter: Number.NaN },
        { id: uid("v"), kind: "hotp", secret, counter: 0.5 },
        { id: uid("v"), kind: "hotp", secret, counter: -1 },
        { id: uid("v"), kind: "hotp", secret, counter: 2 ** 53 },
        { id: uid("v"), kind: "hotp", secret, counter: "3" as unknown as number },
        { id: uid("v"), kind: "hotp", secret, lookAhead: 1.5 },
        { id: uid("v"), kind: "totp", secret, step: 0 },
        { id: uid("v"), kind: "totp", secret, step: Number.POSITIVE_INFINITY },
        { id: uid("v"), kind: "totp", secret, t0: -30 },
      ];
      for (const req of bad)
        await expect(verifier.enroll(req)).rejects.toMatchObject({ code: "INPUT_INVALID" });
      const ok = uid("v");
      await verifier.enroll({ id: ok, kind: "cap", record, lastAtc: 0xffff });
      expect((await verifier.status(ok)).last).toBe(0xffff);
    });

    it("no key material and no card number in clear in the store: OATH secrets, simulated cards' test IMKs and PANs are sealed", async () => {
      const card = new SimulatedCard(newSimCardState("sesame", pin));
      const record = card.issuerRecord();
      if (record.key.kind !== "test-imk") throw new Error("a simulated card carries a test IMK");
      const cardId = uid("sealed-card");
      await verifier.enroll({ id: cardId, kind: "cap", record });
      const secret = randomBytes(20);
      const tokenId = uid("sealed-token");
      await verifier.enroll({ id: tokenId, kind: "hotp", secret });
      const stored = JSON.stringify([await store.get(cardId), await store.get(tokenId)]).toUpperCase();
      expect(stored).not.toContain(record.key.imk.toUpperCase());
      expect(stored).not.toContain(secret.toString("hex").toUpperCase());
      expect(stored).not.toContain(secret.toString("base64").toUpperCase());
      expect(stored).not.toContain(record.pan);
      // The sealed key is bound to its credential and its use: under another id, or as an HMAC key, it does not open.
      const c = (await store.get(cardId))!;
      await expect(keys.hmac(tokenId, c.sealed!, "SHA1")).rejects.toMatchObject({ code: "KEY_INVALID" });
      await expect(keys.hmac(cardId, c.sealed!, "SHA1")).rejects.toMatchObject({ code: "KEY_INVALID" });
      const rp = readerProfile(card.profile.readerProfile);
      const code = await generateCapCode(card, { mode: "identify" }, { pin, profile: rp });
      expect((await verifier.verify({ id: cardId, code: code.code })).result).toBe("accepted");
    });

    it("users: a card and a token under one user id; verify({ user }) tries both; one failure count and lockout per user", async () => {
      const user = uid("user");
      const card = new SimulatedCard(newSimCardState("sesame", pin));
      const cardId = uid("ucard");
      await verifier.enroll({ id: cardId, user, kind: "cap", record: card.issuerRecord() });
      const secret = randomBytes(20);
      const tokenId = uid("utoken");
      await verifier.enroll({ id: tokenId, user, kind: "hotp", secret });
      const token = new SgpassToken({ kind: "hotp", secret, clock });
      const rp = readerProfile(card.profile.readerProfile);
      const capCode = () => generateCapCode(card, { mode: "identify" }, { pin, profile: rp });

      expect(await verifier.verify({ user, code: token.press().code! })).toMatchObject({
        result: "accepted",
        credential: tokenId,
      });
      expect(await verifier.verify({ user, code: (await capCode()).code })).toMatchObject({
        result: "accepted",
        credential: cardId,
      });
      expect((await verifier.userStatus(user)).credentials).toEqual([cardId, tokenId].sort());
      // Failures by user and by credential id add up on the user.
      await verifier.verify({ user, code: "000000" });
      await verifier.verify({ id: cardId, code: "00000000" });
      await verifier.verify({ id: tokenId, code: "000000" });
      expect(await verifier.userStatus(user)).toMatchObject({ failures: 3, locked: false });
      await verifier.verify({ user, code: "000001" });
      expect((await verifier.verify({ user, code: "000002" })).result).toBe("locked");
      // A credential's status says its user's count and lock: they are what judge its codes.
      for (const id of [cardId, tokenId])
        expect(await verifier.status(id)).toMatchObject({ user, failures: 5, locked: true });
      // Locked: a valid code of either credential, by user or by id, answers "locked".
      expect((await verifier.verify({ user, code: token.press().code! })).result).toBe("locked");
      expect((await verifier.verify({ id: cardId, code: (await capCode()).code })).result).toBe("locked");
      await verifier.unlockUser(user);
      expect((await verifier.verify({ user, code: token.press().code! })).result).toBe("accepted");
      expect((await verifier.userStatus(user)).failures).toBe(0);
      expect(await verifier.verify({ user: uid("nobody"), code: "123456" })).toEqual({
        result: "rejected",
        triesLeft: 4,
      });
    });

    it("lifecycle: paged list, disable/enable, revoke (state gone, audit kept)", async () => {
      const user = uid("pager");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = `${user}-t${i}`;
        await verifier.enroll({ id, user, kind: "hotp", secret: randomBytes(20) });
        ids.push(id);
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page++) {
        const r = await verifier.list({ user, limit: 2, ...(after ? { after } : {}) });
        seen.push(...r.credentials.map((c) => c.id));
        if (!r.next) break;
        after = r.next;
      }
      expect(seen).toEqual(ids);

      const secret = randomBytes(20);
      const id = uid("life");
      await verifier.enroll({ id, kind: "hotp", secret });
      const token = new SgpassToken({ kind: "hotp", secret, clock });
      await verifier.disable(id);
      expect((await verifier.status(id)).state).toBe("disabled");
      const code = token.press().code!;
      expect((await verifier.verify({ id, code })).result).toBe("rejected");
      await verifier.enable(id);
      expect((await verifier.verify({ id, code })).result).toBe("accepted");
      await verifier.revoke(id);
      expect(await store.get(id)).toBeUndefined();
      await expect(verifier.status(id)).rejects.toMatchObject({ code: "CREDENTIAL_UNKNOWN" });
      expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("rejected");
      expect((await verifier.audit(id)).map((a) => `${a.action}:${a.result}`)).toEqual([
        "enroll:ok",
        "disable:ok",
        "verify:rejected",
        "enable:ok",
        "verify:accepted",
        "revoke:ok",
        "verify:unknown",
      ]);
    });

    it("replace a card: old and new both valid during the changeover; the new card's first code revokes the old", async () => {
      const user = uid("holder");
      const old = new SimulatedCard(newSimCardState("sesame", pin));
      const oldId = uid("old-card");
      await verifier.enroll({ id: oldId, user, kind: "cap", record: old.issuerRecord() });
      const fresh = new SimulatedCard(newSimCardState("sesame", pin));
      const newId = uid("new-card");
      await verifier.replace(oldId, { id: newId, kind: "cap", record: fresh.issuerRecord() });
      expect(await verifier.status(newId)).toMatchObject({ user, replaces: oldId });
      const rp = readerProfile(old.profile.readerProfile);
      const codeOf = (c: SimulatedCard) => generateCapCode(c, { mode: "identify" }, { pin, profile: rp });
      expect((await verifier.verify({ id: oldId, code: (await codeOf(old)).code })).result).toBe("accepted");
      expect((await verifier.verify({ user, code: (await codeOf(old)).code })).result).toBe("accepted");
      expect(await verifier.verify({ user, code: (await codeOf(fresh)).code })).toMatchObject({
        result: "accepted",
        credential: newId,
      });
      expect(await store.get(oldId)).toBeUndefined();
      expect((await verifier.status(newId)).replaces).toBeUndefined();
      expect((await verifier.verify({ user, code: (await codeOf(old)).code })).result).toBe("rejected");
      expect((await verifier.audit(oldId)).at(-1)).toMatchObject({
        action: "revoke",
        detail: `replaced by ${newId}`,
      });
    });

    it("TOTP drift: each acceptance records the token's offset; status shows it; followDrift centres the window on it", async () => {
      const secret = randomBytes(20);
      const gen = new HotpGenerator(new HmacKey(secret), 6);
      const step = () => Math.floor(clock.now() / 30_000);
      const plain = uid("drift");
      await verifier.enroll({ id: plain, kind: "totp", secret });
      expect((await verifier.verify({ id: plain, code: gen.code(step() + 1) })).result).toBe("accepted");
      expect((await verifier.status(plain)).driftSeconds).toBe(30);
      clock.advance(30_000);
      expect((await verifier.verify({ id: plain, code: gen.code(step() + 2) })).result).toBe("rejected");

      const following = uid("drift-follow");
      await verifier.enroll({ id: following, kind: "totp", secret, followDrift: true });
      // A token whose clock runs further ahead step by step: the window follows it.
      for (let ahead = 1; ahead <= 3; ahead++) {
        clock.advance(30_000);
        expect((await verifier.verify({ id: following, code: gen.code(step() + ahead) })).result).toBe(
          "accepted",
        );
        expect((await verifier.status(following)).driftSeconds).toBe(30 * ahead);
      }
      clock.advance(30_000);
      expect((await verifier.verify({ id: following, code: gen.code(step()) })).result).toBe("rejected");
    });

    it("challenges are deleted when used or expired: a flood of issueChallenge keeps the table bounded", async () => {
      const count = () => (store as unknown as { challengeCount(): Promise<number> }).challengeCount();
      clock.advance(verifier.policy.challengeTtlMs + 1); // every earlier challenge has expired
      const { id, code } = await capCard();
      for (let i = 0; i < 200; i++) await verifier.issueChallenge(id, "respond");
      expect(await count()).toBe(verifier.policy.maxChallengesPerCredential);
      const ch = await verifier.issueChallenge(id, "respond"); // the newest ones stay valid
      const r = await code({ mode: "respond", challenge: ch.challenge });
      expect(
        (await verifier.verify({ id, code: r.code, function: "respond", challengeId: ch.challengeId }))
          .result,
      ).toBe("accepted");
      expect(await count()).toBe(verifier.policy.maxChallengesPerCredential - 1);
      clock.advance(verifier.policy.challengeTtlMs + 1);
      const other = await capCard();
      await verifier.issueChallenge(other.id, "respond");
      expect(await count()).toBe(1);
    });

    it("an unknown id answers 'rejected' like a wrong code (audited as unknown); duplicates and bad ids are typed errors", async () => {
      const known = await capCard(); // the credential loaded last: an unknown id is judged like it
      expect((await verifier.verify({ id: known.id, code: "00000000" })).triesLeft).toBe(4);
      const nobody = uid("nobody");
      expect(await verifier.verify({ id: nobody, code: "123456" })).toEqual({
        result: "rejected",
        triesLeft: 4,
      });
      expect(await verifier.resync(nobody, "123456", "234567")).toEqual({ result: "rejected", triesLeft: 3 });
      const ch = await verifier.issueChallenge(nobody, "respond");
      expect(ch.challenge).toMatch(/^[1-9][0-9]{7}$/);
      expect(
        await verifier.verify({ id: nobody, code: "1", function: "respond", challengeId: ch.challengeId }),
      ).toEqual({ result: "rejected", triesLeft: 2 });
      expect((await verifier.audit(nobody)).map((a) => `${a.action}:${a.result}`)).toEqual([
        "verify:unknown",
        "resync:unknown",
        "challenge:unknown",
        "verify:unknown",
      ]);
      const { id } = await totpToken();
      await expect(verifier.enroll({ id, kind: "totp", secret: randomBytes(20) })).rejects.toMatchObject({
        code: "CREDENTIAL_EXISTS",
      });
      await expect(
        verifier.enroll({ id: "bad id!", kind: "totp", secret: randomBytes(20) }),
      ).rejects.toMatchObject({ code: "CREDENTIAL_INVALID" });
    });

    it("two verifiers on one store (two server instances, each with its own cache) answer as one would", async () => {
      // `other` is a second server instance: it changes the store behind `verifier`'s cached credentials.
      const other = new Verifier({ store, keys, now: () => clock.now() });
      const secret = randomBytes(20);
      const id = uid("hotp");
      await verifier.enroll({ id, kind: "hotp", secret });
      // Codes computed independently of the verifier (RFC 4226 through @capkit/oath's generator).
      const gen = new HotpGenerator(new HmacKey(secret), 6);
      const at = (n: number) => gen.code(n);
      const wrong = ["000000", "111111", "222222", "333333"].find((c) =>
        Array.from({ length: 200 }, (_, n) => at(n)).every((x) => x !== c),
      )!;
      expect(await verifier.verify({ id, code: at(0) })).toMatchObject({ result: "accepted", counter: 0 });
      // The other instance moves the counter to 40, far past this one's cached look-ahead window (1..10).
      for (let n = 5; n <= 40; n += 5)
        expect((await other.verify({ id, code: at(n) })).result).toBe("accepted");
      expect(await verifier.verify({ id, code: at(41) })).toMatchObject({ result: "accepted", counter: 41 });
      expect((await verifier.verify({ id, code: at(40) })).result).toBe("rejected"); // used there, refused here
      expect((await other.verify({ id, code: at(45) })).result).toBe("accepted");
      // A wrong code on a stale cache is counted once, against the fresh state.
      expect((await verifier.verify({ id, code: wrong })).result).toBe("rejected");
      expect((await verifier.status(id)).failures).toBe(1);

      // Disabled there: refused here; enabled there: accepted here.
      await other.disable(id);
      expect((await verifier.verify({ id, code: at(46) })).result).toBe("rejected");
      await other.enable(id);
      expect(await verifier.verify({ id, code: at(47) })).toMatchObject({ result: "accepted", counter: 47 });

      // Locked there (5 failures): "locked" here even for a valid code; unlocked there: accepted here.
      for (let i = 0; i < 5; i++) await other.verify({ id, code: wrong });
      expect((await verifier.verify({ id, code: at(48) })).result).toBe("locked");
      await other.unlock(id);
      expect(await verifier.verify({ id, code: at(49) })).toMatchObject({ result: "accepted", counter: 49 });

      // Revoked and enrolled again there with another secret: this instance follows the new one.
      await other.revoke(id);
      const secret2 = randomBytes(20);
      await other.enroll({ id, kind: "hotp", secret: secret2 });
      const gen2 = new HotpGenerator(new HmacKey(secret2), 6);
      expect((await verifier.verify({ id, code: at(50) })).result).toBe("rejected"); // the old token's next code
      expect(await verifier.verify({ id, code: gen2.code(0) })).toMatchObject({
        result: "accepted",
        counter: 0,
      });

      // Revoked there: an unknown id here, answered like a wrong code and audited as unknown.
      await other.revoke(id);
      expect((await verifier.verify({ id, code: gen2.code(1) })).result).toBe("rejected");
      expect((await verifier.audit(id)).at(-1)).toMatchObject({ action: "verify", result: "unknown" });
    });

    it("pruneAudit(before) deletes older entries, but each chain's newest before the cut (what the rest is verified from)", async () => {
      const { id, token } = await totpToken();
      await verifier.verify({ id, code: "000000" });
      clock.advance(60_000);
      const cut = clock.now();
      await verifier.verify({ id, code: token.press().code! });
      const removed = await verifier.pruneAudit(new Date(cut));
      expect(removed).toBeGreaterThan(0);
      const left = await verifier.audit(id);
      expect(left.at(-1)?.action).toBe("verify");
      expect(left.filter((a) => a.at < cut).length).toBeLessThanOrEqual(1);
      expect(left.filter((a) => a.action === "enroll")).toEqual([]);
    });
  });
}
