import { randomBytes } from "node:crypto";
import { canonicalJson, verifyReceiptChain } from "@capkit/provision";
import { composeIBAN, extractIBAN } from "ibantools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionResult } from "../src/approvals.js";
import {
  ACCOUNT,
  appDevice,
  keypad,
  PAYEE,
  reader,
  type Stores,
  transfer,
  uid,
  type World,
  world,
} from "./approvals-world.js";

/** What a store's test gives the suite beyond its stores: a way to change a row behind the library's back. */
export interface AttackHooks {
  /** Overwrites an operation's stored document (an insider with write access to the database). */
  readonly tamperDocument?: (id: string, document: string) => Promise<void>;
  /** Overwrites a receipt's body and removes its signature (as if its process died before signing it). */
  readonly tamperReceipt?: (operation: string, body: string) => Promise<void>;
}

/** The IBAN with the last digit of its BBAN moved on by one and its check digits made right again. */
function otherIban(iban: string): string {
  const { bban, countryCode } = extractIBAN(iban);
  const last = (Number(bban!.at(-1)) + 1) % 10;
  return composeIBAN({ countryCode: countryCode!, bban: `${bban!.slice(0, -1)}${last}` })!;
}

/** Distinct 8-digit codes, none of them in `except`. */
function wrongCodes(n: number, except: readonly string[]): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const c = String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, "0");
    if (!except.includes(c)) out.add(c);
  }
  return [...out];
}

/** A device decision whose signature is 64 random bytes. */
const fakeSignature = (digest: string) => ({
  decision: "accept" as const,
  operationDigest: digest,
  signature: randomBytes(64).toString("base64"),
});

const count = (rs: readonly DecisionResult[], result: DecisionResult["result"]) =>
  rs.filter((r) => r.result === result).length;

/**
 * The approvals attacked (docs/architecture.md §12; the brief's "think like an attacker"), on one store:
 * decisions racing each other and security events, documents changed after approval, one user's operation
 * decided with another's credential, bursts of wrong codes and signatures with the right one last, and grants
 * used after what revokes them. Every test makes its own users, so one world serves the suite.
 */
export function approvalsAttacks(
  name: string,
  open: () => Promise<Stores>,
  hooks: AttackHooks = {},
  close?: () => Promise<void>,
): void {
  describe(`the approvals attacked, on ${name}`, () => {
    let w: World;
    beforeAll(async () => {
      w = world(await open());
    });
    afterAll(async () => {
      await w?.security.close();
      await w?.store.close();
      await close?.();
    });

    /** The user's chain: it verifies, it has `n` receipts, one per decided operation, places 1..n. */
    const chainHolds = async (user: string, n: number) => {
      const chain = await w.approvals.receipts(user, { limit: 1000 });
      expect(chain).toHaveLength(n);
      expect(verifyReceiptChain(chain, await w.approvals.receiptKeys())).toEqual({ ok: true });
      expect(new Set(chain.map((r) => r.receipt.operationDigest)).size).toBe(n);
      return chain;
    };

    /** An operation of `t`'s user for its keypad (ocra) or card (cap-sign) to decide. */
    const operationFor = (t: { user: string; credential: string }, method: "ocra" | "cap-sign") =>
      w.approvals.create({ document: transfer(w), user: t.user, credential: t.credential, method });

    describe("races", () => {
      it("the device's accept racing its decline (10 of each, 5 rounds): one decision, one receipt, nothing counted", async () => {
        const app = await appDevice(w);
        for (let round = 0; round < 5; round++) {
          const op = await app.operation({ amount: 100 + round });
          const [accept, decline] = [await app.decide(op.digest), await app.decide(op.digest, "decline")];
          const rs = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              w.approvals.decide({ id: op.id, device: i % 2 ? decline : accept }),
            ),
          );
          expect(count(rs, "approved") + count(rs, "declined")).toBe(1);
          expect(count(rs, "closed")).toBe(19);
          const s = await w.approvals.state(op.id);
          expect(s.receipt?.receipt.result).toBe(s.state);
        }
        await chainHolds(app.user, 5);
        expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
      });

      it("one keypad code sent to approve and to decline at once: one decision; the others closed or a replay, none counted", async () => {
        const t = await keypad(w);
        const op = await operationFor(t, "ocra");
        const code = t.code(op);
        const rs = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            w.approvals.decide({ id: op.id, decision: i % 2 ? "decline" : "approve", code }),
          ),
        );
        expect(count(rs, "approved") + count(rs, "declined")).toBe(1);
        for (const r of rs)
          if (r.result === "rejected") expect(r).toEqual({ result: "rejected", replayed: true });
          else expect(["approved", "declined", "closed"]).toContain(r.result);
        await chainHolds(t.user, 1);
        expect((await w.verifier.userStatus(t.user)).failures).toBe(0);
      });

      it("two devices of one user: only the device the operation names decides; the other's signature is a counted failure, even racing", async () => {
        const mine = await appDevice(w);
        const other = await appDevice(w, mine.user);
        const op = await mine.operation();
        expect(await w.approvals.decide({ id: op.id, device: await other.decide(op.digest) })).toEqual({
          result: "rejected",
          triesLeft: 4,
        });
        const rs = await Promise.all([
          w.approvals.decide({ id: op.id, device: await other.decide(op.digest, "decline") }),
          w.approvals.decide({ id: op.id, device: await mine.decide(op.digest) }),
        ]);
        expect(rs.map((r) => r.result)).toEqual(["rejected", "approved"]);
        expect((await w.approvals.state(op.id)).receipt?.receipt.credential).toBe(mine.credential);
        await chainHolds(mine.user, 1);
      });

      it("12 operations of one user decided at once, each by 3 racers: 12 receipts in one chain, never forked", async () => {
        const app = await appDevice(w);
        const ops = [];
        for (let i = 0; i < 12; i++) ops.push(await app.operation({ amount: 500 + i }));
        const decisions = await Promise.all(ops.map((o) => app.decide(o.digest, "accept")));
        const rs = await Promise.all(
          ops.flatMap((o, i) => [0, 1, 2].map(() => w.approvals.decide({ id: o.id, device: decisions[i]! }))),
        );
        expect(count(rs, "approved")).toBe(12);
        const chain = await chainHolds(app.user, 12);
        expect(chain.map((r) => r.receipt.operationDigest).sort()).toEqual(ops.map((o) => o.digest).sort());
      });

      it("a password reset racing decisions, a grant's check and a ticket's: what the event finds decided stands, everything after it is refused", async () => {
        for (let round = 0; round < 8; round++) {
          const app = await appDevice(w);
          const target = uid("perso");
          const g = await w.grants.create({ kind: "passerelle", owner: app.user, target });
          const active = await w.grants.activate({ id: g.id, operation: await app.consent() });
          const session = await w.events.stamp([
            { subject: { kind: "user", id: app.user }, class: "session" },
          ]);
          const op = await app.operation();
          const d = await app.decide(op.digest);
          const [r, check, e] = await Promise.all([
            w.approvals.decide({ id: op.id, device: d }),
            w.grants.check(g.id, active.epoch),
            w.events.record({
              type: "password-reset",
              subject: { kind: "user", id: app.user },
              cause: "race",
            }),
          ]);
          expect(check.valid || check.reason === "password-reset" || check.reason === "revoked").toBe(true);
          if (r.result === "approved") expect(e.operationsCancelled).toBe(0);
          else
            expect([r, e.operationsCancelled]).toEqual([{ result: "closed", reason: expect.any(String) }, 1]);
          await chainHolds(app.user, r.result === "approved" ? 2 : 1);
          // After the event: the grant, the ticket minted under it, the session and the device are refused.
          expect(await w.grants.check(g.id, active.epoch)).toEqual({
            valid: false,
            state: "revoked",
            reason: "password-reset",
          });
          expect(await w.events.valid(session)).toBe(false);
          const after = await app.operation();
          expect(await w.approvals.decide({ id: after.id, device: await app.decide(after.digest) })).toEqual({
            result: "closed",
            reason: "revoked",
          });
        }
      });
    });

    describe("the operation document", () => {
      it("changed in any field, with a look-alike or a space, or with a field added: refused for its id, and a decision made over the original refused", async () => {
        const app = await appDevice(w);
        const t = await keypad(w, app.user);
        const doc = transfer(w);
        const dev = await w.approvals.create({
          document: doc,
          user: app.user,
          credential: app.credential,
          method: "device",
        });
        const ocraDoc = transfer(w);
        const ocra = await w.approvals.create({
          document: ocraDoc,
          user: t.user,
          credential: t.credential,
          method: "ocra",
        });
        const variants: [string, object][] = [
          // transfer()'s amount: 1 234,56 €.
          ["the amount by one cent", { amount: { minor: 123_457, currency: "EUR" } }],
          ["the currency", { amount: { minor: 123_456, currency: "CHF" } }],
          ["the payee's IBAN by one digit", { payee: { ...PAYEE, iban: otherIban(PAYEE.iban) } }],
          ["the payee's name", { payee: { ...PAYEE, name: "Garage Martin SAS" } }],
          ["the payee's name with a Cyrillic а", { payee: { ...PAYEE, name: "Gаrage Martin SARL" } }],
          ["the payee's name with a trailing space", { payee: { ...PAYEE, name: "Garage Martin SARL " } }],
          ["the payee's name with a space doubled", { payee: { ...PAYEE, name: "Garage  Martin SARL" } }],
          [
            "the payee's name with a no-break space",
            { payee: { ...PAYEE, name: "Garage\u00a0Martin SARL" } },
          ],
          ["the account debited", { account: otherIban(ACCOUNT) }],
        ];
        for (const [what, change] of variants) {
          // The same id: the operation exists, never replaced.
          for (const [original, op] of [
            [doc, dev],
            [ocraDoc, ocra],
          ] as const)
            await expect(
              w.approvals.create({
                document: { ...original, ...change },
                user: app.user,
                credential: op.method === "device" ? app.credential : t.credential,
                method: op.method,
              }),
              what,
            ).rejects.toMatchObject({ code: expect.stringMatching(/^OPERATION_(EXISTS|INVALID)$/) });
          // Another id, the change in it: refused at the door (a name with a trailing space), or the device's
          // decision and the keypad's code over the original fail.
          const changedDoc = {
            ...transfer(w),
            ...change,
            id: uid("chg"),
            nonce: randomBytes(16).toString("hex"),
          };
          const changedDev = await w.approvals
            .create({ document: changedDoc, user: app.user, credential: app.credential, method: "device" })
            .catch((e: { code?: string }) => {
              expect(e.code, what).toBe("OPERATION_INVALID");
              return undefined;
            });
          if (!changedDev) continue;
          expect(
            await w.approvals.decide({ id: changedDev.id, device: await app.decide(dev.digest) }),
            what,
          ).toEqual({ result: "closed", reason: "changed" });
          const changedOcra = await w.approvals.create({
            document: { ...transfer(w), ...change, id: uid("chg"), nonce: randomBytes(16).toString("hex") },
            user: t.user,
            credential: t.credential,
            method: "ocra",
          });
          expect(
            (await w.approvals.decide({ id: changedOcra.id, decision: "approve", code: t.code(ocra) }))
              .result,
            what,
          ).toBe("rejected");
          await w.verifier.unlockUser(app.user);
        }
        // A field added is refused at the door; the same fields reordered, spaced out, are the same document.
        await expect(
          w.approvals.create({
            document: { ...transfer(w), memo: "urgent" },
            user: app.user,
            credential: app.credential,
            method: "device",
          }),
        ).rejects.toMatchObject({ code: "OPERATION_INVALID" });
        const reordered = JSON.parse(
          JSON.stringify(Object.fromEntries(Object.entries(doc).reverse()), null, 3),
        ) as unknown;
        await expect(
          w.approvals.create({
            document: reordered,
            user: app.user,
            credential: app.credential,
            method: "device",
          }),
        ).rejects.toMatchObject({ code: "OPERATION_EXISTS" });
        expect(canonicalJson(reordered)).toBe(canonicalJson(doc));
        expect((await w.approvals.decide({ id: dev.id, device: await app.decide(dev.digest) })).result).toBe(
          "approved",
        );
      });

      it.skipIf(!hooks.tamperDocument)(
        "the stored document changed behind the library's back (a pending and an approved one): refused on every read, never decided",
        async () => {
          const t = await keypad(w);
          const [pending, approved] = [await operationFor(t, "ocra"), await operationFor(t, "ocra")];
          expect(
            (await w.approvals.decide({ id: approved.id, decision: "approve", code: t.code(approved) }))
              .result,
          ).toBe("approved");
          for (const op of [pending, approved]) {
            const changed = {
              ...op.document,
              payee: { iban: "FR7630006000011234567890189", name: "Mallory" },
            };
            await hooks.tamperDocument!(op.id, canonicalJson(changed));
            await expect(w.approvals.state(op.id)).rejects.toMatchObject({ code: "OPERATION_INVALID" });
            await expect(w.approvals.prompt(op.id)).rejects.toMatchObject({ code: "OPERATION_INVALID" });
            await expect(w.approvals.list(t.user)).rejects.toMatchObject({ code: "OPERATION_INVALID" });
          }
          // The keypad shown the changed payee's digits: its code is never judged against the changed document.
          const shown = {
            ...pending,
            prompt: {
              ...pending.prompt,
              fields: { ...(pending.prompt as { fields: object }).fields, payee: "67890189" },
            },
          };
          await expect(
            w.approvals.decide({ id: pending.id, decision: "approve", code: t.code(shown as never) }),
          ).rejects.toMatchObject({ code: "OPERATION_INVALID" });
          expect((await w.verifier.userStatus(t.user)).failures).toBe(0);
          await chainHolds(t.user, 1);
        },
      );

      it.skipIf(!hooks.tamperReceipt)(
        "a receipt changed while it waited for its signature: never signed, never shown",
        async () => {
          const app = await appDevice(w);
          const [a, b] = [await app.operation(), await app.operation()];
          for (const op of [a, b])
            expect(
              (await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).result,
            ).toBe("approved");
          const stored = (await w.approvals.state(a.id)).receipt!;
          await hooks.tamperReceipt!(a.id, canonicalJson({ ...stored.receipt, result: "declined" }));
          await expect(w.approvals.state(a.id)).rejects.toMatchObject({ code: "RECEIPT_INVALID" });
          await expect(w.approvals.receipts(app.user)).rejects.toMatchObject({ code: "RECEIPT_INVALID" });
          expect((await w.approvals.state(b.id)).receipt?.receipt.result).toBe("approved");
        },
      );

      it("user A's operation decided with user B's device, keypad or reader: refused, never recorded", async () => {
        const a = await appDevice(w);
        const b = await appDevice(w);
        const ta = await keypad(w, a.user);
        const tb = await keypad(w, b.user);
        const ca = await reader(w, a.user);
        const cb = await reader(w, b.user);
        const dev = await a.operation();
        expect((await w.approvals.decide({ id: dev.id, device: await b.decide(dev.digest) })).result).toBe(
          "rejected",
        );
        const ocra = await w.approvals.create({
          document: transfer(w),
          user: a.user,
          credential: ta.credential,
          method: "ocra",
        });
        const cap = await w.approvals.create({
          document: transfer(w),
          user: a.user,
          credential: ca.credential,
          method: "cap-sign",
        });
        // B's tokens, shown A's operation (the same amount, payee and reference), answer with their own codes.
        expect(
          (await w.approvals.decide({ id: ocra.id, decision: "approve", code: tb.code(ocra) })).result,
        ).toBe("rejected");
        expect(
          (await w.approvals.decide({ id: cap.id, decision: "approve", code: await cb.code(cap) })).result,
        ).toBe("rejected");
        // B's own credential named for A's operation: refused at creation.
        await expect(
          w.approvals.create({
            document: transfer(w),
            user: a.user,
            credential: tb.credential,
            method: "ocra",
          }),
        ).rejects.toMatchObject({ code: "APPROVAL_METHOD_INVALID" });
        // B's session, A's operation ids: unknown to B — nothing judged, none of A's tries spent, nothing shown.
        await w.verifier.unlockUser(a.user);
        const trail = (await w.verifier.auditTrail({ user: a.user })).length;
        for (const call of [
          () => w.approvals.decide({ id: ocra.id, decision: "approve", code: "00000000", user: b.user }),
          () => w.approvals.decide({ id: dev.id, device: { ...fakeSignature(dev.digest) }, user: b.user }),
          () => w.approvals.state(dev.id, { user: b.user }),
          () => w.approvals.prompt(ocra.id, { user: b.user }),
          () => w.approvals.cancel(cap.id, "le client a quitté la page", { user: b.user }),
        ])
          await expect(call()).rejects.toMatchObject({
            code: "OPERATION_UNKNOWN",
            message: expect.stringMatching(/^no operation/),
          });
        expect((await w.verifier.auditTrail({ user: a.user })).length).toBe(trail);
        expect((await w.verifier.userStatus(a.user)).failures).toBe(0);
        expect((await w.approvals.state(dev.id, { user: a.user })).user).toBe(a.user);
        for (const op of [dev, ocra, cap]) expect((await w.approvals.state(op.id)).state).toBe("pending");
        expect(await w.approvals.receipts(a.user)).toEqual([]);
        expect(await w.approvals.receipts(b.user)).toEqual([]);
      });

      it("its credential disabled or revoked since its creation: closed, nothing judged, nothing counted, for every method", async () => {
        for (const change of ["disable", "revoke"] as const) {
          const app = await appDevice(w);
          const t = await keypad(w, app.user);
          const c = await reader(w, app.user);
          const ops = [
            await app.operation(),
            await operationFor(t, "ocra"),
            await operationFor(c, "cap-sign"),
          ];
          const answers = [
            { device: await app.decide(ops[0]!.digest) },
            { decision: "approve" as const, code: t.code(ops[1]!) },
            { decision: "approve" as const, code: await c.code(ops[2]!) },
          ];
          for (const id of [app.credential, t.credential, c.credential]) await w.verifier[change](id);
          for (const [i, op] of ops.entries())
            expect(
              await w.approvals.decide({ id: op.id, ...answers[i]! } as never),
              `${change} ${op.method}`,
            ).toEqual({
              result: "closed",
              reason: "revoked",
            });
          expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
          expect(await w.approvals.receipts(app.user)).toEqual([]);
        }
      });

      it("expired, cancelled or unknown: closed or OPERATION_UNKNOWN, nothing counted, no receipt, nothing written for an unknown id", async () => {
        const t = await keypad(w);
        const mk = () =>
          w.approvals.create({
            document: transfer(w),
            user: t.user,
            credential: t.credential,
            method: "ocra",
          });
        const [cancelled, expired] = [await mk(), await mk()];
        expect(await w.approvals.cancel(cancelled.id, "le client a quitté la page")).toBe(true);
        expect(await w.approvals.cancel(cancelled.id, "again")).toBe(false);
        w.clock.advance(300_000);
        for (const [op, reason] of [
          [cancelled, "cancelled"],
          [expired, "expired"],
        ] as const)
          expect(await w.approvals.decide({ id: op.id, decision: "approve", code: t.code(op) })).toEqual({
            result: "closed",
            reason,
          });
        expect(await w.approvals.cancel(expired.id, "too late")).toBe(false);
        const trail = (await w.verifier.auditTrail({ user: t.user })).length;
        for (const call of [
          () => w.approvals.decide({ id: "no-such-operation", decision: "approve", code: "12345678" }),
          () => w.approvals.state("no-such-operation"),
          () => w.approvals.cancel("no-such-operation", "x"),
          () => w.approvals.prompt("constructor"),
          () => w.approvals.state("__proto__"),
        ])
          await expect(call()).rejects.toMatchObject({ code: "OPERATION_UNKNOWN" });
        expect((await w.verifier.auditTrail({ user: t.user })).length).toBe(trail);
        expect((await w.verifier.userStatus(t.user)).failures).toBe(0);
        expect(await w.approvals.receipts(t.user)).toEqual([]);
      });
    });

    describe("the lockout", () => {
      it("a burst of 12 wrong keypad codes with the right one last, all at once: none approved, the user locked", async () => {
        const t = await keypad(w);
        const op = await operationFor(t, "ocra");
        const right = t.code(op);
        const rs = await Promise.all(
          [...wrongCodes(12, [right]), right].map((code) =>
            w.approvals.decide({ id: op.id, decision: "approve", code }),
          ),
        );
        expect(count(rs, "approved")).toBe(0);
        expect(rs.at(-1)).toEqual({ result: "locked" });
        expect(await w.verifier.userStatus(t.user)).toMatchObject({ locked: true });
        expect((await w.approvals.state(op.id)).state).toBe("pending");
      });

      it("a burst of 12 wrong reader codes with the right one last: none approved", async () => {
        const c = await reader(w);
        const op = await operationFor(c, "cap-sign");
        const right = await c.code(op);
        const rs = await Promise.all(
          [...wrongCodes(12, [right]), right].map((code) =>
            w.approvals.decide({ id: op.id, decision: "approve", code }),
          ),
        );
        expect(count(rs, "approved")).toBe(0);
        expect(rs.at(-1)).toEqual({ result: "locked" });
      });

      it("a burst of 12 forged device signatures with the right one last: none approved", async () => {
        const app = await appDevice(w);
        const op = await app.operation();
        const forged = Array.from({ length: 12 }, () => fakeSignature(op.digest));
        const rs = await Promise.all(
          [...forged, await app.decide(op.digest)].map((device) => w.approvals.decide({ id: op.id, device })),
        );
        expect(count(rs, "approved")).toBe(0);
        expect(rs.at(-1)).toEqual({ result: "locked" });
      });
    });

    describe("security events", () => {
      it("an account's event reaches what was stamped with the account; its users' own things need their own events", async () => {
        const app = await appDevice(w);
        const account = { kind: "account" as const, id: uid("account") };
        const user = { kind: "user" as const, id: app.user };
        const classes = ["device", "session", "grant", "operation"] as const;
        const byAccount = await w.events.stamp(classes.map((c) => ({ subject: account, class: c })));
        const byUser = await w.events.stamp(classes.map((c) => ({ subject: user, class: c })));
        const op = await app.operation();
        const e = await w.events.record({ type: "password-reset", subject: account, cause: "abonnement" });
        expect(e).toMatchObject({
          epochs: { device: 1, session: 1, grant: 1, operation: 1 },
          operationsCancelled: 0,
        });
        for (const [i, c] of classes.entries()) {
          expect(await w.events.valid([byAccount[i]!]), c).toBe(false);
          expect(await w.events.valid([byUser[i]!]), c).toBe(true);
        }
        expect((await w.approvals.state(op.id)).state).toBe("pending");
        await w.events.record({ type: "password-reset", subject: user, cause: "abonnement" });
        expect((await w.approvals.state(op.id)).state).toBe("cancelled");
        expect(await w.events.valid(byUser)).toBe(false);
      });
    });

    describe("grants", () => {
      it("a ticket's epoch after a security event, after a deactivation, after a reactivation: refused", async () => {
        const app = await appDevice(w);
        const g = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
        const { epoch } = await w.grants.activate({ id: g.id, operation: await app.consent() });
        expect(await w.grants.check(g.id, epoch)).toEqual({ valid: true, state: "active" });
        await w.events.record({
          type: "password-change",
          subject: { kind: "user", id: g.target },
          cause: "perso",
        });
        expect(await w.grants.check(g.id, epoch)).toMatchObject({ valid: false, reason: "password-change" });
        const g2 = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
        const a2 = await w.grants.activate({ id: g2.id, operation: await app.consent() });
        expect(await w.grants.deactivate({ id: g2.id, reason: "Préférences d'accès" })).toBe(true);
        expect(await w.grants.check(g2.id, a2.epoch)).toMatchObject({ valid: false, state: "deactivated" });
        await expect(w.grants.activate({ id: g2.id, operation: await app.consent() })).rejects.toMatchObject({
          code: "GRANT_INVALID",
          details: { reason: "not-pending" },
        });
      });

      it("an activation racing a password reset of its owner or target: the grant never outlives the event", async () => {
        for (let round = 0; round < 6; round++) {
          const app = await appDevice(w);
          const target = uid("perso");
          const g = await w.grants.create({ kind: "passerelle", owner: app.user, target });
          const ok = await app.consent();
          const on = round % 2 ? target : app.user;
          const [activated, e] = await Promise.allSettled([
            w.grants.activate({ id: g.id, operation: ok }),
            w.events.record({ type: "password-reset", subject: { kind: "user", id: on }, cause: "race" }),
          ]);
          expect(e.status).toBe("fulfilled");
          if (activated.status === "rejected")
            expect(activated.reason).toMatchObject({ code: "GRANT_INVALID" });
          expect(await w.grants.check(g.id)).toMatchObject({ valid: false, state: "revoked" });
        }
      });

      it("one consent, two grants activated with it at once: one active, the other GRANT_INVALID consent-used", async () => {
        for (let round = 0; round < 5; round++) {
          const app = await appDevice(w);
          const ok = await app.consent();
          const gs = [
            await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") }),
            await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") }),
          ];
          const rs = await Promise.allSettled(gs.map((g) => w.grants.activate({ id: g.id, operation: ok })));
          expect(rs.filter((r) => r.status === "fulfilled")).toHaveLength(1);
          const refused = rs.find((r) => r.status === "rejected") as PromiseRejectedResult;
          expect(refused.reason).toMatchObject({
            code: "GRANT_INVALID",
            details: { reason: "consent-used" },
          });
        }
      });

      it("a consent approved under another contract, or by another user, activates nothing", async () => {
        const app = await appDevice(w);
        const contract = uid("contract");
        const g = await w.grants.create({
          kind: "passerelle",
          owner: app.user,
          target: uid("perso"),
          contract,
        });
        for (const op of [await app.consent(uid("contract")), await (await appDevice(w)).consent()])
          await expect(w.grants.activate({ id: g.id, operation: op })).rejects.toMatchObject({
            code: "GRANT_INVALID",
            details: { reason: "consent-invalid" },
          });
        expect((await w.grants.activate({ id: g.id, operation: await app.consent(contract) })).state).toBe(
          "active",
        );
      });
    });
  });
}
