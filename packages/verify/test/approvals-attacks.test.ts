import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CapkitError, toBase64, toHex } from "@capkit/core";
import {
  canonicalJson,
  generateSigningKey,
  type SignedReceipt,
  softwareSigner,
  verifyReceipt,
  verifyReceiptChain,
} from "@capkit/provision";
import { codePointText, HOSTILE_NAMES, REFUSED_RANGES } from "@capkit/test-support/hostile-text";
import Database from "better-sqlite3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemorySecurityStore, type SecurityStore } from "../src/approvals.js";
import { MemoryStore, type StateStore } from "../src/index.js";
import { SqliteSecurityStore, SqliteStore } from "../src/sqlite.js";
import { approvalsAttacks } from "./approvals-attacks.js";
import { appDevice, keypad, PAYEE, reader, transfer, uid, world } from "./approvals-world.js";
import { watchCalls } from "./store-writes.js";

approvalsAttacks("the memory store", async () => {
  const store = new MemoryStore();
  return { store, security: new MemorySecurityStore(store) };
});

const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-attacks-"));
const path = join(dir, "state.db");
approvalsAttacks(
  "SQLite",
  async () => {
    const store = new SqliteStore(path);
    return { store, security: new SqliteSecurityStore(path) };
  },
  {
    tamperDocument: async (id, document) => {
      const db = new Database(path);
      db.prepare("UPDATE capkit_operations SET document = ? WHERE id = ?").run(document, id);
      db.close();
    },
    tamperReceipt: async (operation, body) => {
      const db = new Database(path);
      db.prepare(
        "UPDATE capkit_receipts SET body = ?, signature = NULL, key_id = NULL WHERE operation_id = ?",
      ).run(body, operation);
      db.close();
    },
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);

/** A world on the memory stores, every call to either store logged in `calls`: what the door lets through. */
function countedWorld(): { w: ReturnType<typeof world>; calls: string[] } {
  const calls: string[] = [];
  const log = (method: string) => calls.push(method);
  const base = new MemoryStore();
  const store = watchCalls<StateStore>(base, log);
  const security = watchCalls<SecurityStore>(new MemorySecurityStore(base), log);
  return { w: world({ store, security }), calls };
}

describe("hostile ids and types at every public method", () => {
  it("INPUT_INVALID before any store call, nothing counted; prototype names are ordinary unknown ids", async () => {
    const { w, calls: storeCalls } = countedWorld();
    const app = await appDevice(w);
    const op = await app.operation();
    const device = await app.decide(op.digest);
    const g = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
    const huge = "x".repeat(4 << 20);
    const notIds = [huge, "a\0b", "", 42, null, undefined, {}, [], true, Number.NaN, "a b", "é"];
    const notNumbers = ["10", Number.NaN, Number.POSITIVE_INFINITY, {}, [], null, -1, 1.5, huge];
    const user = app.user;
    const doc = transfer(w);
    const calls: [string, () => Promise<unknown>][] = [];
    const each = (what: string, values: readonly unknown[], f: (v: never) => Promise<unknown>) =>
      values.forEach((v, i) => {
        calls.push([`${what} #${i}`, () => f(v as never)]);
      });
    each("create(req)", [null, 42, "x", huge], (v) => w.approvals.create(v));
    for (const field of ["user", "credential", "contract"])
      each(
        `create.${field}`,
        notIds.filter((v) => v !== undefined || field !== "contract"),
        (v) =>
          w.approvals.create({
            document: doc,
            user,
            credential: app.credential,
            method: "device",
            [field]: v,
          }),
      );
    each("create.method", ["__proto__", "toString", "", 1, null], (v) =>
      w.approvals.create({ document: doc, user, credential: app.credential, method: v }),
    );
    each("state", notIds, (v) => w.approvals.state(v));
    each("prompt", notIds, (v) => w.approvals.prompt(v));
    each("list(user)", notIds, (v) => w.approvals.list(v));
    each("list(options)", [null, 42, "x"], (v) => w.approvals.list(user, v));
    each("list.state", ["toString", "expired", 1, {}], (v) => w.approvals.list(user, { state: v }));
    each(
      "list.after",
      notIds.filter((v) => v !== undefined),
      (v) => w.approvals.list(user, { after: v }),
    );
    each("list.limit", notNumbers, (v) => w.approvals.list(user, { limit: v }));
    each("decide(req)", [null, 42, "x"], (v) => w.approvals.decide(v));
    each("decide.id", notIds, (v) => w.approvals.decide({ id: v, device }));
    each(
      "decide.user",
      notIds.filter((v) => v !== undefined),
      (v) => w.approvals.decide({ id: op.id, device, user: v }),
    );
    each("state(asked)", [null, 42, "x", { user: 42 }, { user: "a\0" }], (v) => w.approvals.state(op.id, v));
    each("prompt(asked)", [null, 42, { user: huge }], (v) => w.approvals.prompt(op.id, v));
    each(
      "decide.device",
      [null, 42, {}, { ...device, decision: "toString" }, { ...device, signature: huge }],
      (v) => w.approvals.decide({ id: op.id, device: v }),
    );
    each("decide.decision", ["accept", "__proto__", 1, null], (v) =>
      w.approvals.decide({ id: op.id, decision: v, code: "12345678" }),
    );
    each("decide.code", [huge, "", 12345678, null, "1234\u00005678", "1234\n5678"], (v) =>
      w.approvals.decide({ id: op.id, decision: "approve", code: v }),
    );
    each("cancel.id", notIds, (v) => w.approvals.cancel(v, "reason"));
    each("cancel(asked)", [null, 42, { user: "a b" }], (v) => w.approvals.cancel(op.id, "reason", v));
    each("cancel.reason", [huge, "", 42, null, "a\0b"], (v) => w.approvals.cancel(op.id, v));
    each("receipts(user)", notIds, (v) => w.approvals.receipts(v));
    each("receipts(options)", [null, 42], (v) => w.approvals.receipts(user, v));
    each("receipts.after", notNumbers, (v) => w.approvals.receipts(user, { after: v }));
    each("receipts.limit", notNumbers, (v) => w.approvals.receipts(user, { limit: v }));
    each("registerDevice(req)", [null, 42, "x"], (v) => w.approvals.registerDevice(v));
    each("registerDevice.credential", notIds, (v) =>
      w.approvals.registerDevice({ credential: v, publicKey: app.device.publicKey }),
    );
    each("registerDevice.publicKey", [null, "x", new Uint8Array(65), [4, 1, 2], huge], (v) =>
      w.approvals.registerDevice({ credential: app.credential, publicKey: v }),
    );
    const subject = { kind: "user" as const, id: user };
    each("record(req)", [null, 42, "x"], (v) => w.events.record(v));
    each("record.type", ["__proto__", "toString", "constructor", 1, null], (v) =>
      w.events.record({ type: v, subject, cause: "x" }),
    );
    each("record.subject", [null, "user", { kind: "__proto__", id: user }, { kind: "user", id: huge }], (v) =>
      w.events.record({ type: "password-change", subject: v, cause: "x" }),
    );
    each("record.cause", [huge, "", 42, null, "a\u0000b"], (v) =>
      w.events.record({ type: "password-change", subject, cause: v }),
    );
    each("events.list(options)", [null, 42], (v) => w.events.list(v));
    each("events.list.after", notNumbers, (v) => w.events.list({ after: v }));
    each("events.list.limit", notNumbers, (v) => w.events.list({ limit: v }));
    each("events.list.subject", [null, 42, { kind: "user", id: "a\0" }], (v) =>
      w.events.list({ subject: v }),
    );
    each("epochs", [null, { kind: "user" }, { kind: "toString", id: user }], (v) => w.events.epochs(v));
    each(
      "stamp",
      [null, [], [null], [{ subject, class: "toString" }], Array(17).fill({ subject, class: "session" })],
      (v) => w.events.stamp(v),
    );
    each(
      "valid",
      [
        null,
        [],
        [{ ...subject, class: "session", epoch: "0" }],
        [{ ...subject, class: "session", epoch: -1 }],
      ],
      (v) => w.events.valid(v),
    );
    each("grants.create(req)", [null, 42], (v) => w.grants.create(v));
    each("grants.create.kind", ["__proto__", "toString", 1], (v) =>
      w.grants.create({ kind: v, owner: user, target: "b" }),
    );
    for (const field of ["owner", "target", "contract"])
      each(
        `grants.create.${field}`,
        notIds.filter((v) => v !== undefined || field === "target"),
        (v) => w.grants.create({ kind: "passerelle", owner: user, target: "b", [field]: v }),
      );
    const grantIds = [...notIds, "__proto__", "constructor", "0".repeat(31), "G".repeat(32)];
    each("grants.activate(req)", [null, 42], (v) => w.grants.activate(v));
    each("grants.activate.id", grantIds, (v) => w.grants.activate({ id: v, operation: op.id }));
    each("grants.activate.operation", notIds, (v) => w.grants.activate({ id: g.id, operation: v }));
    each("grants.deactivate(req)", [null, 42], (v) => w.grants.deactivate(v));
    each("grants.deactivate.id", grantIds, (v) => w.grants.deactivate({ id: v, reason: "x" }));
    each("grants.deactivate.reason", [huge, "", 42, null, "a\0b"], (v) =>
      w.grants.deactivate({ id: g.id, reason: v }),
    );
    each("grants.check", grantIds, (v) => w.grants.check(v));
    each("grants.check.epoch", notNumbers, (v) => w.grants.check(g.id, v));
    each("grants.get", grantIds, (v) => w.grants.get(v));
    each("grants.list", notIds, (v) => w.grants.list(v));
    each("grants.list.limit", notNumbers, (v) => w.grants.list(user, v));

    const trail = (await w.verifier.auditTrail({})).length;
    storeCalls.length = 0;
    const wrong: string[] = [];
    for (const [what, call] of calls) {
      const before = storeCalls.length;
      let outcome: string;
      try {
        await call();
        outcome = "no error";
      } catch (e) {
        outcome = e instanceof CapkitError ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
        if (e instanceof CapkitError && e.message.length > 300) outcome += " (a message of 300+ characters)";
      }
      const touched = storeCalls.length - before;
      if (outcome !== "INPUT_INVALID" || touched > 0)
        wrong.push(`${what}: ${outcome}${touched ? `, ${touched} store call(s)` : ""}`);
    }
    // A document that is not one: OPERATION_INVALID (the document's own error), before any store call too.
    for (const document of [
      huge,
      42,
      null,
      [],
      JSON.parse(`{"__proto__": 1, ${JSON.stringify(doc).slice(1)}`),
      { ...doc, memo: huge },
    ]) {
      const before = storeCalls.length;
      await expect(
        w.approvals.create({ document, user, credential: app.credential, method: "device" }),
      ).rejects.toMatchObject({ code: "OPERATION_INVALID" });
      if (storeCalls.length !== before)
        wrong.push(`create.document ${String(document).slice(0, 20)}: a store call`);
    }
    expect(wrong).toEqual([]);
    expect((await w.verifier.auditTrail({})).length).toBe(trail);
    expect((await w.verifier.userStatus(user)).failures).toBe(0);
    // Names an object's prototype has are ids like any other: unknown, typed, nothing found through them.
    for (const id of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      await expect(w.approvals.state(id)).rejects.toMatchObject({ code: "OPERATION_UNKNOWN" });
      expect(await w.approvals.list(id)).toEqual([]);
      expect(await w.approvals.receipts(id)).toEqual([]);
      expect(await w.events.epochs({ kind: "user", id })).toEqual({
        device: 0,
        session: 0,
        grant: 0,
        operation: 0,
      });
      await expect(
        w.approvals.registerDevice({ credential: id, publicKey: app.device.publicKey }),
      ).rejects.toMatchObject({ code: "CREDENTIAL_UNKNOWN" });
    }
  });
});

describe("payees' names a screen would not show as they are (@capkit/provision's display-safe text)", () => {
  it("refused at create, OPERATION_INVALID naming the name, before any store call: nothing counted or written", async () => {
    const { w, calls: storeCalls } = countedWorld();
    const app = await appDevice(w);
    const pad = await keypad(w);
    const doc = transfer(w);
    /** The document with `name` put in behind the builder's back, as a caller may hand it. */
    const attempt = async (name: string) => {
      for (const [who, method] of [
        [app, "device"],
        [pad, "ocra"],
      ] as const) {
        storeCalls.length = 0;
        const document = { ...doc, payee: { ...PAYEE, name } };
        await expect(
          w.approvals.create({ document, user: who.user, credential: who.credential, method }),
        ).rejects.toMatchObject({ code: "OPERATION_INVALID", details: { field: "payee.name" } });
        expect([...storeCalls], `${JSON.stringify(name)}: a store was asked`).toEqual([]);
      }
    };
    for (const [, name, parsed] of HOSTILE_NAMES) if (parsed === "refused") await attempt(name);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 20, unit: "grapheme" }),
        fc.oneof(...REFUSED_RANGES.map(([min, max]) => fc.integer({ min, max }))),
        fc.string({ maxLength: 20, unit: "binary" }),
        async (before, cp, after) => attempt(`${before}${codePointText(cp)}${after}`),
      ),
      { numRuns: 200 },
    );
    // The safe names of the table are created, and kept as the builder made them (NFC).
    for (const [what, name, , created] of HOSTILE_NAMES) {
      if (created === "refused") continue;
      const op = await w.approvals.create({
        document: transfer(w, { payee: { ...PAYEE, name } }),
        user: app.user,
        credential: app.credential,
        method: "device",
      });
      const kept = (await w.approvals.state(op.id)).document;
      expect(kept.type === "transfer" && kept.payee.name, what).toBe(created);
    }
  });
});

describe("another user's operation", () => {
  it("answers as an unknown id does, with the same work: one store read, nothing written", async () => {
    const { w, calls: storeCalls } = countedWorld();
    const alice = await appDevice(w);
    const mallory = await appDevice(w);
    const op = await alice.operation();
    const work = async (id: string) => {
      storeCalls.length = 0;
      const e = await w.approvals
        .decide({ id, decision: "approve", code: "12345678", user: mallory.user })
        .catch((x: CapkitError) => x);
      return {
        code: (e as CapkitError).code,
        message: (e as CapkitError).message.replace(id, "ID"),
        calls: [...storeCalls],
      };
    };
    const theirs = await work(op.id);
    expect(theirs).toEqual(await work("op-never-made"));
    expect(theirs).toEqual({ code: "OPERATION_UNKNOWN", message: "no operation ID", calls: ["operation"] });
  });
});

describe("time", () => {
  it("an operation that expires while its decision waits its turn in the lockout is not decided", async () => {
    const base = new MemoryStore();
    let w: ReturnType<typeof world> | undefined;
    // The verifier's store takes five minutes to count a success (a queue of attempts before it, a slow disk).
    const slow = watchCalls(base, (method) => {
      if (method === "succeed") w!.clock.advance(300_000);
    });
    w = world({ store: slow, security: new MemorySecurityStore(base) });
    const app = await appDevice(w);
    const op = await app.operation();
    expect(await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).toEqual({
      result: "closed",
      reason: "expired",
    });
    expect((await w.approvals.state(op.id)).state).toBe("expired");
    expect(await w.approvals.receipts(app.user)).toEqual([]);
  });
});

describe("a decision whose write failed", () => {
  /** A memory security store whose next `decide` fails as a database gone away would. */
  const flaky = (store: MemoryStore) => {
    const security = new MemorySecurityStore(store);
    let fail = true;
    const decide = security.decide.bind(security);
    security.decide = async (d) => {
      if (!fail) return decide(d);
      fail = false;
      throw new CapkitError("STORE_UNAVAILABLE", "the database went away");
    };
    return security;
  };

  it("by the device: sent again, it is recorded", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: flaky(store) });
    const app = await appDevice(w);
    const op = await app.operation();
    const d = await app.decide(op.digest);
    await expect(w.approvals.decide({ id: op.id, device: d })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    expect((await w.approvals.decide({ id: op.id, device: d })).result).toBe("approved");
  });

  // The operation is what makes a keypad's code single-use (its question has no counter or time): the code
  // accepted before the write failed is judged again for the same, still pending, operation.
  it("by the keypad: the same code sent again for the same operation is recorded", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: flaky(store) });
    const t = await keypad(w);
    const op = await w.approvals.create({
      document: transfer(w),
      user: t.user,
      credential: t.credential,
      method: "ocra",
    });
    const code = t.code(op);
    await expect(w.approvals.decide({ id: op.id, decision: "approve", code })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    expect(await w.approvals.decide({ id: op.id, decision: "approve", code })).toMatchObject({
      result: "approved",
    });
  });
  it("by the reader: a new code (the card's next ATC) is recorded; the spent one is not counted", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: flaky(store) });
    const c = await reader(w);
    const op = await w.approvals.create({
      document: transfer(w),
      user: c.user,
      credential: c.credential,
      method: "cap-sign",
    });
    const first = await c.code(op);
    await expect(w.approvals.decide({ id: op.id, decision: "approve", code: first })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    expect(await w.approvals.decide({ id: op.id, decision: "approve", code: first })).toMatchObject({
      result: "rejected",
      replayed: true,
    });
    expect(
      (await w.approvals.decide({ id: op.id, decision: "approve", code: await c.code(op) })).result,
    ).toBe("approved");
    expect((await w.verifier.userStatus(c.user)).failures).toBe(0);
  });
});

describe("receipts checked offline with the public keys alone", () => {
  /** A user's chain of 4 receipts (approve, decline, approve, approve) and the bank's public keys. */
  const chainOf = async () => {
    const store = new MemoryStore();
    const w = world({ store, security: new MemorySecurityStore(store) });
    const app = await appDevice(w);
    for (const d of ["accept", "decline", "accept", "accept"] as const) {
      const op = await app.operation();
      await w.approvals.decide({ id: op.id, device: await app.decide(op.digest, d) });
      w.clock.advance(1000);
    }
    return { w, app, chain: await w.approvals.receipts(app.user), keys: await w.approvals.receiptKeys() };
  };

  it("a forged field, a receipt re-signed with another key, a truncated or reordered chain, another user's receipt: refused", async () => {
    const { chain, keys } = await chainOf();
    expect(verifyReceiptChain(chain, keys)).toEqual({ ok: true });
    const mallory = softwareSigner(generateSigningKey(), Object.keys(keys)[0]!);
    const resign = async (s: SignedReceipt, signer = mallory): Promise<SignedReceipt> => ({
      receipt: s.receipt,
      keyId: signer.keyId,
      signature: toBase64(await signer.sign(new TextEncoder().encode(canonicalJson(s.receipt)))),
    });
    const forged = { ...chain[1]!, receipt: { ...chain[1]!.receipt, result: "approved" as const } };
    expect(verifyReceipt(forged, keys)).toEqual({ ok: false, reason: "bad-signature" });
    // Mallory's own key, under the bank's key id and under her own.
    expect(verifyReceipt(await resign(forged), keys)).toEqual({ ok: false, reason: "bad-signature" });
    const own = softwareSigner(generateSigningKey(), "mallory");
    expect(verifyReceipt(await resign(forged, own), keys)).toEqual({ ok: false, reason: "unknown-key" });
    // A chain that does not start at the user's first receipt; a signature cut short; reordered.
    expect(verifyReceiptChain(chain.slice(1), keys)).toEqual({ ok: false, reason: "broken-chain", index: 0 });
    const cut = { ...chain[0]!, signature: chain[0]!.signature.slice(0, 40) };
    expect(verifyReceiptChain([cut, ...chain.slice(1)], keys)).toMatchObject({ ok: false, index: 0 });
    expect(verifyReceiptChain([chain[1], chain[0], chain[2], chain[3]], keys)).toMatchObject({
      ok: false,
      index: 0,
    });
    expect(verifyReceiptChain([chain[0], chain[1], chain[3], chain[2]], keys)).toMatchObject({
      ok: false,
      index: 2,
    });
    // Another user's receipt in its place, signed by the bank too.
    const other = await chainOf();
    expect(verifyReceiptChain([chain[0], other.chain[1]], { ...keys, ...other.keys })).toMatchObject({
      ok: false,
      index: 1,
    });
    // Hostile key ids: never a prototype's member taken for a key.
    for (const keyId of ["__proto__", "constructor", "toString"])
      expect(verifyReceipt({ ...chain[0]!, keyId }, keys)).toMatchObject({ ok: false });
  });

  it("no secret — OATH secret, device or bank key, card PAN or issuer key — in any receipt, event, audit row, state or error", async () => {
    const material = { masterKey: toHex(randomBytes(32)).toUpperCase(), allowTestKeys: true as const };
    const store = new MemoryStore();
    const w = world({ store, security: new MemorySecurityStore(store) }, material);
    const t = await keypad(w);
    const card = await reader(w, t.user);
    const app = await appDevice(w, t.user);
    const said: string[] = [];
    const keep = async (f: () => Promise<unknown>) => {
      try {
        said.push(JSON.stringify(await f()));
      } catch (e) {
        said.push(
          `${(e as Error).message} ${JSON.stringify((e as CapkitError).details ?? {})} ${(e as CapkitError).hint ?? ""}`,
        );
      }
    };
    const ops = [
      await w.approvals.create({
        document: transfer(w),
        user: t.user,
        credential: t.credential,
        method: "ocra",
      }),
      await w.approvals.create({
        document: transfer(w),
        user: t.user,
        credential: card.credential,
        method: "cap-sign",
      }),
      await app.operation(),
    ];
    said.push(JSON.stringify(ops));
    await keep(() => w.approvals.decide({ id: ops[0]!.id, decision: "approve", code: "00000000" }));
    await keep(() => w.approvals.decide({ id: ops[0]!.id, decision: "approve", code: t.code(ops[0]!) }));
    await keep(async () =>
      w.approvals.decide({ id: ops[1]!.id, decision: "approve", code: await card.code(ops[1]!) }),
    );
    await keep(async () => w.approvals.decide({ id: ops[2]!.id, device: await app.decide(ops[2]!.digest) }));
    await keep(() =>
      w.approvals.create({
        document: transfer(w),
        user: t.user,
        credential: card.credential,
        method: "ocra",
      }),
    );
    await keep(() =>
      w.approvals.create({
        document: transfer(w),
        user: "someone",
        credential: t.credential,
        method: "ocra",
      }),
    );
    await keep(() =>
      w.events.record({ type: "password-reset", subject: { kind: "user", id: t.user }, cause: "oubli" }),
    );
    await keep(() => w.approvals.receipts(t.user));
    await keep(() => w.events.list({}));
    await keep(() => w.verifier.auditTrail({ user: t.user }));
    for (const o of ops) await keep(() => w.approvals.state(o.id));
    const text = said.join("\n");
    const stored = [await store.get(t.credential), await store.get(card.credential)];
    const record = (stored[1]!.params as { record: Record<string, unknown> }).record;
    const secrets = [
      material.masterKey,
      material.masterKey.toLowerCase(),
      String(record["pan"] ?? "no pan"),
      ...stored.flatMap((c) => (c?.sealed ? [c.sealed] : [])),
    ];
    for (const s of secrets)
      expect(text.includes(s), `a secret in the output: ${s.slice(0, 8)}…`).toBe(false);
    expect(text).not.toMatch(/sealed|masterKey|privateKey|"secret"|"pin"/i);
  });
});
