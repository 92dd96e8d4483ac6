import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CapkitError } from "@capkit/core";
import { verifyReceipt } from "@capkit/provision";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { MemorySecurityStore } from "../src/approvals.js";
import { MemoryStore } from "../src/index.js";
import { SqliteSecurityStore, SqliteStore } from "../src/sqlite.js";
import { approvalsConformance } from "./approvals-conformance.js";
import { appDevice, transfer, uid, world } from "./approvals-world.js";

approvalsConformance("the memory store", async () => {
  const store = new MemoryStore();
  return { store, security: new MemorySecurityStore(store) };
});

const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-"));
approvalsConformance(
  "SQLite",
  async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStore(path);
    return { store, security: new SqliteSecurityStore(path) };
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);
const prefixedDir = mkdtempSync(join(tmpdir(), "capkit-approvals-prefixed-"));
approvalsConformance(
  "SQLite (tablePrefix auth_)",
  async () => {
    const path = join(prefixedDir, "state.db");
    const store = new SqliteStore(path, { tablePrefix: "auth_" });
    return { store, security: new SqliteSecurityStore(path, { tablePrefix: "auth_" }) };
  },
  async () => rmSync(prefixedDir, { recursive: true, force: true }),
);

describe("stamps are checked on every use, not only by the events' own cascade", () => {
  it("an operation or a grant whose subject's epoch moved behind its back (a creation racing an event) is refused", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "capkit-approvals-stamp-")), "state.db");
    const store = new SqliteStore(path);
    const w = world({ store, security: new SqliteSecurityStore(path) });
    const app = await appDevice(w);
    const op = await app.operation();
    const g = await w.grants.create({ kind: "passerelle", owner: app.user, target: uid("perso") });
    await w.grants.activate({ id: g.id, operation: await app.consent() });
    expect((await w.grants.check(g.id)).valid).toBe(true);
    // What an event committed between a creation's read of the epochs and its insert leaves: a newer epoch and
    // nothing cancelled (the statement that cancels did not see the row yet).
    const db = new Database(path);
    db.prepare(
      "UPDATE capkit_security_subjects SET operation_epoch = operation_epoch + 1, grant_epoch = grant_epoch + 1 WHERE kind = 'user' AND id = ?",
    ).run(app.user);
    db.close();
    expect(await w.approvals.decide({ id: op.id, device: await app.decide(op.digest) })).toEqual({
      result: "closed",
      reason: "revoked",
    });
    expect(await w.grants.check(g.id)).toEqual({ valid: false, state: "active", reason: "revoked" });
    await w.security.close();
    await store.close();
  });
});

describe("a key provider that fails to sign", () => {
  it("after the write: the error says the decision stands; the receipt is signed when next read", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: new MemorySecurityStore(store) });
    const app = await appDevice(w);
    const op = await app.operation();
    const sign = w.keys.signReceipt.bind(w.keys);
    let down = true;
    w.keys.signReceipt = async (m) => {
      if (down) throw new CapkitError("KEY_UNAVAILABLE", "the token is gone");
      return sign(m);
    };
    await expect(
      w.approvals.decide({ id: op.id, device: await app.decide(op.digest) }),
    ).rejects.toMatchObject({
      code: "KEY_UNAVAILABLE",
      details: { operation: op.id, decided: "approved" },
    });
    // Before anything is stored, for a device operation: nothing is left behind.
    const doc = transfer(w);
    await expect(
      w.approvals.create({ document: doc, user: app.user, credential: app.credential, method: "device" }),
    ).rejects.toMatchObject({ code: "KEY_UNAVAILABLE" });
    await expect(w.approvals.state(doc.id)).rejects.toMatchObject({ code: "OPERATION_UNKNOWN" });
    down = false;
    const s = await w.approvals.state(op.id);
    expect(s.state).toBe("approved");
    expect(verifyReceipt(s.receipt, await w.approvals.receiptKeys())).toEqual({ ok: true });
    expect(await w.approvals.receipts(app.user)).toEqual([s.receipt]);
  });
});
