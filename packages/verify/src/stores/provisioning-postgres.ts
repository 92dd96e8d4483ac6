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
import { type PostgresInternals, type PostgresTransaction, STORE_INTERNALS } from "./internals.js";
import type { PostgresStore } from "./postgres.js";
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
import type { TableNames } from "./tables.js";

type Row = Record<string, unknown>;
const numbered = (i: number) => `$${i + 1}`;

/**
 * Activations and instances in the PostgreSQL database of a `PostgresStore`, on its pool: each write is one
 * transaction that first locks the user's `provisioning_users` row (creating it if new), so a user's starts,
 * steps and resets are decided one after the other by every server of a cluster, each statement reading what
 * the one before it committed. The step's compare-and-set is on the activation's `rev`; the credential it
 * enrols and the audit rows go through the store's own writers, in the same transaction.
 */
export class PostgresProvisioningStore implements ProvisioningStore {
  readonly #s: PostgresInternals;
  readonly #sql: Statements;

  private constructor(internals: PostgresInternals) {
    this.#s = internals;
    this.#sql = statements(internals.names);
  }

  /**
   * The provisioning tables made, or brought to this version, beside the store's (same prefix and schema;
   * src/stores/migrations.ts). Servers starting at once wait for each other, and the DDL — whose table locks
   * would hold up the others' writes for a moment — runs only when the tables are older than this version.
   * `actor`: the service or administrator this store's audit rows name (as `VerifierOptions.actor`).
   */
  static async open(
    state: PostgresStore,
    options: { actor?: string } = {},
  ): Promise<PostgresProvisioningStore> {
    const s = state[STORE_INTERNALS](options.actor);
    await s.migrate(PROVISIONING_TABLES);
    return new PostgresProvisioningStore(s);
  }

  /** A transaction holding the user's row: every write of one user, one after the other. */
  #forUser<T>(user: string, work: (tx: PostgresTransaction, row: Row) => Promise<T>): Promise<T> {
    return this.#s.transaction(async (tx) => {
      await tx.query(this.#sql.ensureUser, [user]);
      const row = (await tx.query(this.#sql.lockUser, [user])).rows[0] as Row;
      return work(tx, row);
    });
  }

  async start(input: StartInput): Promise<StartResult> {
    const { user, now } = input;
    // Housekeeping first, on its own: expired activations and unknown identifiants a day old.
    await this.#s.query(this.#sql.purgeActivations, [now - KEEP_MS]);
    await this.#s.query(this.#sql.purgeUsers, [now - KEEP_MS, user]);
    return this.#forUser(user, async (tx, row): Promise<StartResult> => {
      if (input.startKey !== undefined) {
        const retried = (await tx.query(this.#sql.byStartKey, [user, input.startKey])).rows[0] as
          | Row
          | undefined;
        if (retried) return { kind: "retried", record: rowToActivation(retried) };
      }
      const u = rowToUser(row);
      const rate = rateDecision(u.sends, now, input.rate);
      if (!rate.ok) {
        await tx.audit(rateLimitedEntry(user, now));
        return { kind: "rate-limited", retryAfterMs: rate.retryAfterMs };
      }
      const known = input.known ? allocate(u, input.newSerial) : undefined;
      const { record, audit } = input.build(known?.serial ?? input.newSerial, known?.instance ?? 1);
      await this.#supersede(tx, record, now);
      await tx.query(this.#sql.putUser, [
        user,
        known?.serial ?? u.serial ?? null,
        known?.nextInstance ?? u.nextInstance,
        JSON.stringify(rate.sends),
        now,
        input.graceMs !== undefined ? now : (u.graceFrom ?? null),
        input.graceMs !== undefined ? now + input.graceMs : (u.graceUntil ?? null),
      ]);
      await tx.query(this.#sql.insertActivation, activationValues(record, Boolean));
      for (const a of audit) await tx.audit(a);
      return { kind: "started", record };
    });
  }

  /** Ends the unfinished activations of the new one's slot, and revokes the slot's pending credentials. */
  async #supersede(tx: PostgresTransaction, next: ActivationRecord, now: number): Promise<void> {
    const ended = await tx.query(this.#sql.supersede, [next.user, next.slot]);
    for (const row of ended.rows as Row[])
      await tx.audit(activationEntry(rowToActivation(row), now, "superseded", `by ${next.id}`));
    const pending = await tx.query(this.#sql.pendingInSlot, [next.user, next.slot]);
    for (const row of pending.rows as Row[]) await this.#end(tx, rowToInstance(row), "superseded", now);
  }

  /** Revokes an instance's credential, if it still has one, and records why. */
  async #end(tx: PostgresTransaction, i: InstanceStatus, reason: string, now: number): Promise<boolean> {
    if (!(await tx.revoke(i.credentialId, endedInstanceEntry(i, now, reason)))) return false;
    await tx.query(this.#sql.endInstance, [reason, now, i.credentialId]);
    return true;
  }

  async activation(id: string): Promise<ActivationRecord | undefined> {
    const row = (await this.#s.query(this.#sql.activation, [id])).rows[0];
    return row && rowToActivation(row);
  }

  advance(change: ActivationChange): Promise<boolean> {
    return this.#forUser(change.user, async (tx) => {
      const s = change.state;
      const moved = await tx.query(this.#sql.advance, [
        s.rev,
        s.phase,
        JSON.stringify(s),
        change.secrets ?? null,
        change.id,
        change.expectedRev,
      ]);
      if (moved.rowCount !== 1) return false;
      if (change.enrol) {
        const { credential, audit, instance } = change.enrol;
        const active = (
          await tx.query(this.#sql.activeInSlot, [instance.user, instance.slot, instance.credentialId])
        ).rows[0] as { credential_id: string } | undefined;
        await tx.insertCredential({ ...credential, replaces: active?.credential_id }, audit);
        await tx.query(this.#sql.insertInstance, instanceValues(instance));
      }
      for (const e of change.audit) await tx.audit(e);
      return true;
    });
  }

  async instance(credentialId: string): Promise<InstanceStatus | undefined> {
    const row = (await this.#s.query(this.#sql.instance, [credentialId])).rows[0];
    return row && rowToInstance(row);
  }

  async instances(user: string): Promise<InstanceStatus[]> {
    const r = await this.#s.query(this.#sql.instances, [user]);
    return (r.rows as Row[]).map(rowToInstance);
  }

  async activations(user: string, limit: number): Promise<ActivationRecord[]> {
    const r = await this.#s.query(this.#sql.activations, [user, limit]);
    return (r.rows as Row[]).map(rowToActivation);
  }

  async user(user: string): Promise<ProvisioningUserRecord | undefined> {
    const row = (await this.#s.query(this.#sql.user, [user])).rows[0];
    return row && rowToUser(row);
  }

  reset(input: ResetInput): Promise<ResetResult> {
    const { user, reason, now } = input;
    return this.#forUser(user, async (tx) => {
      const ended = await tx.query(this.#sql.endUnfinished, [user, reason]);
      for (const row of ended.rows as Row[])
        await tx.audit(activationEntry(rowToActivation(row), now, "reset", reason));
      let instances = 0;
      const all = await tx.query(this.#sql.openInstances, [user]);
      for (const row of all.rows as Row[])
        if (await this.#end(tx, rowToInstance(row), reason, now)) instances++;
      await tx.query(this.#sql.resetSends, [user]);
      return { activations: ended.rowCount ?? 0, instances };
    });
  }

  async addLoginChallenge(ch: LoginChallenge, maxPerCredential: number, now: number): Promise<void> {
    await this.#s.query(this.#sql.addLoginChallenge, [
      ch.id,
      ch.credentialId,
      ch.expiresAt,
      now,
      Math.max(0, maxPerCredential - 1),
    ]);
  }

  async takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean> {
    // Taken (deleted) even when expired: an expired challenge is never of use again.
    const r = await this.#s.query(this.#sql.takeLoginChallenge, [id, credentialId]);
    const row = r.rows[0];
    return row !== undefined && Number(row["expires_at"]) > now;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.#s.transaction((tx) => tx.audit(entry));
  }
}

/** Every statement of the store, built once from its table names when it connects (src/stores/tables.ts). */
function statements(n: TableNames) {
  const {
    credentials,
    provisioning_activations,
    provisioning_instances,
    provisioning_login_challenges,
    provisioning_users,
  } = n.t;
  const INSTANCE_SELECT = instanceSelect(n);
  const insertActivation = insertSql(provisioning_activations, ACTIVATION_COLUMNS, numbered);
  const insertInstance = insertSql(provisioning_instances, INSTANCE_COLUMNS, numbered);
  return {
    insertActivation,
    insertInstance,
    ensureUser: `INSERT INTO ${provisioning_users} (user_id) VALUES ($1) ON CONFLICT DO NOTHING`,
    lockUser: `SELECT * FROM ${provisioning_users} WHERE user_id = $1 FOR UPDATE`,
    purgeActivations: `DELETE FROM ${provisioning_activations} WHERE expires_at < $1`,
    purgeUsers: `DELETE FROM ${provisioning_users} WHERE serial IS NULL AND last_at < $1 AND user_id <> $2`,
    byStartKey: `SELECT * FROM ${provisioning_activations} WHERE user_id = $1 AND start_key = $2`,
    putUser: `UPDATE ${provisioning_users} SET serial = $2, next_instance = $3, sends = $4, last_at = $5,
           grace_from = $6, grace_until = $7 WHERE user_id = $1`,
    supersede: `UPDATE ${provisioning_activations} SET ended = 'superseded', secrets = NULL
       WHERE user_id = $1 AND slot = $2 AND ended IS NULL AND phase IN ${UNFINISHED_PHASES} RETURNING *`,
    pendingInSlot: `${INSTANCE_SELECT} WHERE i.user_id = $1 AND i.slot = $2 AND c.state = 'pending'`,
    endInstance: `UPDATE ${provisioning_instances} SET ended = $1, ended_at = $2 WHERE credential_id = $3`,
    activation: `SELECT * FROM ${provisioning_activations} WHERE id = $1`,
    advance: `UPDATE ${provisioning_activations} SET rev = $1, phase = $2, state = $3, secrets = $4
         WHERE id = $5 AND rev = $6 AND ended IS NULL`,
    activeInSlot: `SELECT i.credential_id FROM ${provisioning_instances} i JOIN ${credentials} c ON c.id = i.credential_id
             WHERE i.user_id = $1 AND i.slot = $2 AND c.state = 'active' AND i.credential_id <> $3
             ORDER BY i.created_at DESC LIMIT 1`,
    instance: `${INSTANCE_SELECT} WHERE i.credential_id = $1`,
    instances: `${INSTANCE_SELECT} WHERE i.user_id = $1 ORDER BY i.created_at, i.instance`,
    activations: `SELECT * FROM ${provisioning_activations} WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
    user: `SELECT * FROM ${provisioning_users} WHERE user_id = $1`,
    endUnfinished: `UPDATE ${provisioning_activations} SET ended = $2, secrets = NULL
         WHERE user_id = $1 AND ended IS NULL AND phase IN ${UNFINISHED_PHASES} RETURNING *`,
    openInstances: `${INSTANCE_SELECT} WHERE i.user_id = $1 AND i.ended IS NULL ORDER BY i.credential_id`,
    resetSends: `UPDATE ${provisioning_users} SET sends = '[]' WHERE user_id = $1`,
    addLoginChallenge: `WITH x AS (DELETE FROM ${provisioning_login_challenges} WHERE expires_at <= $4),
            t AS (DELETE FROM ${provisioning_login_challenges} WHERE credential_id = $2 AND id NOT IN
                    (SELECT id FROM ${provisioning_login_challenges} WHERE credential_id = $2
                     ORDER BY expires_at DESC LIMIT $5))
       INSERT INTO ${provisioning_login_challenges} (id, credential_id, expires_at) VALUES ($1, $2, $3)`,
    takeLoginChallenge: `DELETE FROM ${provisioning_login_challenges} WHERE id = $1 AND credential_id = $2 RETURNING expires_at`,
  };
}

type Statements = ReturnType<typeof statements>;
