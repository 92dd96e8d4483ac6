import { CapkitError } from "@capkit/core";
import { type Epochs, type Subject, subjectKey, ZERO_EPOCHS } from "../events/subjects.js";
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
import type { MemoryStore } from "./memory.js";
import {
  activationRefusal,
  cancelledEntry,
  closedReason,
  eventEntry,
  FIRST_HEAD,
  grantCurrent,
  grantOfSubject,
  operationOfSubject,
  refusedEntry,
  revokedGrantEntry,
} from "./security-rules.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Approvals, events and grants in this process's memory, beside a `MemoryStore` whose audit trail gets their
 * rows. Every method makes its changes with no await in between (the memory store's audit writer runs
 * synchronously when called), so each is atomic in JavaScript's single thread. For tests and single-process
 * servers, like the memory store.
 */
export class MemorySecurityStore implements SecurityStore {
  readonly #audit: MemoryStore;
  readonly #subjects = new Map<string, Mutable<Epochs>>();
  readonly #events: SecurityEventRecord[] = [];
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #operations = new Map<string, Mutable<OperationRecord>>();
  readonly #receipts = new Map<string, Mutable<StoredReceipt>[]>();
  readonly #heads = new Map<string, ReceiptHead>();
  readonly #byOperation = new Map<string, Mutable<StoredReceipt>>();
  readonly #grants = new Map<string, Mutable<GrantRecord>>();

  /** `audit`: the verifier's memory store, whose trail records what happens here. */
  constructor(audit: MemoryStore) {
    this.#audit = audit;
  }

  #write(entries: readonly AuditEntry[]): Promise<unknown> {
    // MemoryStore.record runs its body when called: the rows are written before anything else can run.
    return Promise.all(entries.map((e) => this.#audit.record(e)));
  }

  #epochs(s: Subject): Epochs {
    return this.#subjects.get(subjectKey(s)) ?? ZERO_EPOCHS;
  }

  /** {@inheritDoc SecurityStore.epochs} */
  async epochs(subjects: readonly Subject[]): Promise<Epochs[]> {
    return subjects.map((s) => ({ ...this.#epochs(s) }));
  }

  /** {@inheritDoc SecurityStore.recordEvent} */
  async recordEvent(e: EventInput): Promise<SecurityEventRecord> {
    const key = subjectKey(e.subject);
    const epochs = { ...this.#epochs(e.subject) };
    for (const c of e.revokes) epochs[c]++;
    this.#subjects.set(key, epochs);
    const audit: AuditEntry[] = [];
    let operationsCancelled = 0;
    if (e.revokes.includes("operation"))
      for (const o of this.#operations.values()) {
        if (o.state !== "pending" || !operationOfSubject(o, e.subject)) continue;
        o.state = "cancelled";
        o.decidedAt = e.at;
        o.reason = e.type;
        operationsCancelled++;
        audit.push(cancelledEntry(o, e.at, e.type, e.actor));
      }
    let grantsRevoked = 0;
    if (e.revokes.includes("grant"))
      for (const g of this.#grants.values()) {
        if ((g.state !== "pending" && g.state !== "active") || !grantOfSubject(g, e.subject)) continue;
        g.state = "revoked";
        g.endedAt = e.at;
        g.reason = e.type;
        grantsRevoked++;
        audit.push(revokedGrantEntry(g, e.at, e.type, e.actor));
      }
    const record: SecurityEventRecord = {
      seq: this.#events.length + 1,
      at: e.at,
      type: e.type,
      subject: e.subject,
      cause: e.cause,
      actor: e.actor,
      epochs: { ...epochs },
      operationsCancelled,
      grantsRevoked,
    };
    this.#events.push(record);
    await this.#write([eventEntry(record), ...audit]);
    return record;
  }

  /** {@inheritDoc SecurityStore.events} */
  async events(q: EventQuery): Promise<SecurityEventRecord[]> {
    const want = q.subject && subjectKey(q.subject);
    return this.#events
      .filter((e) => e.seq > (q.after ?? 0) && (want === undefined || subjectKey(e.subject) === want))
      .slice(0, q.limit);
  }

  /** {@inheritDoc SecurityStore.registerDevice} */
  async registerDevice(d: Omit<DeviceRecord, "epoch">, audit: AuditEntry): Promise<DeviceRecord> {
    const record = { ...d, epoch: this.#epochs({ kind: "user", id: d.user }).device };
    this.#devices.set(d.credential, record);
    await this.#write([audit]);
    return record;
  }

  /** {@inheritDoc SecurityStore.device} */
  async device(credential: string): Promise<DeviceRecord | undefined> {
    return this.#devices.get(credential);
  }

  /** {@inheritDoc SecurityStore.createOperation} */
  async createOperation(op: NewOperation, audit: AuditEntry): Promise<OperationRecord> {
    if (this.#operations.has(op.id))
      throw new CapkitError("OPERATION_EXISTS", `an operation ${op.id} exists already`);
    const record: OperationRecord = {
      ...op,
      userEpoch: this.#epochs({ kind: "user", id: op.user }).operation,
      contractEpoch:
        op.contract === undefined ? undefined : this.#epochs({ kind: "contract", id: op.contract }).operation,
      state: "pending",
      decidedAt: undefined,
      reason: undefined,
    };
    this.#operations.set(op.id, { ...record });
    await this.#write([audit]);
    return record;
  }

  /** {@inheritDoc SecurityStore.operation} */
  async operation(id: string): Promise<OperationRecord | undefined> {
    const o = this.#operations.get(id);
    return o && { ...o };
  }

  /** {@inheritDoc SecurityStore.operations} */
  async operations(q: OperationQuery): Promise<OperationRecord[]> {
    return [...this.#operations.values()]
      .filter(
        (o) =>
          o.user === q.user &&
          (q.state === undefined || o.state === q.state) &&
          (q.after === undefined || o.id > q.after),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, q.limit)
      .map((o) => ({ ...o }));
  }

  /** {@inheritDoc SecurityStore.decide} */
  async decide(d: DecisionInput): Promise<DecisionOutcome> {
    const o = this.#operations.get(d.operation);
    if (!o) throw new CapkitError("OPERATION_UNKNOWN", `no operation ${d.operation}`);
    const device = d.deviceKey === undefined ? undefined : this.#devices.get(o.credential);
    const reason = closedReason(o, d, {
      user: this.#epochs({ kind: "user", id: o.user }),
      contract: o.contract === undefined ? undefined : this.#epochs({ kind: "contract", id: o.contract }),
      device,
    });
    if (reason) {
      await this.#write([refusedEntry(d.audit, reason)]);
      return { decided: false, reason };
    }
    const head = this.#heads.get(o.user) ?? FIRST_HEAD;
    const built = d.build(head);
    const receipt: Mutable<StoredReceipt> = {
      user: o.user,
      n: head.n + 1,
      operation: o.id,
      body: built.body,
      digest: built.digest,
      keyId: undefined,
      signature: undefined,
    };
    this.#heads.set(o.user, { n: receipt.n, digest: built.digest, time: built.time });
    const chain = this.#receipts.get(o.user) ?? [];
    chain.push(receipt);
    this.#receipts.set(o.user, chain);
    this.#byOperation.set(o.id, receipt);
    o.state = d.decision;
    o.decidedAt = d.at;
    await this.#write([d.audit]);
    return { decided: true, receipt: { ...receipt } };
  }

  /** {@inheritDoc SecurityStore.cancelOperation} */
  async cancelOperation(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean> {
    const o = this.#operations.get(id);
    if (o?.state !== "pending" || at >= o.expiresAt) return false;
    o.state = "cancelled";
    o.decidedAt = at;
    o.reason = reason;
    await this.#write([audit]);
    return true;
  }

  /** {@inheritDoc SecurityStore.signReceipt} */
  async signReceipt(operation: string, keyId: string, signature: string): Promise<void> {
    const r = this.#byOperation.get(operation);
    if (r && r.signature === undefined) {
      r.keyId = keyId;
      r.signature = signature;
    }
  }

  /** {@inheritDoc SecurityStore.receipt} */
  async receipt(operation: string): Promise<StoredReceipt | undefined> {
    const r = this.#byOperation.get(operation);
    return r && { ...r };
  }

  /** {@inheritDoc SecurityStore.receipts} */
  async receipts(user: string, after: number, limit: number): Promise<StoredReceipt[]> {
    return (this.#receipts.get(user) ?? [])
      .filter((r) => r.n > after)
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  /** {@inheritDoc SecurityStore.createGrant} */
  async createGrant(g: NewGrant, audit: AuditEntry): Promise<GrantRecord> {
    const record: GrantRecord = {
      ...g,
      state: "pending",
      activatedAt: undefined,
      endedAt: undefined,
      reason: undefined,
      operation: undefined,
      consent: undefined,
      epoch: 0,
      ownerEpoch: this.#epochs({ kind: "user", id: g.owner }).grant,
      targetEpoch: this.#epochs({ kind: "user", id: g.target }).grant,
      contractEpoch:
        g.contract === undefined ? undefined : this.#epochs({ kind: "contract", id: g.contract }).grant,
    };
    this.#grants.set(g.id, { ...record });
    await this.#write([audit]);
    return record;
  }

  /** {@inheritDoc SecurityStore.grant} */
  async grant(id: string): Promise<GrantRecord | undefined> {
    const g = this.#grants.get(id);
    return g && { ...g };
  }

  /** {@inheritDoc SecurityStore.grants} */
  async grants(user: string, limit: number): Promise<GrantRecord[]> {
    return [...this.#grants.values()]
      .filter((g) => g.owner === user || g.target === user)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((g) => ({ ...g }));
  }

  #current(g: GrantRecord): boolean {
    return grantCurrent(g, {
      owner: this.#epochs({ kind: "user", id: g.owner }).grant,
      target: this.#epochs({ kind: "user", id: g.target }).grant,
      contract:
        g.contract === undefined ? undefined : this.#epochs({ kind: "contract", id: g.contract }).grant,
    });
  }

  /** {@inheritDoc SecurityStore.activateGrant} */
  async activateGrant(
    id: string,
    operation: string,
    at: number,
    audit: AuditEntry,
  ): Promise<{ grant: GrantRecord } | { refused: GrantRefusal }> {
    const g = this.#grants.get(id);
    if (!g) throw new CapkitError("GRANT_UNKNOWN", `no grant ${id}`);
    const refused = this.#activation(g, operation);
    if (refused) {
      await this.#write([{ ...audit, result: "refused", detail: `${audit.detail}: ${refused}` }]);
      return { refused };
    }
    g.state = "active";
    g.activatedAt = at;
    g.operation = operation;
    g.consent = this.#byOperation.get(operation)!.digest;
    g.epoch++;
    await this.#write([audit]);
    return { grant: { ...g } };
  }

  #activation(g: GrantRecord, operation: string): GrantRefusal | undefined {
    return activationRefusal(g, this.#current(g), {
      operation: this.#operations.get(operation),
      receipt: this.#byOperation.get(operation),
      used: [...this.#grants.values()].some((other) => other.operation === operation),
    });
  }

  /** {@inheritDoc SecurityStore.deactivateGrant} */
  async deactivateGrant(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean> {
    const g = this.#grants.get(id);
    if (!g || (g.state !== "pending" && g.state !== "active")) return false;
    g.state = "deactivated";
    g.endedAt = at;
    g.reason = reason;
    await this.#write([audit]);
    return true;
  }

  /** {@inheritDoc SecurityStore.checkGrant} */
  async checkGrant(id: string): Promise<{ grant: GrantRecord; current: boolean } | undefined> {
    const g = this.#grants.get(id);
    return g && { grant: { ...g }, current: this.#current(g) };
  }

  /** {@inheritDoc SecurityStore.record} */
  async record(audit: AuditEntry): Promise<void> {
    await this.#write([audit]);
  }

  /** {@inheritDoc SecurityStore.close} */
  async close(): Promise<void> {}
}
