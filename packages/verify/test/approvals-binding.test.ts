import { HmacKey, totp } from "@capkit/oath";
import {
  type ActivationCredential,
  type ActivationServerState,
  activationPolicy,
  activationServerStep,
  CAP_CURRENCIES,
  type OperationDocument,
  payeeDigits,
  startActivation,
  verifyReceipt,
} from "@capkit/provision";
import { MemoryKeyStore, SoftDigipass } from "@capkit/token-sim/soft-digipass";
import fc from "fast-check";
import { composeIBAN, extractIBAN } from "ibantools";
import { beforeAll, describe, expect, it } from "vitest";
import { MemorySecurityStore } from "../src/approvals.js";
import { MemoryStore } from "../src/index.js";
import {
  ACCOUNT,
  appDevice,
  keypad,
  PAYEE,
  reader,
  transfer,
  uid,
  type World,
  world,
} from "./approvals-world.js";

/**
 * Dynamic linking (PSD2 RTS Art. 5(1)(b)–(d)), property-tested for each device: the customer decided operation
 * A; the decision — a device signature, a keypad code, a reader code — is made over A changed by one unit or
 * one character (the amount, the payee's IBAN or name, the currency, the account debited), as a man in the
 * browser would have it shown. It must not decide A. Each property also decides A with A's own answer, so a
 * property that let everything through would fail.
 */

type Change = "amount" | "payee-iban" | "payee-name" | "currency" | "account";
interface Fields {
  amount: number;
  currency: string;
  payee: { iban: string; name: string };
  account: string;
}
const BASE: Fields = { amount: 123_456, currency: "EUR", payee: PAYEE, account: ACCOUNT };

/** One digit of a German BBAN changed and the IBAN's check digits made right again: a valid, other IBAN. */
function otherIban(iban: string, position: number, by: number): string {
  const { bban, countryCode } = extractIBAN(iban);
  const p = position % bban!.length;
  const digit = (Number(bban![p]) + 1 + (by % 9)) % 10;
  return composeIBAN({
    countryCode: countryCode!,
    bban: `${bban!.slice(0, p)}${digit}${bban!.slice(p + 1)}`,
  })!;
}

const change = fc.record({
  what: fc.constantFrom<Change>("amount", "payee-iban", "payee-name", "currency", "account"),
  position: fc.nat(100),
  by: fc.nat(100),
  up: fc.boolean(),
});

interface ChangeSpec {
  what: Change;
  position: number;
  by: number;
  up: boolean;
}

function changed(f: Fields, c: ChangeSpec): Fields {
  switch (c.what) {
    case "amount":
      return { ...f, amount: f.amount + (c.up ? 1 : -1) };
    case "payee-iban":
      return { ...f, payee: { ...f.payee, iban: otherIban(f.payee.iban, c.position, c.by) } };
    case "payee-name": {
      const p = c.position % f.payee.name.length;
      const ch = f.payee.name[p] === "X" ? "Y" : "X";
      return {
        ...f,
        payee: { ...f.payee, name: `${f.payee.name.slice(0, p)}${ch}${f.payee.name.slice(p + 1)}` },
      };
    }
    case "currency": {
      const others = Object.keys(CAP_CURRENCIES).filter((x) => x !== f.currency);
      return { ...f, currency: others[c.by % others.length]! };
    }
    case "account":
      return { ...f, account: otherIban(f.account, c.position, c.by) };
  }
}

describe("dynamic linking: one unit or one character changed, refused", () => {
  let w: World;
  beforeAll(() => {
    const store = new MemoryStore();
    w = world({ store, security: new MemorySecurityStore(store) });
  });

  it("device (Pass Sécurité): a signature over the changed document never decides the operation", async () => {
    const app = await appDevice(w);
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        const a = await w.approvals.create({
          document: transfer(w, BASE),
          user: app.user,
          credential: app.credential,
          method: "device",
        });
        const b = await w.approvals.create({
          document: transfer(w, changed(BASE, c)),
          user: app.user,
          credential: app.credential,
          method: "device",
        });
        expect(b.digest).not.toBe(a.digest);
        // What the app signs when it was shown B, presented for A, and the other way round.
        expect(await w.approvals.decide({ id: a.id, device: await app.decide(b.digest) })).toEqual({
          result: "closed",
          reason: "changed",
        });
        expect(await w.approvals.decide({ id: b.id, device: await app.decide(a.digest) })).toMatchObject({
          result: "closed",
        });
        expect((await w.approvals.decide({ id: a.id, device: await app.decide(a.digest) })).result).toBe(
          "approved",
        );
      }),
      { numRuns: 60 },
    );
    expect((await w.verifier.userStatus(app.user)).failures).toBe(0);
  });

  it("ocra (SGpass keypad): a code typed from the changed document never decides the operation", async () => {
    const t = await keypad(w);
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        await w.verifier.unlockUser(t.user);
        const create = (f: Fields) =>
          w.approvals.create({
            document: transfer(w, f),
            user: t.user,
            credential: t.credential,
            method: "ocra",
          });
        const a = await create(BASE);
        // The prompt B's page would show (amount, payee digits, reference), typed on the keypad.
        const b = await create(changed(BASE, c));
        expect((await w.approvals.decide({ id: a.id, decision: "approve", code: t.code(b) })).result).toBe(
          "rejected",
        );
        expect((await w.approvals.decide({ id: a.id, decision: "approve", code: t.code(a) })).result).toBe(
          "approved",
        );
      }),
      { numRuns: 60 },
    );
  });

  it("cap-sign (Sésame reader): a change of what the customer types is refused; the rest is not bound, as documented", async () => {
    const card = await reader(w); // MasterCard CAP, IAF 80: the amount and the currency enter the cryptogram
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        await w.verifier.unlockUser(card.user);
        const create = (f: Fields) =>
          w.approvals.create({
            document: transfer(w, f),
            user: card.user,
            credential: card.credential,
            method: "cap-sign",
          });
        const to = changed(BASE, c);
        const a = await create(BASE);
        const b = await create(to);
        const typedChanged =
          to.amount !== BASE.amount ||
          to.currency !== BASE.currency ||
          payeeDigits(to.payee.iban) !== payeeDigits(BASE.payee.iban);
        const r = await w.approvals.decide({ id: a.id, decision: "approve", code: await card.code(b) });
        // A CAP Sign binds what was typed, nothing more (docs/architecture.md §12.1): the payee's name, the
        // IBAN's first characters and the account debited are not in the code.
        expect(r.result).toBe(typedChanged ? "rejected" : "approved");
        if (typedChanged)
          expect(
            (await w.approvals.decide({ id: a.id, decision: "approve", code: await card.code(a) })).result,
          ).toBe("approved");
      }),
      { numRuns: 60 },
    );
  });
});

describe("the in-app virtual Digipass as « Pass Sécurité », end to end", () => {
  it("activated with the bank's receipt key, shows the operation from the signed document only, and its decision is receipted", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: new MemorySecurityStore(store) });
    const bankKeys = await w.approvals.receiptKeys();
    const started = startActivation({
      policy: activationPolicy({ features: ["sms", "password"] }),
      serverIdentity: "bank.example",
      serial: "SOFT0042",
      instance: 1,
      now: w.clock.now() / 1000,
      bankKeys,
    });
    let state: ActivationServerState = started.state;
    let credential: ActivationCredential | undefined;
    const otp = () => {
      const c = credential!;
      return totp(new HmacKey(c.seed, c.otp.algorithm), w.clock.now() / 1000, c.otp.digits, {
        step: c.otp.step,
      });
    };
    const transport = async (request: string) => {
      const r = await activationServerStep({
        state,
        request,
        now: w.clock.now() / 1000,
        checks: { password: (p) => p === "112233", otp: (code) => code === otp() },
      });
      state = r.state;
      if (r.credential) credential = r.credential;
      return r.reply;
    };
    const app = await SoftDigipass.open({ store: new MemoryKeyStore(), appVersion: "5.2.0", clock: w.clock });
    await app.activate({
      transport,
      activationId: state.activationId,
      regId: state.regId,
      serverIdentity: "bank.example",
      codes: { sms: started.codes.sms! },
      bankPassword: "112233",
      appPassword: "246810",
    });
    const user = uid("client");
    const id = `${credential!.serial}.${credential!.instance}`;
    await w.verifier.enroll({ id, user, kind: "totp", secret: credential!.seed });
    await w.approvals.registerDevice({ credential: id, publicKey: credential!.devicePublicKey });

    const op = await w.approvals.create({ document: transfer(w), user, credential: id, method: "device" });
    const { view } = await app.review(op.signed);
    expect(view.title).toBe("Virement");
    expect(view.lines).toContainEqual(["Bénéficiaire", PAYEE.name]);
    // A man in the browser changing the payee of the signed document: the app refuses to show it.
    const forged = {
      ...op.signed!,
      operation: { ...op.signed!.operation, payee: { ...PAYEE, name: "Mallory" } },
    };
    await expect(app.review(forged)).rejects.toMatchObject({ code: "OPERATION_SIGNATURE_INVALID" });
    const r = await w.approvals.decide({ id: op.id, device: await app.decide(op.signed, "accept") });
    if (r.result !== "approved") throw new Error(JSON.stringify(r));
    expect(verifyReceipt(r.receipt, bankKeys)).toEqual({ ok: true });
    expect(r.receipt.receipt).toMatchObject({ credential: id, user, method: "device", result: "approved" });
    const doc: OperationDocument = op.document;
    expect(doc.type).toBe("transfer");
  }, 60_000);
});
