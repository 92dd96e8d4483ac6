import { randomBytes } from "node:crypto";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { FakeClock, newSimCardState, SgpassToken, SimulatedCard } from "@capkit/token-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";

/**
 * One behaviour, three stores: every StateStore must pass this suite (design §6). Credentials get fresh ids per
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

    it("an unknown id answers 'rejected' like a wrong code (audited as unknown); duplicates and bad ids are typed errors", async () => {
      expect(await verifier.verify({ id: "nobody", code: "123456" })).toEqual({ result: "rejected" });
      expect(await verifier.resync("nobody", "123456", "234567")).toEqual({ result: "rejected" });
      const ch = await verifier.issueChallenge("nobody", "respond");
      expect(ch.challenge).toMatch(/^[1-9][0-9]{7}$/);
      expect(
        await verifier.verify({ id: "nobody", code: "1", function: "respond", challengeId: ch.challengeId }),
      ).toEqual({ result: "rejected" });
      expect((await verifier.audit("nobody")).map((a) => `${a.action}:${a.result}`)).toEqual([
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
  });
}
