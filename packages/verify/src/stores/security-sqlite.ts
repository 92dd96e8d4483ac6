import { CapkitError } from "@capkit/core";
import type Database from "better-sqlite3";
import type { Epochs, Subject } from "../events/subjects.js";
import type { AuditEntry } from "../model.js";
import { checkOptions, integerIn } from "../requests.js";
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
import type { SqliteDatabase } from "./connections.js";
import { migrateSqlite } from "./migrate-sqlite.js";
import {
  activationRefusal,
  cancelledEntry,
  closedReason,
  eventEntry,
  FIRST_HEAD,
  grantCurrent,
  refusedEntry,
  revokedGrantEntry,
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
import { unavailable } from "./sqlite.js";
import { type SqliteAuditWriter, sqliteAuditWriter } from "./sqlite-audit.js";
import { openSqlite } from "./sqlite-open.js";
import { type TableNames, type TableOptions, tableNames } from "./tables.js";

/** The options of a {@link SqliteSecurityStore}: the same `tablePrefix` as the file's `SqliteStore`. */
export interface SqliteSecurityStoreOptions extends TableOptions {
  /** How long a write waits for another process's transaction before STORE_UNAVAILABLE (default 2000 ms). */
  readonly busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

/**
 * Approvals, events and grants in the verifier's SQLite file (open a `SqliteStore` on it first: its audit
 * trail is theirs too), on a connection of their own. Each method is one IMMEDIATE transaction: SQLite has
 * one writer at a time, so what a decision reads (the operation, the epochs, the chain head) and what it
 * writes are one step for every process sharing the file. Driver failures are STORE_UNAVAILABLE.
 */
export class SqliteSecurityStore implements SecurityStore {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepare>;
  readonly #audit: SqliteAuditWriter;

  readonly #owned: boolean;

  /**
   * Opens the approvals' tables in the file (or the application's better-sqlite3 `Database`, left open on
   * `close`) where a `SqliteStore` with the same `tablePrefix` keeps the verifier's.
   *
   * @example
   * ```ts
   * const store = new SqliteStore("capkit.db");
   * const security = new SqliteSecurityStore("capkit.db");
   * ```
   */
  constructor(database: string | SqliteDatabase, options: SqliteSecurityStoreOptions = {}) {
    checkOptions(options, "the SQLite security store's options", ["busyTimeoutMs", "tablePrefix"]);
    const busyTimeoutMs = integerIn(options.busyTimeoutMs ?? 2000, 0, 600_000, "busyTimeoutMs");
    const names = tableNames(options.tablePrefix);
    const opened = openSqlite(database, "SqliteSecurityStore", busyTimeoutMs, true);
    this.#db = opened.db;
    this.#owned = opened.owned;
    try {
      const verifier = this.#db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE")
        .get(names.bare("audit_chains"));
      if (!verifier)
        throw new CapkitError(
          "STORE_UNAVAILABLE",
          `${opened.what} holds no verifier state (prefix ${names.prefix})`,
          {
            hint: "open a SqliteStore on the file first, with the same tablePrefix: the approvals write into its audit trail",
          },
        );
      migrateSqlite(this.#db, names, APPROVAL_TABLES);
      this.#stmt = prepare(this.#db, names);
      this.#audit = sqliteAuditWriter(this.#db, names);
    } catch (e) {
      if (this.#owned) this.#db.close();
      if (e instanceof CapkitError) throw e;
      throw unavailable(e, `cannot open the SQLite database ${opened.what}`);
    }
  }

  /** One store operation: a CapkitError passes, any driver error is STORE_UNAVAILABLE. */
  #do<T>(f: () => T): Promise<T> {
    try {
      return Promise.resolve(f());
    } catch (e) {
      if (e instanceof CapkitError) return Promise.reject(e);
      return Promise.reject(unavailable(e, "SQLite failed"));
    }
  }

  /** `work` in one IMMEDIATE transaction (rolled back when it throws). */
  #tx<T>(work: () => T): Promise<T> {
    return this.#do(() => this.#db.transaction(work).immediate());
  }

  #epochsOf(s: Subject): Epochs {
    return rowToEpochs(this.#stmt.subject.get(s.kind, s.id) as Row | undefined);
  }

  /** The epochs of each subject (all 0 for a subject no event touched). */
  epochs(subjects: readonly Subject[]): Promise<Epochs[]> {
    return this.#do(() => subjects.map((s) => this.#epochsOf(s)));
  }

  /** Records a security event: its subject's epochs moved, the pending operations and active grants it ends cancelled and revoked, their audit rows — all or nothing. */
  recordEvent(e: EventInput): Promise<SecurityEventRecord> {
    const inc = (c: keyof Epochs) => (e.revokes.includes(c) ? 1 : 0);
    return this.#tx(() => {
      const epochs = rowToEpochs(
        this.#stmt.bump.get({
          kind: e.subject.kind,
          id: e.subject.id,
          device: inc("device"),
          session: inc("session"),
          grant: inc("grant"),
          operation: inc("operation"),
        }) as Row,
      );
      const who = { kind: e.subject.kind, id: e.subject.id, at: e.at, reason: e.type };
      const ops = inc("operation") ? (this.#stmt.cancelOfSubject.all(who) as Row[]) : [];
      const grants = inc("grant") ? (this.#stmt.revokeOfSubject.all(who) as Row[]) : [];
      const { seq } = this.#stmt.insertEvent.get({
        at: e.at,
        type: e.type,
        kind: e.subject.kind,
        subject: e.subject.id,
        cause: e.cause,
        actor: e.actor ?? null,
        ...epochs,
        operations: ops.length,
        grants: grants.length,
      }) as { seq: number };
      const record: SecurityEventRecord = {
        seq,
        at: e.at,
        type: e.type,
        subject: e.subject,
        cause: e.cause,
        actor: e.actor,
        epochs,
        operationsCancelled: ops.length,
        grantsRevoked: grants.length,
      };
      this.#audit(eventEntry(record));
      for (const o of ops)
        this.#audit(
          cancelledEntry(
            { id: String(o["id"]), user: String(o["user_id"]), credential: String(o["credential_id"]) },
            e.at,
            e.type,
            e.actor,
          ),
        );
      for (const g of grants)
        this.#audit(
          revokedGrantEntry({ id: String(g["id"]), owner: String(g["owner_id"]) }, e.at, e.type, e.actor),
        );
      return record;
    });
  }

  /** A page of events in the order recorded, all or one subject's. */
  events(q: EventQuery): Promise<SecurityEventRecord[]> {
    return this.#do(() =>
      (
        this.#stmt.events.all({
          after: q.after ?? 0,
          kind: q.subject?.kind ?? null,
          id: q.subject?.id ?? null,
          limit: q.limit,
        }) as Row[]
      ).map(rowToEvent),
    );
  }

  /** Registers (or replaces) a device's public key, stamped with its user's device epoch. */
  registerDevice(d: Omit<DeviceRecord, "epoch">, audit: AuditEntry): Promise<DeviceRecord> {
    return this.#tx(() => {
      this.#stmt.ensureSubject.run("user", d.user);
      const record = { ...d, epoch: this.#epochsOf({ kind: "user", id: d.user }).device };
      this.#stmt.putDevice.run(d.credential, d.user, d.publicKey, record.epoch, d.registeredAt);
      this.#audit(audit);
      return record;
    });
  }

  /** A registered device by its credential. */
  device(credential: string): Promise<DeviceRecord | undefined> {
    return this.#do(() => {
      const row = this.#stmt.device.get(credential) as Row | undefined;
      return row && rowToDevice(row);
    });
  }

  /** Creates a pending operation stamped with its subjects' epochs, with its audit row. */
  createOperation(op: NewOperation, audit: AuditEntry): Promise<OperationRecord> {
    return this.#tx(() => {
      this.#stmt.ensureSubject.run("user", op.user);
      if (op.contract !== undefined) this.#stmt.ensureSubject.run("contract", op.contract);
      const record: OperationRecord = {
        ...op,
        userEpoch: this.#epochsOf({ kind: "user", id: op.user }).operation,
        contractEpoch:
          op.contract === undefined
            ? undefined
            : this.#epochsOf({ kind: "contract", id: op.contract }).operation,
        state: "pending",
        decidedAt: undefined,
        reason: undefined,
      };
      try {
        this.#stmt.insertOperation.run(operationValues(record));
      } catch (e) {
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY")
          throw new CapkitError("OPERATION_EXISTS", `an operation ${op.id} exists already`);
        throw e;
      }
      this.#audit(audit);
      return record;
    });
  }

  /** An operation by id. */
  operation(id: string): Promise<OperationRecord | undefined> {
    return this.#do(() => {
      const row = this.#stmt.operation.get(id) as Row | undefined;
      return row && rowToOperation(row);
    });
  }

  /** A page of a user's operations, by state. */
  operations(q: OperationQuery): Promise<OperationRecord[]> {
    return this.#do(() =>
      (
        this.#stmt.operations.all({
          user: q.user,
          state: q.state ?? null,
          after: q.after ?? null,
          limit: q.limit,
        }) as Row[]
      ).map(rowToOperation),
    );
  }

  /** Decides an operation in one transaction: the user's receipt chain head, the subjects and the operation locked in order, the stamps checked, the receipt chained. */
  decide(d: DecisionInput): Promise<DecisionOutcome> {
    return this.#tx((): DecisionOutcome => {
      const row = this.#stmt.operation.get(d.operation) as Row | undefined;
      if (!row) throw new CapkitError("OPERATION_UNKNOWN", `no operation ${d.operation}`);
      const o = rowToOperation(row);
      const device =
        d.deviceKey === undefined ? undefined : (this.#stmt.device.get(o.credential) as Row | undefined);
      const reason = closedReason(o, d, {
        user: this.#epochsOf({ kind: "user", id: o.user }),
        contract: o.contract === undefined ? undefined : this.#epochsOf({ kind: "contract", id: o.contract }),
        device: device && rowToDevice(device),
      });
      if (reason) {
        this.#audit(refusedEntry(d.audit, reason));
        return { decided: false, reason };
      }
      const h = this.#stmt.head.get(o.user) as Row | undefined;
      const head: ReceiptHead = h
        ? { n: Number(h["n"]), digest: (h["digest"] as string | null) ?? null, time: Number(h["time_s"]) }
        : FIRST_HEAD;
      const built = d.build(head);
      const receipt: StoredReceipt = {
        user: o.user,
        n: head.n + 1,
        operation: o.id,
        body: built.body,
        digest: built.digest,
        keyId: undefined,
        signature: undefined,
      };
      this.#stmt.insertReceipt.run(receipt.user, receipt.n, receipt.operation, receipt.body, receipt.digest);
      this.#stmt.moveHead.run(o.user, receipt.n, built.digest, built.time);
      this.#stmt.decideOperation.run(d.decision, d.at, o.id);
      this.#audit(d.audit);
      return { decided: true, receipt };
    });
  }

  /** Cancels a pending operation that has not expired; false otherwise. */
  cancelOperation(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean> {
    return this.#tx(() => {
      const done = this.#stmt.cancel.run({ at, reason, id }).changes === 1;
      if (done) this.#audit(audit);
      return done;
    });
  }

  /** Adds the signature to a receipt that has none. */
  signReceipt(operation: string, keyId: string, signature: string): Promise<void> {
    return this.#do(() => {
      this.#stmt.signReceipt.run(keyId, signature, operation);
    });
  }

  /** An operation's receipt. */
  receipt(operation: string): Promise<StoredReceipt | undefined> {
    return this.#do(() => {
      const row = this.#stmt.receipt.get(operation) as Row | undefined;
      return row && rowToReceipt(row);
    });
  }

  /** A page of a user's receipts in chain order. */
  receipts(user: string, after: number, limit: number): Promise<StoredReceipt[]> {
    return this.#do(() => (this.#stmt.receipts.all(user, after, limit) as Row[]).map(rowToReceipt));
  }

  /** Creates a pending grant stamped with its subjects' epochs, with its audit row. */
  createGrant(g: NewGrant, audit: AuditEntry): Promise<GrantRecord> {
    return this.#tx(() => {
      for (const [kind, id] of subjectsOf(g)) this.#stmt.ensureSubject.run(kind, id);
      const record: GrantRecord = {
        ...g,
        state: "pending",
        activatedAt: undefined,
        endedAt: undefined,
        reason: undefined,
        operation: undefined,
        consent: undefined,
        epoch: 0,
        ownerEpoch: this.#epochsOf({ kind: "user", id: g.owner }).grant,
        targetEpoch: this.#epochsOf({ kind: "user", id: g.target }).grant,
        contractEpoch:
          g.contract === undefined ? undefined : this.#epochsOf({ kind: "contract", id: g.contract }).grant,
      };
      this.#stmt.insertGrant.run(grantValues(record));
      this.#audit(audit);
      return record;
    });
  }

  /** A grant by id. */
  grant(id: string): Promise<GrantRecord | undefined> {
    return this.#do(() => {
      const row = this.#stmt.grant.get(id) as Row | undefined;
      return row && rowToGrant(row);
    });
  }

  /** A user's grants (as owner or target), newest first. */
  grants(user: string, limit: number): Promise<GrantRecord[]> {
    return this.#do(() => (this.#stmt.grants.all(user, user, limit) as Row[]).map(rowToGrant));
  }

  /** Activates a pending grant with the approved operation's consent, if its stamps still hold; the refusal otherwise. */
  activateGrant(
    id: string,
    operation: string,
    at: number,
    audit: AuditEntry,
  ): Promise<{ grant: GrantRecord } | { refused: GrantRefusal }> {
    return this.#tx(() => {
      const row = this.#stmt.grantWithEpochs.get(id) as Row | undefined;
      if (!row) throw new CapkitError("GRANT_UNKNOWN", `no grant ${id}`);
      const g = rowToGrant(row);
      const op = this.#stmt.operation.get(operation) as Row | undefined;
      const receipt = this.#stmt.receipt.get(operation) as Row | undefined;
      const refused = activationRefusal(g, grantCurrent(g, grantEpochsNow(row)), {
        operation: op && rowToOperation(op),
        receipt: receipt && rowToReceipt(receipt),
        used: this.#stmt.grantOfOperation.get(operation) !== undefined,
      });
      if (refused) {
        this.#audit({ ...audit, result: "refused", detail: `${audit.detail}: ${refused}` });
        return { refused };
      }
      const consent = String(receipt!["digest"]);
      this.#stmt.activateGrant.run(at, operation, consent, id);
      this.#audit(audit);
      return {
        grant: { ...g, state: "active", activatedAt: at, operation, consent, epoch: g.epoch + 1 },
      };
    });
  }

  /** Deactivates a pending or active grant; false otherwise. */
  deactivateGrant(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean> {
    return this.#tx(() => {
      const done = this.#stmt.deactivateGrant.run(at, reason, id).changes === 1;
      if (done) this.#audit(audit);
      return done;
    });
  }

  /** A grant and whether its stamps are current (one read). */
  checkGrant(id: string): Promise<{ grant: GrantRecord; current: boolean } | undefined> {
    return this.#do(() => {
      const row = this.#stmt.grantWithEpochs.get(id) as Row | undefined;
      if (!row) return undefined;
      const grant = rowToGrant(row);
      return { grant, current: grantCurrent(grant, grantEpochsNow(row)) };
    });
  }

  /** Writes one audit row into the verifier's trail. */
  record(audit: AuditEntry): Promise<void> {
    return this.#tx(() => this.#audit(audit));
  }

  /** Closes the database the store opened; the application's own stays open. */
  async close(): Promise<void> {
    if (this.#owned && this.#db.open) this.#db.close();
  }
}

/** The subjects a grant is stamped for. */
function subjectsOf(g: NewGrant): [string, string][] {
  return [
    ["user", g.owner],
    ["user", g.target],
    ...(g.contract !== undefined ? [["contract", g.contract] as [string, string]] : []),
  ];
}

function operationValues(o: OperationRecord): Record<string, unknown> {
  return {
    id: o.id,
    user: o.user,
    contract: o.contract ?? null,
    method: o.method,
    credential: o.credential,
    type: o.type,
    document: o.document,
    digest: o.digest,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    userEpoch: o.userEpoch,
    contractEpoch: o.contractEpoch ?? null,
  };
}

function grantValues(g: GrantRecord): Record<string, unknown> {
  return {
    id: g.id,
    kind: g.kind,
    owner: g.owner,
    target: g.target,
    contract: g.contract ?? null,
    createdAt: g.createdAt,
    ownerEpoch: g.ownerEpoch,
    targetEpoch: g.targetEpoch,
    contractEpoch: g.contractEpoch ?? null,
  };
}

function prepare(db: Database.Database, n: TableNames) {
  const {
    security_subjects,
    security_events,
    approval_devices,
    operations,
    receipt_heads,
    receipts,
    grants,
  } = n.t;
  return {
    subject: db.prepare(`SELECT * FROM ${security_subjects} WHERE kind = ? AND id = ?`),
    ensureSubject: db.prepare(`INSERT OR IGNORE INTO ${security_subjects} (kind, id) VALUES (?, ?)`),
    bump: db.prepare(
      `INSERT INTO ${security_subjects} (kind, id, device_epoch, session_epoch, grant_epoch, operation_epoch)
       VALUES (@kind, @id, @device, @session, @grant, @operation)
       ON CONFLICT (kind, id) DO UPDATE SET device_epoch = device_epoch + excluded.device_epoch,
         session_epoch = session_epoch + excluded.session_epoch, grant_epoch = grant_epoch + excluded.grant_epoch,
         operation_epoch = operation_epoch + excluded.operation_epoch
       RETURNING device_epoch, session_epoch, grant_epoch, operation_epoch`,
    ),
    cancelOfSubject: db.prepare(
      `UPDATE ${operations} SET state = 'cancelled', decided_at = @at, reason = @reason
       WHERE state = 'pending' AND ((@kind = 'user' AND user_id = @id) OR (@kind = 'contract' AND contract_id = @id))
       RETURNING id, user_id, credential_id`,
    ),
    revokeOfSubject: db.prepare(
      `UPDATE ${grants} SET state = 'revoked', ended_at = @at, reason = @reason
       WHERE state IN ('pending', 'active')
         AND ((@kind = 'user' AND (owner_id = @id OR target_id = @id)) OR (@kind = 'contract' AND contract_id = @id))
       RETURNING id, owner_id`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO ${security_events} (at, type, kind, subject_id, cause, actor, device_epoch, session_epoch, grant_epoch,
         operation_epoch, operations_cancelled, grants_revoked)
       VALUES (@at, @type, @kind, @subject, @cause, @actor, @device, @session, @grant, @operation, @operations, @grants)
       RETURNING seq`,
    ),
    events: db.prepare(
      `SELECT * FROM ${security_events} WHERE seq > @after AND (@kind IS NULL OR (kind = @kind AND subject_id = @id))
       ORDER BY seq LIMIT @limit`,
    ),
    device: db.prepare(`SELECT * FROM ${approval_devices} WHERE credential_id = ?`),
    putDevice: db.prepare(
      `INSERT INTO ${approval_devices} (credential_id, user_id, public_key, epoch, registered_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (credential_id) DO UPDATE SET user_id = excluded.user_id, public_key = excluded.public_key,
         epoch = excluded.epoch, registered_at = excluded.registered_at`,
    ),
    insertOperation: db.prepare(
      `INSERT INTO ${operations} (id, user_id, contract_id, method, credential_id, type, document, digest, created_at,
         expires_at, user_epoch, contract_epoch, state)
       VALUES (@id, @user, @contract, @method, @credential, @type, @document, @digest, @createdAt, @expiresAt,
         @userEpoch, @contractEpoch, 'pending')`,
    ),
    operation: db.prepare(`SELECT * FROM ${operations} WHERE id = ?`),
    operations: db.prepare(
      `SELECT * FROM ${operations} WHERE user_id = @user AND (@state IS NULL OR state = @state)
         AND (@after IS NULL OR id > @after) ORDER BY id LIMIT @limit`,
    ),
    decideOperation: db.prepare(`UPDATE ${operations} SET state = ?, decided_at = ? WHERE id = ?`),
    cancel: db.prepare(
      `UPDATE ${operations} SET state = 'cancelled', decided_at = @at, reason = @reason
       WHERE id = @id AND state = 'pending' AND expires_at > @at`,
    ),
    head: db.prepare(`SELECT n, digest, time_s FROM ${receipt_heads} WHERE user_id = ?`),
    moveHead: db.prepare(
      `INSERT INTO ${receipt_heads} (user_id, n, digest, time_s) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET n = excluded.n, digest = excluded.digest, time_s = excluded.time_s`,
    ),
    insertReceipt: db.prepare(
      `INSERT INTO ${receipts} (user_id, n, operation_id, body, digest) VALUES (?, ?, ?, ?, ?)`,
    ),
    signReceipt: db.prepare(
      `UPDATE ${receipts} SET key_id = ?, signature = ? WHERE operation_id = ? AND signature IS NULL`,
    ),
    receipt: db.prepare(`SELECT * FROM ${receipts} WHERE operation_id = ?`),
    receipts: db.prepare(`SELECT * FROM ${receipts} WHERE user_id = ? AND n > ? ORDER BY n LIMIT ?`),
    insertGrant: db.prepare(
      `INSERT INTO ${grants} (id, kind, owner_id, target_id, contract_id, state, created_at, epoch, owner_epoch,
         target_epoch, contract_epoch)
       VALUES (@id, @kind, @owner, @target, @contract, 'pending', @createdAt, 0, @ownerEpoch, @targetEpoch,
         @contractEpoch)`,
    ),
    grant: db.prepare(`SELECT * FROM ${grants} WHERE id = ?`),
    grantWithEpochs: db.prepare(`${grantWithEpochs(n)} WHERE g.id = ?`),
    grants: db.prepare(
      `SELECT * FROM ${grants} WHERE owner_id = ? OR target_id = ? ORDER BY created_at DESC, id LIMIT ?`,
    ),
    grantOfOperation: db.prepare(`SELECT id FROM ${grants} WHERE operation_id = ?`),
    activateGrant: db.prepare(
      `UPDATE ${grants} SET state = 'active', activated_at = ?, operation_id = ?, consent = ?, epoch = epoch + 1
       WHERE id = ?`,
    ),
    deactivateGrant: db.prepare(
      `UPDATE ${grants} SET state = 'deactivated', ended_at = ?, reason = ?
       WHERE id = ? AND state IN ('pending', 'active')`,
    ),
  };
}
