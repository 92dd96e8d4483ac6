import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import type { AuditEntry } from "../model.js";
import { activationEntry, endedInstanceEntry, rateLimitedEntry } from "../provisioning/audit.js";
import type {
  ActivationChange,
  ActivationRecord,
  InstanceStatus,
  LoginChallenge,
  ProvisioningStore,
  ProvisioningUserRecord,
  ResetInput,
  ResetResult,
  StartInput,
  StartResult,
} from "../provisioning/model.js";
import { allocate, rateDecision } from "../provisioning/rules.js";
import { type SqliteInternals, STORE_INTERNALS, type StoreWriter } from "./internals.js";
import { migrateSqlite } from "./migrate-sqlite.js";
import {
  ACTIVATION_COLUMNS,
  activationValues,
  INSTANCE_COLUMNS,
  insertSql,
  instanceSelect,
  instanceValues,
  KEEP_MS,
  PROVISIONING_TABLES,
  rowToActivation,
  rowToInstance,
  rowToUser,
  UNFINISHED_PHASES,
} from "./provisioning-schema.js";
import type { SqliteStore } from "./sqlite.js";
import type { TableNames } from "./tables.js";

type Row = Record<string, unknown>;

/**
 * Activations and instances in the SQLite file of a `SqliteStore`, on its connection: each operation is one
 * IMMEDIATE transaction with the store's own credential and audit writers, so a step and the pending credential
 * it enrols are one commit, and SQLite's single writer decides a user's starts and steps one after the other —
 * across processes too. No driver is loaded here: the store's is used.
 */
export class SqliteProvisioningStore implements ProvisioningStore {
  readonly #s: SqliteInternals;
  readonly #q: ReturnType<typeof prepare>;

  /** `actor`: the service or administrator this store's audit rows name (as `VerifierOptions.actor`). */
  constructor(state: SqliteStore, options: { actor?: string } = {}) {
    this.#s = state[STORE_INTERNALS](options.actor);
    try {
      // The door's handle is the store's better-sqlite3 database, typed unknown there (its declarations name no
      // driver).
      const db = this.#s.db as Database.Database;
      migrateSqlite(db, this.#s.names, PROVISIONING_TABLES);
      this.#q = prepare(db, this.#s.names);
    } catch (e) {
      if (e instanceof CapkitError) throw e;
      throw new CapkitError(
        "STORE_UNAVAILABLE",
        `cannot create the provisioning tables: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  start(input: StartInput): Promise<StartResult> {
    const q = this.#q;
    return this.#s.transaction((w): StartResult => {
      const { user, now } = input;
      q.purgeActivations.run(now - KEEP_MS);
      q.purgeUsers.run(now - KEEP_MS);
      if (input.startKey !== undefined) {
        const retried = q.byStartKey.get(user, input.startKey) as Row | undefined;
        if (retried) return { kind: "retried", record: rowToActivation(retried) };
      }
      const row = q.user.get(user) as Row | undefined;
      const u = row && rowToUser(row);
      const rate = rateDecision(u?.sends ?? [], now, input.rate);
      if (!rate.ok) {
        w.audit(rateLimitedEntry(user, now));
        return { kind: "rate-limited", retryAfterMs: rate.retryAfterMs };
      }
      const known = input.known ? allocate(u, input.newSerial) : undefined;
      const { record, audit } = input.build(known?.serial ?? input.newSerial, known?.instance ?? 1);
      this.#supersede(w, record, now);
      q.putUser.run({
        user,
        serial: known?.serial ?? u?.serial ?? null,
        next: known?.nextInstance ?? u?.nextInstance ?? 1,
        sends: JSON.stringify(rate.sends),
        now,
        graceFrom: input.graceMs !== undefined ? now : (u?.graceFrom ?? null),
        graceUntil: input.graceMs !== undefined ? now + input.graceMs : (u?.graceUntil ?? null),
      });
      q.insertActivation.run(...activationValues(record, Number));
      for (const a of audit) w.audit(a);
      return { kind: "started", record };
    });
  }

  /** Ends the unfinished activations of the new one's slot, and revokes the slot's pending credentials. */
  #supersede(w: StoreWriter, next: ActivationRecord, now: number): void {
    for (const row of this.#q.unfinished.all(next.user, next.slot) as Row[]) {
      const a = rowToActivation(row);
      this.#q.endActivation.run("superseded", a.id);
      w.audit(activationEntry(a, now, "superseded", `by ${next.id}`));
    }
    for (const row of this.#q.pendingInSlot.all(next.user, next.slot) as Row[]) {
      const i = rowToInstance(row);
      if (w.revoke(i.credentialId, endedInstanceEntry(i, now, "superseded")))
        this.#q.endInstance.run("superseded", now, i.credentialId);
    }
  }

  activation(id: string): Promise<ActivationRecord | undefined> {
    return this.#s.read(() => {
      const row = this.#q.activation.get(id) as Row | undefined;
      return row && rowToActivation(row);
    });
  }

  advance(change: ActivationChange): Promise<boolean> {
    const q = this.#q;
    return this.#s.transaction((w) => {
      const s = change.state;
      const moved = q.advance.run(
        s.rev,
        s.phase,
        JSON.stringify(s),
        change.secrets ?? null,
        change.id,
        change.expectedRev,
      );
      if (moved.changes !== 1) return false;
      if (change.enrol) {
        const { credential, audit, instance } = change.enrol;
        const active = q.activeInSlot.get(instance.user, instance.slot, instance.credentialId) as
          | { credential_id: string }
          | undefined;
        w.insertCredential({ ...credential, replaces: active?.credential_id }, audit);
        q.insertInstance.run(...instanceValues(instance));
      }
      for (const e of change.audit) w.audit(e);
      return true;
    });
  }

  instance(credentialId: string): Promise<InstanceStatus | undefined> {
    return this.#s.read(() => {
      const row = this.#q.instance.get(credentialId) as Row | undefined;
      return row && rowToInstance(row);
    });
  }

  instances(user: string): Promise<InstanceStatus[]> {
    return this.#s.read(() => (this.#q.instances.all(user) as Row[]).map(rowToInstance));
  }

  activations(user: string, limit: number): Promise<ActivationRecord[]> {
    return this.#s.read(() => (this.#q.activations.all(user, limit) as Row[]).map(rowToActivation));
  }

  user(user: string): Promise<ProvisioningUserRecord | undefined> {
    return this.#s.read(() => {
      const row = this.#q.user.get(user) as Row | undefined;
      return row && rowToUser(row);
    });
  }

  reset(input: ResetInput): Promise<ResetResult> {
    const q = this.#q;
    const { user, reason, now } = input;
    return this.#s.transaction((w) => {
      let activations = 0;
      let instances = 0;
      for (const row of q.unfinishedOfUser.all(user) as Row[]) {
        const a = rowToActivation(row);
        q.endActivation.run(reason, a.id);
        w.audit(activationEntry(a, now, "reset", reason));
        activations++;
      }
      for (const row of q.instances.all(user) as Row[]) {
        const i = rowToInstance(row);
        if (i.ended !== undefined || !w.revoke(i.credentialId, endedInstanceEntry(i, now, reason))) continue;
        q.endInstance.run(reason, now, i.credentialId);
        instances++;
      }
      q.clearSends.run(user);
      return { activations, instances };
    });
  }

  addLoginChallenge(ch: LoginChallenge, maxPerCredential: number, now: number): Promise<void> {
    const q = this.#q;
    return this.#s.transaction(() => {
      q.expireChallenges.run(now);
      q.trimChallenges.run(ch.credentialId, ch.credentialId, Math.max(0, maxPerCredential - 1));
      q.addChallenge.run(ch.id, ch.credentialId, ch.expiresAt);
    });
  }

  takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean> {
    return this.#s.read(() => {
      // Taken (deleted) even when expired: an expired challenge is never of use again.
      const r = this.#q.takeChallenge.get(id, credentialId) as { expires_at: number } | undefined;
      return r !== undefined && Number(r.expires_at) > now;
    });
  }

  record(entry: AuditEntry): Promise<void> {
    return this.#s.transaction((w) => w.audit(entry));
  }
}

function prepare(db: Database.Database, n: TableNames) {
  const INSTANCE_SELECT = instanceSelect(n);
  const {
    provisioning_users,
    provisioning_activations,
    provisioning_instances,
    provisioning_login_challenges,
    credentials,
  } = n.t;
  return {
    purgeActivations: db.prepare(`DELETE FROM ${provisioning_activations} WHERE expires_at < ?`),
    purgeUsers: db.prepare(`DELETE FROM ${provisioning_users} WHERE serial IS NULL AND last_at < ?`),
    byStartKey: db.prepare(`SELECT * FROM ${provisioning_activations} WHERE user_id = ? AND start_key = ?`),
    user: db.prepare(`SELECT * FROM ${provisioning_users} WHERE user_id = ?`),
    putUser: db.prepare(
      `INSERT INTO ${provisioning_users} (user_id, serial, next_instance, sends, last_at, grace_from, grace_until)
       VALUES (@user, @serial, @next, @sends, @now, @graceFrom, @graceUntil)
       ON CONFLICT (user_id) DO UPDATE SET serial = excluded.serial, next_instance = excluded.next_instance,
         sends = excluded.sends, last_at = excluded.last_at, grace_from = excluded.grace_from,
         grace_until = excluded.grace_until`,
    ),
    clearSends: db.prepare(`UPDATE ${provisioning_users} SET sends = '[]' WHERE user_id = ?`),
    insertActivation: db.prepare(insertSql(provisioning_activations, ACTIVATION_COLUMNS, () => "?")),
    activation: db.prepare(`SELECT * FROM ${provisioning_activations} WHERE id = ?`),
    activations: db.prepare(
      `SELECT * FROM ${provisioning_activations} WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ),
    unfinished: db.prepare(
      `SELECT * FROM ${provisioning_activations} WHERE user_id = ? AND slot = ? AND ended IS NULL
         AND phase IN ${UNFINISHED_PHASES}`,
    ),
    unfinishedOfUser: db.prepare(
      `SELECT * FROM ${provisioning_activations} WHERE user_id = ? AND ended IS NULL AND phase IN ${UNFINISHED_PHASES}`,
    ),
    endActivation: db.prepare(
      `UPDATE ${provisioning_activations} SET ended = ?, secrets = NULL WHERE id = ?`,
    ),
    advance: db.prepare(
      `UPDATE ${provisioning_activations} SET rev = ?, phase = ?, state = ?, secrets = ?
       WHERE id = ? AND rev = ? AND ended IS NULL`,
    ),
    insertInstance: db.prepare(insertSql(provisioning_instances, INSTANCE_COLUMNS, () => "?")),
    endInstance: db.prepare(
      `UPDATE ${provisioning_instances} SET ended = ?, ended_at = ? WHERE credential_id = ?`,
    ),
    instance: db.prepare(`${INSTANCE_SELECT} WHERE i.credential_id = ?`),
    instances: db.prepare(`${INSTANCE_SELECT} WHERE i.user_id = ? ORDER BY i.created_at, i.instance`),
    pendingInSlot: db.prepare(
      `${INSTANCE_SELECT} WHERE i.user_id = ? AND i.slot = ? AND c.state = 'pending'`,
    ),
    activeInSlot: db.prepare(
      `SELECT i.credential_id FROM ${provisioning_instances} i JOIN ${credentials} c ON c.id = i.credential_id
       WHERE i.user_id = ? AND i.slot = ? AND c.state = 'active' AND i.credential_id <> ?
       ORDER BY i.created_at DESC LIMIT 1`,
    ),
    expireChallenges: db.prepare(`DELETE FROM ${provisioning_login_challenges} WHERE expires_at <= ?`),
    trimChallenges: db.prepare(
      `DELETE FROM ${provisioning_login_challenges} WHERE credential_id = ? AND id NOT IN
         (SELECT id FROM ${provisioning_login_challenges} WHERE credential_id = ? ORDER BY expires_at DESC LIMIT ?)`,
    ),
    addChallenge: db.prepare(
      `INSERT INTO ${provisioning_login_challenges} (id, credential_id, expires_at) VALUES (?, ?, ?)`,
    ),
    takeChallenge: db.prepare(
      `DELETE FROM ${provisioning_login_challenges} WHERE id = ? AND credential_id = ? RETURNING expires_at`,
    ),
  };
}
