import { CapkitError } from "@capkit/core";
import type pg from "pg";
import type { Epochs, Subject } from "../events/subjects.js";
import type { AuditEntry } from "../model.js";
import type {
  DecisionInput,
  DecisionOutcome,
  DeviceRecord,
  EventInput,
  EventQuery,
  GrantRecord,
  GrantRefusal,
  NewGrant,
  NewOperation,
  OperationQuery,
  OperationRecord,
  ReceiptHead,
  SecurityEventRecord,
  SecurityStore,
  StoredReceipt,
} from "../security-model.js";
import type { PostgresConnection, PostgresConnectOptions } from "./connections.js";
import { migratePostgres } from "./migrate-postgres.js";
import { openPool } from "./postgres-pool.js";
import {
  activationRefusal,
  closedReason,
  eventDetail,
  grantCurrent,
  refusedEntry,
} from "./security-rules.js";
import {
  APPROVAL_TABLES,
  grantEpochsNow,
  grantWithEpochs,
  rowToDevice,
  rowToEpochs,
  rowToEvent,
  rowToGrant,
  rowToOperation,
  rowToReceipt,
} from "./security-schema.js";
import type { TableNames } from "./tables.js";

/** Where the tables are and the pool the store makes: as for `PostgresStore` (the same prefix and schema). */
export type PostgresSecurityStoreOptions = PostgresConnectOptions;

type Row = Record<string, unknown>;
type Query = (sql: string, values: unknown[]) => Promise<pg.QueryResult>;

/**
 * Approvals, events and grants in the verifier's PostgreSQL database (connect a `PostgresStore` to it first:
 * the approvals write into its audit trail, whose trigger chains their rows too), on a pool of their own. A
 * security event is ONE statement — the subject's epochs, the event row, the cancelled operations, the revoked
 * grants and every audit row — so all server instances see all of it or none. A decision is one transaction
 * that locks, in the order every writer takes them, the user's receipt chain head, the subjects' rows (shared:
 * an event waits for it, or it waits for the event) and the operation. Any database failure is
 * STORE_UNAVAILABLE; the pool never takes the process down.
 */
export class PostgresSecurityStore implements SecurityStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #sql: Statements;

  private constructor(pool: pg.Pool, owned: boolean, names: TableNames) {
    this.#pool = pool;
    this.#owned = owned;
    this.#sql = statements(names);
  }

  /**
   * Connects as `PostgresStore.connect` does (a URL, a `pg.PoolConfig` or the application's `pg.Pool`), to the
   * database where a `PostgresStore` with the same `tablePrefix` and `schema` keeps the verifier's tables.
   *
   * @example
   * ```ts
   * const store = await PostgresStore.connect(pool, { schema: "capkit" });
   * const security = await PostgresSecurityStore.connect(pool, { schema: "capkit" });
   * ```
   */
  static async connect(
    connection: PostgresConnection,
    options: PostgresSecurityStoreOptions = {},
  ): Promise<PostgresSecurityStore> {
    const { pool, owned, names } = openPool(connection, "PostgresSecurityStore", options);
    const store = new PostgresSecurityStore(pool, owned, names);
    try {
      await store.#run(async (c) => {
        const r = await c.query("SELECT to_regclass($1) IS NOT NULL AS verifier", [names.t.audit_chains]);
        if (!r.rows[0].verifier)
          throw new CapkitError(
            "STORE_UNAVAILABLE",
            `this database holds no verifier state (${names.t.audit_chains})`,
            {
              hint: "connect a PostgresStore to it first, with the same tablePrefix and schema: the approvals write into its audit trail",
            },
          );
        // Instances starting at once create the tables one after the other (src/stores/migrate-postgres.ts).
        await migratePostgres(c, names, [APPROVAL_TABLES]);
      });
    } catch (e) {
      if (owned) await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  /**
   * `f` on a pooled connection; a driver error is STORE_UNAVAILABLE (a broken connection is dropped), a unique
   * key taken is `duplicate`'s error when given.
   */
  async #run<T>(f: (client: pg.PoolClient) => Promise<T>, duplicate?: () => CapkitError): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    let broken = false;
    try {
      return await f(client);
    } catch (e) {
      if (e instanceof CapkitError) throw e;
      const code = (e as { code?: string }).code;
      if (code === "23505" && duplicate) throw duplicate();
      // A lock or statement timeout leaves the connection usable; anything else may not have.
      broken = code !== "55P03" && code !== "57014";
      throw unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  /** One statement, named (parsed and planned once per connection). */
  #query(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return this.#run((c) => named(c)(sql, values));
  }

  /** BEGIN, `work`, COMMIT on one connection — ROLLBACK when `work` throws. */
  #transaction<T>(work: (q: Query) => Promise<T>): Promise<T> {
    return this.#run(async (c) => {
      await c.query("BEGIN");
      let result: T;
      try {
        result = await work(named(c));
      } catch (e) {
        await c.query("ROLLBACK");
        throw e;
      }
      await c.query("COMMIT");
      return result;
    });
  }

  async epochs(subjects: readonly Subject[]): Promise<Epochs[]> {
    const r = await this.#query(this.#sql.EPOCHS, [subjects.map((s) => s.kind), subjects.map((s) => s.id)]);
    return r.rows.map(rowToEpochs);
  }

  async recordEvent(e: EventInput): Promise<SecurityEventRecord> {
    const inc = (c: keyof Epochs) => (e.revokes.includes(c) ? 1 : 0);
    const r = await this.#query(this.#sql.RECORD_EVENT, [
      e.subject.kind,
      e.subject.id,
      inc("device"),
      inc("session"),
      inc("grant"),
      inc("operation"),
      e.at,
      e.type,
      e.cause,
      e.actor ?? null,
      eventDetail(e.subject, e.cause),
    ]);
    return rowToEvent(r.rows[0]);
  }

  async events(q: EventQuery): Promise<SecurityEventRecord[]> {
    const r = await this.#query(this.#sql.events, [
      q.after ?? 0,
      q.subject?.kind ?? null,
      q.subject?.id ?? null,
      q.limit,
    ]);
    return r.rows.map(rowToEvent);
  }

  async registerDevice(d: Omit<DeviceRecord, "epoch">, a: AuditEntry): Promise<DeviceRecord> {
    const r = await this.#query(this.#sql.REGISTER_DEVICE, [
      d.credential,
      d.user,
      d.publicKey,
      d.registeredAt,
      ...auditValues(a),
    ]);
    return rowToDevice(r.rows[0]);
  }

  async device(credential: string): Promise<DeviceRecord | undefined> {
    const r = await this.#query(this.#sql.device, [credential]);
    return r.rows[0] ? rowToDevice(r.rows[0]) : undefined;
  }

  async createOperation(op: NewOperation, a: AuditEntry): Promise<OperationRecord> {
    const r = await this.#run(
      (c) =>
        named(c)(this.#sql.CREATE_OPERATION, [
          op.id,
          op.user,
          op.contract ?? null,
          op.method,
          op.credential,
          op.type,
          op.document,
          op.digest,
          op.createdAt,
          op.expiresAt,
          ...auditValues(a),
        ]),
      () => new CapkitError("OPERATION_EXISTS", `an operation ${op.id} exists already`),
    );
    return rowToOperation(r.rows[0]);
  }

  async operation(id: string): Promise<OperationRecord | undefined> {
    const r = await this.#query(this.#sql.operation, [id]);
    return r.rows[0] ? rowToOperation(r.rows[0]) : undefined;
  }

  async operations(q: OperationQuery): Promise<OperationRecord[]> {
    const r = await this.#query(this.#sql.operations, [q.user, q.state ?? null, q.after ?? null, q.limit]);
    return r.rows.map(rowToOperation);
  }

  decide(d: DecisionInput): Promise<DecisionOutcome> {
    return this.#transaction(async (q): Promise<DecisionOutcome> => {
      const first = (await q(this.#sql.operationSubjects, [d.operation])).rows[0] as Row | undefined;
      if (!first) throw new CapkitError("OPERATION_UNKNOWN", `no operation ${d.operation}`);
      const user = String(first["user_id"]);
      const contract = first["contract_id"] === null ? undefined : String(first["contract_id"]);
      // The lock order of every writer: the chain head (decisions of one user queue here), the subjects
      // (shared: an event on them waits for this decision, or this decision for the event), the operation.
      await q(this.#sql.ensureHead, [user]);
      const h = (await q(this.#sql.headForUpdate, [user])).rows[0] as Row;
      const subjects = (await q(this.#sql.LOCK_SUBJECTS, [user, contract ?? null])).rows as Row[];
      const epochsOf = (kind: string) => rowToEpochs(subjects.find((s) => s["kind"] === kind));
      const o = rowToOperation((await q(this.#sql.operationForUpdate, [d.operation])).rows[0]);
      const device =
        d.deviceKey === undefined
          ? undefined
          : ((await q(this.#sql.deviceForShare, [o.credential])).rows[0] as Row | undefined);
      const reason = closedReason(o, d, {
        user: epochsOf("user"),
        contract: contract === undefined ? undefined : epochsOf("contract"),
        device: device && rowToDevice(device),
      });
      if (reason) {
        const refused = refusedEntry(d.audit, reason);
        await q(this.#sql.RECORD, [...auditValues(refused)]);
        return { decided: false, reason };
      }
      const head: ReceiptHead = {
        n: Number(h["n"]),
        digest: (h["digest"] as string | null) ?? null,
        time: Number(h["time_s"]),
      };
      const built = d.build(head);
      const receipt: StoredReceipt = {
        user,
        n: head.n + 1,
        operation: o.id,
        body: built.body,
        digest: built.digest,
        keyId: undefined,
        signature: undefined,
      };
      await q(this.#sql.COMMIT_DECISION, [
        user,
        receipt.n,
        o.id,
        built.body,
        built.digest,
        built.time,
        d.decision,
        d.at,
        ...auditValues(d.audit),
      ]);
      return { decided: true, receipt };
    });
  }

  async cancelOperation(id: string, at: number, reason: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.cancelOperation, [id, at, reason, ...auditValues(a)]);
    return r.rowCount === 1;
  }

  async signReceipt(operation: string, keyId: string, signature: string): Promise<void> {
    await this.#query(this.#sql.signReceipt, [operation, keyId, signature]);
  }

  async receipt(operation: string): Promise<StoredReceipt | undefined> {
    const r = await this.#query(this.#sql.receipt, [operation]);
    return r.rows[0] ? rowToReceipt(r.rows[0]) : undefined;
  }

  async receipts(user: string, after: number, limit: number): Promise<StoredReceipt[]> {
    const r = await this.#query(this.#sql.receipts, [user, after, limit]);
    return r.rows.map(rowToReceipt);
  }

  async createGrant(g: NewGrant, a: AuditEntry): Promise<GrantRecord> {
    const r = await this.#query(this.#sql.CREATE_GRANT, [
      g.id,
      g.kind,
      g.owner,
      g.target,
      g.contract ?? null,
      g.createdAt,
      ...auditValues(a),
    ]);
    return rowToGrant(r.rows[0]);
  }

  async grant(id: string): Promise<GrantRecord | undefined> {
    const r = await this.#query(this.#sql.grant, [id]);
    return r.rows[0] ? rowToGrant(r.rows[0]) : undefined;
  }

  async grants(user: string, limit: number): Promise<GrantRecord[]> {
    const r = await this.#query(this.#sql.grants, [user, limit]);
    return r.rows.map(rowToGrant);
  }

  activateGrant(
    id: string,
    operation: string,
    at: number,
    a: AuditEntry,
  ): Promise<{ grant: GrantRecord } | { refused: GrantRefusal }> {
    return this.#transaction(async (q) => {
      const locked = (await q(this.#sql.lockGrant, [id])).rows[0];
      if (!locked) throw new CapkitError("GRANT_UNKNOWN", `no grant ${id}`);
      const row = (await q(this.#sql.grantWithEpochs, [id])).rows[0] as Row;
      const g = rowToGrant(row);
      // The consent's row locked too: two grants activated with one consent at once are one after the other,
      // and the second finds it used (not the unique key's error).
      const op = (await q(this.#sql.operationForUpdate, [operation])).rows[0] as Row | undefined;
      const receipt = (await q(this.#sql.receipt, [operation])).rows[0] as Row | undefined;
      const used = (await q(this.#sql.grantOfOperation, [operation])).rowCount! > 0;
      const refused = activationRefusal(g, grantCurrent(g, grantEpochsNow(row)), {
        operation: op && rowToOperation(op),
        receipt: receipt && rowToReceipt(receipt),
        used,
      });
      if (refused) {
        await q(
          this.#sql.RECORD,
          auditValues({ ...a, result: "refused", detail: `${a.detail}: ${refused}` }),
        );
        return { refused };
      }
      const consent = String(receipt!["digest"]);
      const r = await q(this.#sql.activateGrant, [id, at, operation, consent, ...auditValues(a)]);
      return { grant: rowToGrant(r.rows[0]) };
    });
  }

  async deactivateGrant(id: string, at: number, reason: string, a: AuditEntry): Promise<boolean> {
    const r = await this.#query(this.#sql.deactivateGrant, [id, at, reason, ...auditValues(a)]);
    return r.rowCount === 1;
  }

  async checkGrant(id: string): Promise<{ grant: GrantRecord; current: boolean } | undefined> {
    const r = await this.#query(this.#sql.grantWithEpochs, [id]);
    const row = r.rows[0] as Row | undefined;
    if (!row) return undefined;
    const grant = rowToGrant(row);
    return { grant, current: grantCurrent(grant, grantEpochsNow(row)) };
  }

  async record(a: AuditEntry): Promise<void> {
    await this.#query(this.#sql.RECORD, auditValues(a));
  }

  /** Ends the pool the store made; the application's own pool stays open. */
  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}

const names = new Map<string, string>();
/** A statement's name: parsed and planned once per connection (as the verifier's store does). */
function named(c: pg.PoolClient): Query {
  return (sql, values) => {
    let name = names.get(sql);
    if (!name) {
      name = `capkit_security_${names.size}`;
      names.set(sql, name);
    }
    return c.query({ name, text: sql, values });
  };
}

function unavailable(e: unknown): CapkitError {
  return new CapkitError("STORE_UNAVAILABLE", `PostgreSQL is unavailable: ${(e as Error).message ?? e}`, {
    hint: "retry when the database is back; a decision in flight may have been recorded: read the operation's state",
    cause: e,
  });
}

/** An audit row's 8 values, the actor last (AUDIT_INSERT). */
function auditValues(a: AuditEntry): unknown[] {
  return [
    a.at,
    a.credentialId,
    a.action,
    a.result,
    a.counter ?? null,
    a.detail ?? null,
    a.user ?? null,
    a.actor ?? null,
  ];
}

/** Every statement of the store, built once from its table names when it connects (src/stores/tables.ts). */
function statements(n: TableNames) {
  const {
    approval_devices,
    audit,
    grants,
    operations,
    receipt_heads,
    receipts,
    security_events,
    security_subjects,
  } = n.t;
  const GRANT_WITH_EPOCHS = grantWithEpochs(n);
  const AUDIT_INSERT = `INSERT INTO ${audit} (at, credential_id, action, result, counter, detail, user_id, actor)`;
  const RECORD = `${AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

  /** The epochs of subjects given as two arrays (kinds, ids), in their order; a subject with no row: all 0. */
  const EPOCHS = `
  SELECT s.device_epoch, s.session_epoch, s.grant_epoch, s.operation_epoch
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(kind, id, i)
  LEFT JOIN ${security_subjects} s ON s.kind = q.kind AND s.id = q.id
  ORDER BY q.i`;

  /**
   * A security event in one statement. $1 kind, $2 id, $3–$6 how much each epoch moves (device, session, grant,
   * operation: 0 or 1), $7 at, $8 type, $9 cause, $10 actor, $11 the event's audit detail. The subject's row is
   * written first (the operations and grants CTEs join it): an approval holding the subject's row shared is
   * waited for, and one that comes after finds the operation cancelled. The audit details are those of
   * src/stores/security-rules.ts (`operationDetail`, `grantDetail`).
   */
  const RECORD_EVENT = `
  WITH s AS (
    INSERT INTO ${security_subjects} AS x (kind, id, device_epoch, session_epoch, grant_epoch, operation_epoch)
    VALUES ($1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint)
    ON CONFLICT (kind, id) DO UPDATE SET device_epoch = x.device_epoch + $3::bigint,
      session_epoch = x.session_epoch + $4::bigint, grant_epoch = x.grant_epoch + $5::bigint,
      operation_epoch = x.operation_epoch + $6::bigint
    RETURNING device_epoch, session_epoch, grant_epoch, operation_epoch),
  o AS (
    UPDATE ${operations} AS op SET state = 'cancelled', decided_at = $7::bigint, reason = $8::text FROM s
    WHERE $6::bigint = 1 AND op.state = 'pending'
      AND (($1::text = 'user' AND op.user_id = $2::text) OR ($1::text = 'contract' AND op.contract_id = $2::text))
    RETURNING op.id, op.user_id, op.credential_id),
  g AS (
    UPDATE ${grants} AS gr SET state = 'revoked', ended_at = $7::bigint, reason = $8::text FROM s
    WHERE $5::bigint = 1 AND gr.state IN ('pending', 'active')
      AND (($1::text = 'user' AND (gr.owner_id = $2::text OR gr.target_id = $2::text))
        OR ($1::text = 'contract' AND gr.contract_id = $2::text))
    RETURNING gr.id, gr.owner_id),
  e AS (
    INSERT INTO ${security_events} (at, type, kind, subject_id, cause, actor, device_epoch, session_epoch, grant_epoch,
      operation_epoch, operations_cancelled, grants_revoked)
    SELECT $7::bigint, $8::text, $1::text, $2::text, $9::text, $10::text, s.device_epoch, s.session_epoch,
      s.grant_epoch, s.operation_epoch, (SELECT count(*) FROM o), (SELECT count(*) FROM g)
    FROM s
    RETURNING *),
  w AS (
    ${AUDIT_INSERT}
    SELECT $7::bigint, '', 'event', $8::text, e.seq, $11::text, CASE WHEN $1::text = 'user' THEN $2::text END,
      $10::text FROM e
    UNION ALL
    SELECT $7::bigint, o.credential_id, 'operation', 'cancelled', NULL::bigint, 'operation ' || o.id || ': ' || $8::text,
      o.user_id, $10::text FROM o
    UNION ALL
    SELECT $7::bigint, '', 'grant', 'revoked', NULL::bigint, 'grant ' || g.id || ': ' || $8::text, g.owner_id,
      $10::text FROM g)
  SELECT * FROM e`;

  /**
   * A device registration: the user's subject row written (locked) to read its current `device` epoch, the
   * device stored under it, its audit row. $1 credential, $2 user, $3 public key, $4 at, $5–$12 the audit row.
   */
  const REGISTER_DEVICE = `
  WITH s AS (
    INSERT INTO ${security_subjects} (kind, id) VALUES ('user', $2::text)
    ON CONFLICT (kind, id) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING device_epoch),
  d AS (
    INSERT INTO ${approval_devices} (credential_id, user_id, public_key, epoch, registered_at)
    SELECT $1::text, $2::text, $3::text, s.device_epoch, $4::bigint FROM s
    ON CONFLICT (credential_id) DO UPDATE SET user_id = EXCLUDED.user_id, public_key = EXCLUDED.public_key,
      epoch = EXCLUDED.epoch, registered_at = EXCLUDED.registered_at
    RETURNING *),
  w AS (${AUDIT_INSERT} SELECT $5, $6, $7, $8, $9, $10, $11, $12 FROM d)
  SELECT * FROM d`;

  /**
   * A new operation: its user's (and contract's) subject rows written (locked: an event on them is before or
   * after it, never beside), their `operation` epochs read there, the user's chain head made if new, the
   * operation and its audit row. $1 id, $2 user, $3 contract, $4 method, $5 credential, $6 type, $7 document,
   * $8 digest, $9 created, $10 expires, $11–$18 the audit row.
   */
  const CREATE_OPERATION = `
  WITH u AS (
    INSERT INTO ${security_subjects} (kind, id) VALUES ('user', $2::text)
    ON CONFLICT (kind, id) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING operation_epoch),
  c AS (
    INSERT INTO ${security_subjects} (kind, id) SELECT 'contract', $3::text WHERE $3::text IS NOT NULL
    ON CONFLICT (kind, id) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING operation_epoch),
  h AS (
    INSERT INTO ${receipt_heads} (user_id, n, digest, time_s) VALUES ($2::text, 0, NULL, 0) ON CONFLICT DO NOTHING),
  o AS (
    INSERT INTO ${operations} (id, user_id, contract_id, method, credential_id, type, document, digest, created_at,
      expires_at, user_epoch, contract_epoch, state)
    SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::bigint, $10::bigint,
      u.operation_epoch, (SELECT operation_epoch FROM c), 'pending' FROM u
    RETURNING *),
  w AS (${AUDIT_INSERT} SELECT $11, $12, $13, $14, $15, $16, $17, $18 FROM o)
  SELECT * FROM o`;

  /** The decision's subjects, locked shared (an event's UPDATE of them waits). $1 user, $2 contract or NULL. */
  const LOCK_SUBJECTS = `
  SELECT * FROM ${security_subjects}
  WHERE (kind = 'user' AND id = $1::text) OR (kind = 'contract' AND id = $2::text)
  FOR SHARE`;

  /**
   * The decision's writes: the receipt at the chain's next place, the head moved on, the operation decided, the
   * audit row. $1 user, $2 n, $3 operation, $4 body, $5 digest, $6 time (s), $7 state, $8 at, $9–$16 the audit row.
   */
  const COMMIT_DECISION = `
  WITH r AS (
    INSERT INTO ${receipts} (user_id, n, operation_id, body, digest) VALUES ($1, $2, $3, $4, $5)),
  h AS (
    UPDATE ${receipt_heads} SET n = $2, digest = $5, time_s = $6 WHERE user_id = $1),
  o AS (
    UPDATE ${operations} SET state = $7, decided_at = $8 WHERE id = $3)
  ${AUDIT_INSERT} VALUES ($9, $10, $11, $12, $13, $14, $15, $16)`;

  /**
   * A new pending grant, stamped with its subjects' current `grant` epochs (their rows written, so locked, to
   * read them). $1 id, $2 kind, $3 owner, $4 target, $5 contract, $6 at, $7–$14 the audit row.
   */
  const CREATE_GRANT = `
  WITH s AS (
    INSERT INTO ${security_subjects} (kind, id)
    SELECT * FROM (VALUES ('user', $3::text), ('user', $4::text), ('contract', $5::text)) v(kind, id)
    WHERE v.id IS NOT NULL
    ON CONFLICT (kind, id) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING kind, id, grant_epoch),
  g AS (
    INSERT INTO ${grants} (id, kind, owner_id, target_id, contract_id, state, created_at, epoch, owner_epoch,
      target_epoch, contract_epoch)
    SELECT $1::text, $2::text, $3::text, $4::text, $5::text, 'pending', $6::bigint, 0,
      (SELECT grant_epoch FROM s WHERE kind = 'user' AND id = $3::text),
      (SELECT grant_epoch FROM s WHERE kind = 'user' AND id = $4::text),
      (SELECT grant_epoch FROM s WHERE kind = 'contract' AND id = $5::text)
    RETURNING *),
  w AS (${AUDIT_INSERT} SELECT $7, $8, $9, $10, $11, $12, $13, $14 FROM g)
  SELECT * FROM g`;
  return {
    RECORD,
    EPOCHS,
    RECORD_EVENT,
    REGISTER_DEVICE,
    CREATE_OPERATION,
    LOCK_SUBJECTS,
    COMMIT_DECISION,
    CREATE_GRANT,
    events: `SELECT * FROM ${security_events} WHERE seq > $1 AND ($2::text IS NULL OR (kind = $2 AND subject_id = $3))
       ORDER BY seq LIMIT $4`,
    device: `SELECT * FROM ${approval_devices} WHERE credential_id = $1`,
    operation: `SELECT * FROM ${operations} WHERE id = $1`,
    operations: `SELECT * FROM ${operations} WHERE user_id = $1 AND ($2::text IS NULL OR state = $2)
         AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4`,
    operationSubjects: `SELECT user_id, contract_id FROM ${operations} WHERE id = $1`,
    ensureHead: `INSERT INTO ${receipt_heads} (user_id, n, digest, time_s) VALUES ($1, 0, NULL, 0) ON CONFLICT DO NOTHING`,
    headForUpdate: `SELECT n, digest, time_s FROM ${receipt_heads} WHERE user_id = $1 FOR UPDATE`,
    operationForUpdate: `SELECT * FROM ${operations} WHERE id = $1 FOR UPDATE`,
    deviceForShare: `SELECT * FROM ${approval_devices} WHERE credential_id = $1 FOR SHARE`,
    cancelOperation: `WITH o AS (UPDATE ${operations} SET state = 'cancelled', decided_at = $2, reason = $3
                  WHERE id = $1 AND state = 'pending' AND expires_at > $2 RETURNING id)
       ${AUDIT_INSERT} SELECT $4, $5, $6, $7, $8, $9, $10, $11 FROM o RETURNING 1`,
    signReceipt: `UPDATE ${receipts} SET key_id = $2, signature = $3 WHERE operation_id = $1 AND signature IS NULL`,
    receipt: `SELECT * FROM ${receipts} WHERE operation_id = $1`,
    receipts: `SELECT * FROM ${receipts} WHERE user_id = $1 AND n > $2 ORDER BY n LIMIT $3`,
    grant: `SELECT * FROM ${grants} WHERE id = $1`,
    grants: `SELECT * FROM ${grants} WHERE owner_id = $1 OR target_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
    lockGrant: `SELECT id FROM ${grants} WHERE id = $1 FOR UPDATE`,
    grantWithEpochs: `${GRANT_WITH_EPOCHS} WHERE g.id = $1`,
    grantOfOperation: `SELECT 1 FROM ${grants} WHERE operation_id = $1`,
    activateGrant: `WITH g AS (UPDATE ${grants} SET state = 'active', activated_at = $2, operation_id = $3, consent = $4,
                      epoch = epoch + 1 WHERE id = $1 RETURNING *),
              w AS (${AUDIT_INSERT} SELECT $5, $6, $7, $8, $9, $10, $11, $12 FROM g)
         SELECT * FROM g`,
    deactivateGrant: `WITH g AS (UPDATE ${grants} SET state = 'deactivated', ended_at = $2, reason = $3
                  WHERE id = $1 AND state IN ('pending', 'active') RETURNING id)
       ${AUDIT_INSERT} SELECT $4, $5, $6, $7, $8, $9, $10, $11 FROM g RETURNING 1`,
  };
}

type Statements = ReturnType<typeof statements>;
