import { fromBase64 } from "@capkit/core";
import {
  receiptDigest,
  type SignedReceipt,
  verifyReceipt,
  verifyReceiptChain,
  verifySignedOperation,
} from "@capkit/provision";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REVOCATIONS, SECURITY_EVENT_TYPES, type SecurityEventType, type Subject } from "../src/approvals.js";
import {
  appDevice,
  keypad,
  reader,
  type Stores,
  transfer,
  uid,
  type World,
  world,
} from "./approvals-world.js";

/**
 * One behaviour, three stores: operations, receipts, events and grants on memory, SQLite and PostgreSQL
 * (docs/architecture.md §12). Every test makes its own users, so one world serves the suite.
 */
export function approvalsConformance(name: string, open: () => Promise<Stores>, close?: () => Promise<void>) {
  describe(`approvals on ${name}`, () => {
    let w: World;
    beforeAll(async () => {
      w = world(await open());
    });
    afterAll(async () => {
      await w?.security.close();
      await w?.store.close();
      await close?.();
    });

    it("device: the app is given the bank-signed document; its signed acceptance is recorded once, with a signed receipt", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      expect(op).toMatchObject({ state: "pending", method: "device", prompt: { method: "device" } });
      const keys = await w.approvals.receiptKeys();
      expect(verifySignedOperation(op.signed, keys)).toEqual(op.document);
      const decision = await app.decide(op.digest);
      const r = await w.approvals.decide({ id: op.id, device: decision });
      if (r.result !== "approved") throw new Error(`not approved: ${JSON.stringify(r)}`);
      expect(verifyReceipt(r.receipt, keys)).toEqual({ ok: true });
      expect(r.receipt.receipt).toMatchObject({
        operationDigest: op.digest,
        user: app.user,
        credential: app.credential,
        method: "device",
        result: "approved",
        previous: null,
      });
      expect(await w.approvals.decide({ id: op.id, device: decision })).toEqual({
        result: "closed",
        reason: "approved",
      });
      const s = await w.approvals.state(op.id);
      expect(s).toMatchObject({ state: "approved", receipt: r.receipt });
    });

    it("device: a decline is signed and receipted too; a signature over another document is refused and not counted", async () => {
      const app = await appDevice(w);
      const [a, b] = [await app.operation(), await app.operation()];
      const other = await app.decide(b.digest);
      expect(await w.approvals.decide({ id: a.id, device: other })).toEqual({
        result: "closed",
        reason: "changed",
      });
      expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
      const declined = await w.approvals.decide({ id: a.id, device: await app.decide(a.digest, "decline") });
      expect(declined).toMatchObject({ result: "declined", receipt: { receipt: { result: "declined" } } });
      expect((await w.approvals.state(a.id)).state).toBe("declined");
    });

    it("device: a forged signature is a counted failure in the user's one lockout; the 5th locks, then even a valid one is refused", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      const forged = {
        decision: "accept" as const,
        operationDigest: op.digest,
        signature: Buffer.alloc(64, 1).toString("base64"),
      };
      for (let i = 4; i >= 1; i--)
        expect(await w.approvals.decide({ id: op.id, device: forged })).toEqual({
          result: "rejected",
          triesLeft: i,
        });
      expect(await w.approvals.decide({ id: op.id, device: forged })).toEqual({ result: "locked" });
      expect(await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).toEqual({
        result: "locked",
      });
      expect((await w.approvals.state(op.id)).state).toBe("pending");
      await w.verifier.unlockUser(app.user);
      expect((await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).result).toBe(
        "approved",
      );
    });

    it("ocra: the keypad's code over amount, payee digits and reference approves; a wrong one counts with the user's codes", async () => {
      const t = await keypad(w);
      const op = await w.approvals.create({
        document: transfer(w),
        user: t.user,
        credential: t.credential,
        method: "ocra",
      });
      if (op.prompt.method !== "ocra") throw new Error("no OCRA prompt");
      expect(op.prompt.fields).toMatchObject({ amount: "123456", payee: "45126199" });
      expect(op.prompt.question).toBe(`123456${"45126199"}${op.prompt.fields.reference}`);
      const right = t.code(op);
      const wrong = right === "00000000" ? "11111111" : "00000000";
      // The user's one count: a wrong identify code of another credential of theirs, then a wrong keypad code.
      await w.verifier.enroll({ id: uid("other"), user: t.user, kind: "totp", secret: Buffer.alloc(20, 7) });
      expect((await w.verifier.verify({ user: t.user, code: "000000" })).triesLeft).toBe(4);
      expect(await w.approvals.decide({ id: op.id, decision: "approve", code: wrong })).toEqual({
        result: "rejected",
        triesLeft: 3,
      });
      const r = await w.approvals.decide({ id: op.id, decision: "approve", code: right });
      expect(r).toMatchObject({
        result: "approved",
        receipt: { receipt: { method: "ocra", evidence: { counter: 0 } } },
      });
      expect((await w.verifier.userStatus(t.user)).failures).toBe(0);
    });

    it("cap-sign: the reader's Sign over the amount and the payee's last 8 IBAN digits approves; its ATC is the evidence", async () => {
      const card = await reader(w);
      const op = await w.approvals.create({
        document: transfer(w),
        user: card.user,
        credential: card.credential,
        method: "cap-sign",
      });
      expect(op.prompt).toEqual({
        method: "cap-sign",
        challenge: "45126199",
        amount: "1234.56",
        currency: "978",
      });
      const code = await card.code(op);
      const r = await w.approvals.decide({ id: op.id, decision: "approve", code });
      if (r.result !== "approved") throw new Error(JSON.stringify(r));
      expect(r.receipt.receipt.evidence).toEqual({ atc: expect.any(Number) });
      // The same code for a second operation with the same amount and payee: its ATC is spent.
      const again = await w.approvals.create({
        document: transfer(w),
        user: card.user,
        credential: card.credential,
        method: "cap-sign",
      });
      expect((await w.approvals.decide({ id: again.id, decision: "approve", code })).result).toBe("rejected");
    });

    it("bad input is refused at the door and stores nothing; a second operation with an id is refused", async () => {
      const app = await appDevice(w);
      const doc = transfer(w);
      const base = { document: doc, user: app.user, credential: app.credential, method: "device" as const };
      await expect(
        w.approvals.create({ ...base, document: { ...doc, amount: { minor: 0, currency: "EUR" } } }),
      ).rejects.toMatchObject({ code: "OPERATION_INVALID" });
      await expect(w.approvals.create({ ...base, method: "telepathy" as never })).rejects.toMatchObject({
        code: "INPUT_INVALID",
      });
      await expect(w.approvals.create({ ...base, user: "someone-else" })).rejects.toMatchObject({
        code: "APPROVAL_METHOD_INVALID",
      });
      await expect(w.approvals.create({ ...base, method: "ocra" })).rejects.toMatchObject({
        code: "APPROVAL_METHOD_INVALID",
      });
      await expect(w.approvals.state(doc.id)).rejects.toMatchObject({ code: "OPERATION_UNKNOWN" });
      const first = await w.approvals.create(base);
      await expect(
        w.approvals.create({ ...base, document: transfer(w, { amount: 1 }, doc.id) }),
      ).rejects.toMatchObject({ code: "OPERATION_EXISTS" });
      expect((await w.approvals.state(doc.id)).digest).toBe(first.digest);
      await expect(
        w.approvals.decide({
          id: first.id,
          device: { decision: "yes", operationDigest: first.digest, signature: "x" } as never,
        }),
      ).rejects.toMatchObject({ code: "INPUT_INVALID" });
      await expect(
        w.approvals.decide({ id: first.id, decision: "approve", code: "12345678" }),
      ).rejects.toMatchObject({ code: "APPROVAL_METHOD_INVALID" });
      expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
      // A Sésame card signs no amount (IAF 00): not a cap-sign credential.
      const sesame = await reader(w, app.user, "sesame");
      await expect(
        w.approvals.create({
          ...base,
          document: transfer(w),
          credential: sesame.credential,
          method: "cap-sign",
        }),
      ).rejects.toMatchObject({ code: "APPROVAL_METHOD_INVALID" });
      // An SGpass keypad whose questions hold 8 digits cannot carry amount, payee and reference.
      const short = await keypad(w, app.user, "OCRA-1:HOTP-SHA1-8:QN08");
      await expect(
        w.approvals.create({ ...base, document: transfer(w), credential: short.credential, method: "ocra" }),
      ).rejects.toMatchObject({ code: "APPROVAL_METHOD_INVALID" });
    });

    it("an expired operation answers closed without judging the code; its state says expired", async () => {
      const t = await keypad(w);
      const op = await w.approvals.create({
        document: transfer(w),
        user: t.user,
        credential: t.credential,
        method: "ocra",
      });
      w.clock.advance(300_000);
      expect(await w.approvals.decide({ id: op.id, decision: "approve", code: t.code(op) })).toEqual({
        result: "closed",
        reason: "expired",
      });
      expect((await w.approvals.state(op.id)).state).toBe("expired");
      expect((await w.verifier.userStatus(t.user)).failures).toBe(0);
    });

    it("one decision, whatever the concurrency: 20 valid decisions racing, exactly one recorded, one receipt", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      const decision = await app.decide(op.digest);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => w.approvals.decide({ id: op.id, device: decision })),
      );
      expect(results.filter((r) => r.result === "approved")).toHaveLength(1);
      expect(results.filter((r) => r.result !== "approved").every((r) => r.result === "closed")).toBe(true);
      expect(await w.approvals.receipts(app.user)).toHaveLength(1);
    });

    it("receipts chain per user: they verify offline in order; a changed field, a removed or a swapped receipt is caught", async () => {
      const app = await appDevice(w);
      const keys = await w.approvals.receiptKeys();
      for (let i = 0; i < 4; i++) {
        const op = await app.operation({ amount: 100 + i });
        const r = await w.approvals.decide({
          id: op.id,
          device: await app.decide(op.digest, i === 2 ? "decline" : "accept"),
        });
        expect(r.result).toBe(i === 2 ? "declined" : "approved");
        w.clock.advance(1000);
      }
      const chain = await w.approvals.receipts(app.user);
      expect(chain).toHaveLength(4);
      expect(verifyReceiptChain(chain, keys)).toEqual({ ok: true });
      expect(await w.approvals.receipts(app.user, { after: 2 })).toEqual(chain.slice(2));
      const tamper = (i: number, f: (r: SignedReceipt["receipt"]) => object) =>
        chain.map((s, j) => (j === i ? { ...s, receipt: f(s.receipt) } : s));
      expect(
        verifyReceiptChain(
          tamper(1, (r) => ({ ...r, result: "declined" })),
          keys,
        ),
      ).toMatchObject({ ok: false, index: 1 });
      expect(
        verifyReceiptChain(
          tamper(3, (r) => ({ ...r, user: "mallory" })),
          keys,
        ),
      ).toMatchObject({ ok: false, index: 3 });
      expect(verifyReceiptChain([chain[0], chain[2], chain[1], chain[3]], keys)).toMatchObject({
        ok: false,
        reason: "broken-chain",
        index: 1,
      });
      expect(verifyReceiptChain([chain[0], chain[2], chain[3]], keys)).toMatchObject({
        ok: false,
        reason: "broken-chain",
        index: 1,
      });
      const sig = fromBase64(chain[0]!.signature);
      sig[5]! ^= 1;
      expect(
        verifyReceipt({ ...chain[0], signature: Buffer.from(sig).toString("base64") }, keys),
      ).toMatchObject({ ok: false, reason: "bad-signature" });
    });

    it("operations and decisions are in the verifier's audit trail, named, with their actor", async () => {
      const app = await appDevice(w);
      const op = await app.operation();
      await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) });
      const trail = await w.verifier.auditTrail({ user: app.user });
      const mine = trail.filter((e) => e.detail?.startsWith(`operation ${op.id}:`));
      expect(mine.map((e) => [e.action, e.result])).toEqual([
        ["operation", "created"],
        ["approve", "approved"],
      ]);
      expect(mine.every((e) => e.actor === "bank-test")).toBe(true);
      if (name !== "the memory store") expect((await w.verifier.verifyAudit()).problems).toEqual([]);
    });

    describe("security events", () => {
      /** Everything an event can revoke, made for a fresh user: a device's approval, sessions, a grant, an operation. */
      const setUp = async () => {
        const app = await appDevice(w);
        const other = uid("perso");
        const subject: Subject = { kind: "user", id: app.user };
        const op = await app.operation();
        const grant = await w.grants.create({ kind: "passerelle", owner: app.user, target: other });
        const stamps = Object.fromEntries(
          (["device", "session", "grant", "operation"] as const).map((c) => [c, null]),
        ) as Record<string, unknown>;
        for (const c of ["device", "session", "grant", "operation"] as const)
          stamps[c] = await w.events.stamp([{ subject, class: c }]);
        return { app, subject, op, grant, stamps };
      };

      for (const type of SECURITY_EVENT_TYPES.filter((t) => REVOCATIONS[t].subjects.includes("user"))) {
        it(`${type} on a user revokes exactly what the table says, in one write with its audit rows`, async () => {
          const { app, subject, op, grant, stamps } = await setUp();
          const before = await w.events.epochs(subject);
          const e = await w.events.record({ type, subject, cause: `test of ${type}` });
          const revokes = REVOCATIONS[type as SecurityEventType].revokes;
          for (const c of ["device", "session", "grant", "operation"] as const) {
            expect(e.epochs[c]).toBe(before[c] + (revokes.includes(c) ? 1 : 0));
            expect(await w.events.valid(stamps[c] as never)).toBe(!revokes.includes(c));
          }
          expect(e.operationsCancelled).toBe(revokes.includes("operation") ? 1 : 0);
          expect(e.grantsRevoked).toBe(revokes.includes("grant") ? 1 : 0);
          const state = await w.approvals.state(op.id);
          expect(state.state).toBe(revokes.includes("operation") ? "cancelled" : "pending");
          if (revokes.includes("operation")) expect(state.reason).toBe(type);
          const g = await w.grants.check(grant.id);
          expect(g).toEqual(
            revokes.includes("grant")
              ? { valid: false, state: "revoked", reason: type }
              : { valid: false, state: "pending" },
          );
          const r = await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) });
          expect(r.result).toBe(
            revokes.includes("operation") ? "closed" : revokes.includes("device") ? "closed" : "approved",
          );
          if (revokes.includes("device") && !revokes.includes("operation"))
            expect(r).toEqual({ result: "closed", reason: "revoked" });
          const trail = await w.verifier.auditTrail({ user: app.user });
          expect(
            trail.some(
              (a) =>
                a.action === "event" && a.result === type && a.detail === `user ${app.user}: test of ${type}`,
            ),
          ).toBe(true);
          expect((await w.events.list({ subject })).at(-1)).toMatchObject({
            type,
            cause: `test of ${type}`,
            actor: "bank-test",
          });
        });
      }

      it("admin-change on a contract: its grants revoked and its operations cancelled, not the user's others", async () => {
        const app = await appDevice(w);
        const contract = uid("contract");
        const pro = await app.operation({}, contract);
        const perso = await app.operation();
        const g = await w.grants.create({
          kind: "passerelle",
          owner: app.user,
          target: uid("perso"),
          contract,
        });
        const e = await w.events.record({
          type: "admin-change",
          subject: { kind: "contract", id: contract },
          cause: "nouvel administrateur",
        });
        expect(e).toMatchObject({ operationsCancelled: 1, grantsRevoked: 1 });
        expect((await w.approvals.state(pro.id)).state).toBe("cancelled");
        expect((await w.approvals.state(perso.id)).state).toBe("pending");
        expect((await w.grants.check(g.id)).reason).toBe("admin-change");
      });

      it("a device registered again after a reactivation approves again; an event's subject kind is checked", async () => {
        const app = await appDevice(w);
        await w.events.record({
          type: "device-reactivation",
          subject: { kind: "user", id: app.user },
          cause: "nouvelle application",
        });
        await expect(app.operation()).resolves.toBeTruthy();
        const op = await app.operation();
        expect(await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).toEqual({
          result: "closed",
          reason: "revoked",
        });
        await w.approvals.registerDevice({ credential: app.credential, publicKey: app.device.publicKey });
        expect((await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).result).toBe(
          "approved",
        );
        await expect(
          w.events.record({ type: "admin-change", subject: { kind: "user", id: app.user }, cause: "x" }),
        ).rejects.toMatchObject({ code: "INPUT_INVALID" });
        await expect(
          w.events.record({ type: "password-reset", subject: { kind: "user", id: app.user }, cause: "" }),
        ).rejects.toMatchObject({ code: "INPUT_INVALID" });
      });

      it("an event racing an approval: either the approval is first and recorded, or the event is and the approval is refused", async () => {
        for (let i = 0; i < 20; i++) {
          const app = await appDevice(w);
          const op = await app.operation();
          const decision = await app.decide(op.digest);
          const [r, e] = await Promise.all([
            w.approvals.decide({ id: op.id, device: decision }),
            w.events.record({
              type: "password-reset",
              subject: { kind: "user", id: app.user },
              cause: "race",
            }),
          ]);
          const state = (await w.approvals.state(op.id)).state;
          if (r.result === "approved") {
            expect(e.operationsCancelled).toBe(0);
            expect(state).toBe("approved");
            expect(await w.approvals.receipts(app.user)).toHaveLength(1);
          } else {
            expect(r.result).toBe("closed");
            expect(e.operationsCancelled).toBe(1);
            expect(state).toBe("cancelled");
            expect(await w.approvals.receipts(app.user)).toHaveLength(0);
          }
        }
      });
    });

    describe("grants (the passerelle)", () => {
      it("a consent given before the grant existed opens it not (one left from a replaced grant of the contract)", async () => {
        const app = await appDevice(w);
        const contract = uid("contract");
        const target = uid("perso");
        const first = await w.grants.create({ kind: "passerelle", owner: app.user, target, contract });
        const early = await app.consent(contract); // approved, never used: the customer consented again instead
        await w.grants.deactivate({ id: first.id, reason: "remplacée par un nouveau consentement" });
        w.clock.advance(1500); // the new grant half-way through a second
        const second = await w.grants.create({ kind: "passerelle", owner: app.user, target, contract });
        await expect(w.grants.activate({ id: second.id, operation: early })).rejects.toMatchObject({
          code: "GRANT_INVALID",
          details: { reason: "consent-invalid" },
        });
        expect(await w.grants.check(second.id)).toEqual({ valid: false, state: "pending" });
        const fresh = await app.consent(contract); // the same second as the grant: a document's time is in seconds
        expect(await w.grants.activate({ id: second.id, operation: fresh })).toMatchObject({
          state: "active",
        });
      });

      it("pending until activated with the owner's approved consent; the grant's epoch binds tickets; deactivation names its reason", async () => {
        const app = await appDevice(w);
        const g = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
        expect(await w.grants.check(g.id)).toEqual({ valid: false, state: "pending" });
        const transferOp = await app.operation();
        await w.approvals.decide({ id: transferOp.id, device: await app.decide(transferOp.digest) });
        await expect(w.grants.activate({ id: g.id, operation: transferOp.id })).rejects.toMatchObject({
          code: "GRANT_INVALID",
          details: { reason: "consent-invalid" },
        });
        const ok = await app.consent();
        const active = await w.grants.activate({ id: g.id, operation: ok });
        expect(active).toMatchObject({ state: "active", epoch: 1, operation: ok });
        expect(active.consent).toBe(receiptDigest((await w.approvals.state(ok)).receipt!.receipt));
        expect(await w.grants.check(g.id, 1)).toEqual({ valid: true, state: "active" });
        expect(await w.grants.check(g.id, 0)).toEqual({
          valid: false,
          state: "active",
          reason: "reactivated",
        });
        const g2 = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
        await expect(w.grants.activate({ id: g2.id, operation: ok })).rejects.toMatchObject({
          details: { reason: "consent-used" },
        });
        expect(await w.grants.deactivate({ id: g.id, reason: "Profil → Vos préférences" })).toBe(true);
        expect(await w.grants.check(g.id)).toEqual({
          valid: false,
          state: "deactivated",
          reason: "Profil → Vos préférences",
        });
        expect(await w.grants.deactivate({ id: g.id, reason: "again" })).toBe(false);
        await expect(w.grants.activate({ id: g.id, operation: ok })).rejects.toMatchObject({
          details: { reason: "not-pending" },
        });
        const trail = (await w.verifier.auditTrail({ user: app.user })).filter((a) => a.action === "grant");
        expect(trail.map((a) => a.result)).toEqual([
          "created",
          "refused",
          "activated",
          "created",
          "refused",
          "deactivated",
          "refused",
        ]);
      });

      it("each of the passerelle's four events revokes an active grant, with itself as the cause", async () => {
        for (const [type, on] of [
          ["password-reset", "owner"],
          ["password-change", "target"],
          ["adviser-revocation", "owner"],
          ["admin-change", "contract"],
        ] as const) {
          const app = await appDevice(w);
          const target = uid("perso");
          const contract = uid("contract");
          const g = await w.grants.create({ kind: "passerelle", owner: app.user, target, contract });
          await w.grants.activate({ id: g.id, operation: await app.consent(contract) });
          expect((await w.grants.check(g.id)).valid).toBe(true);
          const subject: Subject =
            on === "contract"
              ? { kind: "contract", id: contract }
              : { kind: "user", id: on === "owner" ? app.user : target };
          const e = await w.events.record({ type, subject, cause: `cause of ${type}` });
          expect(e.grantsRevoked).toBe(1);
          expect(await w.grants.check(g.id)).toEqual({ valid: false, state: "revoked", reason: type });
          const rows = (await w.verifier.auditTrail({ user: app.user })).filter(
            (a) => a.action === "grant" && a.result === "revoked",
          );
          expect(rows.map((a) => a.detail)).toEqual([`grant ${g.id}: ${type}`]);
        }
      });
    });
  });
}
