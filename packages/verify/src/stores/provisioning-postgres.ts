import { createHash } from "node:crypto";
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
  INSTANCE_SELECT,
  insertSql,
  instanceValues,
  KEEP_MS,
  PROVISIONING_POSTGRES,
  rowToActivation,
  rowToInstance,
  rowToUser,
  UNFINISHED_PHASES,
} from "./provisioning-schema.js";

type Row = Record<string, unknown>;
/** Changes with the DDL: a database whose `meta` names it is not altered again. */
const SCHEMA_VERSION = createHash("sha256").update(PROVISIONING_POSTGRES).digest("hex").slice(0, 16);
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

  private constructor(internals: PostgresInternals) {
    this.#s = internals;
  }

  /**
   * The provisioning tables made if missing. Servers starting at once wait for each other, and the DDL — whose
   * table locks would hold up the others' writes for a moment — runs only when `meta` does not name this schema.
   * `actor`: the service or administrator this store's audit rows name (as `VerifierOptions.actor`).
   */
  static async open(
    state: PostgresStore,
    options: { actor?: string } = {},
  ): Promise<PostgresProvisioningStore> {
    const s = state[STORE_INTERNALS](options.actor);
    await s.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(781235)", []);
      const current = await tx.query("SELECT 1 FROM meta WHERE name = 'provisioning-schema' AND value = $1", [
        SCHEMA_VERSION,
      ]);
      if (current.rowCount === 1) return;
      await tx.query(PROVISIONING_POSTGRES, []);
      await tx.query(
        "INSERT INTO meta (name, value) VALUES ('provisioning-schema', $1) ON CONFLICT (name) DO UPDATE SET value = $1",
        [SCHEMA_VERSION],
      );
    });
    return new PostgresProvisioningStore(s);
  }

  /** A transaction holding the user's row: every write of one user, one after the other. */
  #forUser<T>(user: string, work: (tx: PostgresTransaction, row: Row) => Promise<T>): Promise<T> {
    return this.#s.transaction(async (tx) => {
      await tx.query("INSERT INTO provisioning_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING", [user]);
      const row = (await tx.query("SELECT * FROM provisioning_users WHERE user_id = $1 FOR UPDATE", [user]))
        .rows[0] as Row;
      return work(tx, row);
    });
  }

  async start(input: StartInput): Promise<StartResult> {
    const { user, now } = input;
    // Housekeeping first, on its own: expired activations and unknown identifiants a day old.
    await this.#s.query("DELETE FROM provisioning_activations WHERE expires_at < $1", [now - KEEP_MS]);
    await this.#s.query(
      "DELETE FROM provisioning_users WHERE serial IS NULL AND last_at < $1 AND user_id <> $2",
      [now - KEEP_MS, user],
    );
    return this.#forUser(user, async (tx, row): Promise<StartResult> => {
      if (input.startKey !== undefined) {
        const retried = (
          await tx.query("SELECT * FROM provisioning_activations WHERE user_id = $1 AND start_key = $2", [
            user,
            input.startKey,
          ])
        ).rows[0] as Row | undefined;
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
      await tx.query(
        `UPDATE provisioning_users SET serial = $2, next_instance = $3, sends = $4, last_at = $5,
           grace_from = $6, grace_until = $7 WHERE user_id = $1`,
        [
          user,
          known?.serial ?? u.serial ?? null,
          known?.nextInstance ?? u.nextInstance,
          JSON.stringify(rate.sends),
          now,
          input.graceMs !== undefined ? now : (u.graceFrom ?? null),
          input.graceMs !== undefined ? now + input.graceMs : (u.graceUntil ?? null),
        ],
      );
      await tx.query(
        insertSql("provisioning_activations", ACTIVATION_COLUMNS, numbered),
        activationValues(record, Boolean),
      );
      for (const a of audit) await tx.audit(a);
      return { kind: "started", record };
    });
  }

  /** Ends the unfinished activations of the new one's slot, and revokes the slot's pending credentials. */
  async #supersede(tx: PostgresTransaction, next: ActivationRecord, now: number): Promise<void> {
    const ended = await tx.query(
      `UPDATE provisioning_activations SET ended = 'superseded', secrets = NULL
       WHERE user_id = $1 AND slot = $2 AND ended IS NULL AND phase IN ${UNFINISHED_PHASES} RETURNING *`,
      [next.user, next.slot],
    );
    for (const row of ended.rows as Row[])
      await tx.audit(activationEntry(rowToActivation(row), now, "superseded", `by ${next.id}`));
    const pending = await tx.query(
      `${INSTANCE_SELECT} WHERE i.user_id = $1 AND i.slot = $2 AND c.state = 'pending'`,
      [next.user, next.slot],
    );
    for (const row of pending.rows as Row[]) await this.#end(tx, rowToInstance(row), "superseded", now);
  }

  /** Revokes an instance's credential, if it still has one, and records why. */
  async #end(tx: PostgresTransaction, i: InstanceStatus, reason: string, now: number): Promise<boolean> {
    if (!(await tx.revoke(i.credentialId, endedInstanceEntry(i, now, reason)))) return false;
    await tx.query("UPDATE provisioning_instances SET ended = $1, ended_at = $2 WHERE credential_id = $3", [
      reason,
      now,
      i.credentialId,
    ]);
    return true;
  }

  async activation(id: string): Promise<ActivationRecord | undefined> {
    const row = (await this.#s.query("SELECT * FROM provisioning_activations WHERE id = $1", [id])).rows[0];
    return row && rowToActivation(row);
  }

  advance(change: ActivationChange): Promise<boolean> {
    return this.#forUser(change.user, async (tx) => {
      const s = change.state;
      const moved = await tx.query(
        `UPDATE provisioning_activations SET rev = $1, phase = $2, state = $3, secrets = $4
         WHERE id = $5 AND rev = $6 AND ended IS NULL`,
        [s.rev, s.phase, JSON.stringify(s), change.secrets ?? null, change.id, change.expectedRev],
      );
      if (moved.rowCount !== 1) return false;
      if (change.enrol) {
        const { credential, audit, instance } = change.enrol;
        const active = (
          await tx.query(
            `SELECT i.credential_id FROM provisioning_instances i JOIN credentials c ON c.id = i.credential_id
             WHERE i.user_id = $1 AND i.slot = $2 AND c.state = 'active' AND i.credential_id <> $3
             ORDER BY i.created_at DESC LIMIT 1`,
            [instance.user, instance.slot, instance.credentialId],
          )
        ).rows[0] as { credential_id: string } | undefined;
        await tx.insertCredential({ ...credential, replaces: active?.credential_id }, audit);
        await tx.query(
          insertSql("provisioning_instances", INSTANCE_COLUMNS, numbered),
          instanceValues(instance),
        );
      }
      for (const e of change.audit) await tx.audit(e);
      return true;
    });
  }

  async instance(credentialId: string): Promise<InstanceStatus | undefined> {
    const row = (await this.#s.query(`${INSTANCE_SELECT} WHERE i.credential_id = $1`, [credentialId]))
      .rows[0];
    return row && rowToInstance(row);
  }

  async instances(user: string): Promise<InstanceStatus[]> {
    const r = await this.#s.query(
      `${INSTANCE_SELECT} WHERE i.user_id = $1 ORDER BY i.created_at, i.instance`,
      [user],
    );
    return (r.rows as Row[]).map(rowToInstance);
  }

  async activations(user: string, limit: number): Promise<ActivationRecord[]> {
    const r = await this.#s.query(
      "SELECT * FROM provisioning_activations WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2",
      [user, limit],
    );
    return (r.rows as Row[]).map(rowToActivation);
  }

  async user(user: string): Promise<ProvisioningUserRecord | undefined> {
    const row = (await this.#s.query("SELECT * FROM provisioning_users WHERE user_id = $1", [user])).rows[0];
    return row && rowToUser(row);
  }

  reset(input: ResetInput): Promise<ResetResult> {
    const { user, reason, now } = input;
    return this.#forUser(user, async (tx) => {
      const ended = await tx.query(
        `UPDATE provisioning_activations SET ended = $2, secrets = NULL
         WHERE user_id = $1 AND ended IS NULL AND phase IN ${UNFINISHED_PHASES} RETURNING *`,
        [user, reason],
      );
      for (const row of ended.rows as Row[])
        await tx.audit(activationEntry(rowToActivation(row), now, "reset", reason));
      let instances = 0;
      const all = await tx.query(
        `${INSTANCE_SELECT} WHERE i.user_id = $1 AND i.ended IS NULL ORDER BY i.credential_id`,
        [user],
      );
      for (const row of all.rows as Row[])
        if (await this.#end(tx, rowToInstance(row), reason, now)) instances++;
      await tx.query("UPDATE provisioning_users SET sends = '[]' WHERE user_id = $1", [user]);
      return { activations: ended.rowCount ?? 0, instances };
    });
  }

  async addLoginChallenge(ch: LoginChallenge, maxPerCredential: number, now: number): Promise<void> {
    await this.#s.query(
      `WITH x AS (DELETE FROM provisioning_login_challenges WHERE expires_at <= $4),
            t AS (DELETE FROM provisioning_login_challenges WHERE credential_id = $2 AND id NOT IN
                    (SELECT id FROM provisioning_login_challenges WHERE credential_id = $2
                     ORDER BY expires_at DESC LIMIT $5))
       INSERT INTO provisioning_login_challenges (id, credential_id, expires_at) VALUES ($1, $2, $3)`,
      [ch.id, ch.credentialId, ch.expiresAt, now, Math.max(0, maxPerCredential - 1)],
    );
  }

  async takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean> {
    // Taken (deleted) even when expired: an expired challenge is never of use again.
    const r = await this.#s.query(
      "DELETE FROM provisioning_login_challenges WHERE id = $1 AND credential_id = $2 RETURNING expires_at",
      [id, credentialId],
    );
    const row = r.rows[0];
    return row !== undefined && Number(row["expires_at"]) > now;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.#s.transaction((tx) => tx.audit(entry));
  }
}
