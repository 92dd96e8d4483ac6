import type { ApprovalMethod, OperationType } from "@capkit/provision";
import type { SecurityEventType } from "./events/revocations.js";
import type { EpochClass, Epochs, Subject } from "./events/subjects.js";
import type { AuditEntry } from "./model.js";

/**
 * What `@capkit/verify/approvals` keeps (docs/architecture.md §12): operations awaiting a customer's decision
 * and their receipts, the devices registered to approve, the subjects' epochs, security events and grants. It
 * lives beside the verifier's state, in the same database, and writes its audit rows into the verifier's audit
 * trail (chained and signed with the rest). Times are milliseconds since the epoch unless named otherwise.
 */

/** An operation's life: pending until one decision, or cancelled (by the bank, or by a security event). */
export type OperationState = "pending" | "approved" | "declined" | "cancelled";

export interface OperationRecord {
  /** The document's id (the bank's): one operation per id, ever. */
  readonly id: string;
  readonly user: string;
  /** The professional contract it is made under, if any (its events cancel it too). */
  readonly contract: string | undefined;
  readonly method: ApprovalMethod;
  /** The credential that must decide it (a card, a keypad token, the app's device). */
  readonly credential: string;
  readonly type: OperationType;
  /** The `capkit-operation/1` document, as canonical JSON. */
  readonly document: string;
  /** SHA-256 of the canonical document, hex. */
  readonly digest: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The user's (and the contract's) `operation` epoch when it was created: an event since revokes it. */
  readonly userEpoch: number;
  readonly contractEpoch: number | undefined;
  readonly state: OperationState;
  readonly decidedAt: number | undefined;
  /** Why it was cancelled: an event's type, or the bank's reason. */
  readonly reason: string | undefined;
}

/** A new operation; the store reads its subjects' epochs in the same write that inserts it. */
export type NewOperation = Omit<
  OperationRecord,
  "userEpoch" | "contractEpoch" | "state" | "decidedAt" | "reason"
>;

export interface OperationQuery {
  readonly user: string;
  readonly state?: OperationState;
  /** Ids after this one, in id order (keyset paging). */
  readonly after?: string;
  readonly limit: number;
}

/** A device key registered to approve for a credential (the in-app token's instance). */
export interface DeviceRecord {
  readonly credential: string;
  readonly user: string;
  /** SEC1 uncompressed P-256 public key, base64. */
  readonly publicKey: string;
  /** The user's `device` epoch at registration: an event that moves it on revokes the device's approvals. */
  readonly epoch: number;
  readonly registeredAt: number;
}

/** The head of a user's receipt chain: the last receipt's place, digest and time (Unix seconds). */
export interface ReceiptHead {
  readonly n: number;
  /** Hex; null before the first receipt. */
  readonly digest: string | null;
  readonly time: number;
}

/** A receipt as stored: its canonical JSON and digest, and the bank's signature once made. */
export interface StoredReceipt {
  readonly user: string;
  /** Its place in the user's chain, from 1. */
  readonly n: number;
  readonly operation: string;
  /** The `capkit-receipt/1` receipt, canonical JSON. */
  readonly body: string;
  /** SHA-256 of `body`, hex: what the user's next receipt names as `previous`. */
  readonly digest: string;
  /** Made after the decision's write (a KeyProvider call); until then undefined, made again on the next read. */
  readonly keyId: string | undefined;
  /** Ed25519, base64. */
  readonly signature: string | undefined;
}

/** Why a decision was not recorded: the operation is no longer pending, or what it was stamped with moved on. */
export type ClosedReason = "approved" | "declined" | "cancelled" | "expired" | "revoked";

export interface DecisionInput {
  readonly operation: string;
  readonly at: number;
  readonly decision: "approved" | "declined";
  /**
   * The device key the signature was checked with (method `device`): it must still be the credential's
   * registered key, registered under the user's current `device` epoch.
   */
  readonly deviceKey?: string;
  /**
   * The receipt, built from the user's chain head read in the same write (synchronous: it runs inside the
   * store's transaction).
   */
  build(head: ReceiptHead): { readonly body: string; readonly digest: string; readonly time: number };
  /** The decision's audit row. */
  readonly audit: AuditEntry;
}

export type DecisionOutcome =
  | { readonly decided: true; readonly receipt: StoredReceipt }
  | { readonly decided: false; readonly reason: ClosedReason };

/** A security event as recorded, with the subject's epochs after it and what it revoked in the same write. */
export interface SecurityEventRecord {
  /** The store's order of events. */
  readonly seq: number;
  readonly at: number;
  readonly type: SecurityEventType;
  readonly subject: Subject;
  readonly cause: string;
  readonly actor: string | undefined;
  readonly epochs: Epochs;
  readonly operationsCancelled: number;
  readonly grantsRevoked: number;
}

export interface EventInput {
  readonly at: number;
  readonly type: SecurityEventType;
  readonly subject: Subject;
  readonly cause: string;
  readonly actor: string | undefined;
  /** The epoch classes it moves on (REVOCATIONS). */
  readonly revokes: readonly EpochClass[];
}

export interface EventQuery {
  readonly subject?: Subject;
  /** Events after this seq. */
  readonly after?: number;
  readonly limit: number;
}

export type GrantKind = "passerelle";
export type GrantState = "pending" | "active" | "deactivated" | "revoked";

/** A grant (the Progéliance passerelle: one user's professional space ↔ their personal space). */
export interface GrantRecord {
  /** 32 hex digits from the CSPRNG. */
  readonly id: string;
  readonly kind: GrantKind;
  /** The user who asked for it (the professional space's). */
  readonly owner: string;
  /** The user on the other side (the personal space's). */
  readonly target: string;
  readonly contract: string | undefined;
  readonly state: GrantState;
  readonly createdAt: number;
  readonly activatedAt: number | undefined;
  readonly endedAt: number | undefined;
  /** Why it ended: the event's type (revoked) or the reason given (deactivated). */
  readonly reason: string | undefined;
  /** The consent operation approved to activate it, and its receipt's digest. */
  readonly operation: string | undefined;
  readonly consent: string | undefined;
  /** The grant's own epoch: it moves on at each activation, so tickets minted under one die with it. */
  readonly epoch: number;
  /** The `grant` epochs of the owner, the target and the contract when it was created. */
  readonly ownerEpoch: number;
  readonly targetEpoch: number;
  readonly contractEpoch: number | undefined;
}

export type NewGrant = Pick<GrantRecord, "id" | "kind" | "owner" | "target" | "contract" | "createdAt">;

/** Why a grant was not activated. */
export type GrantRefusal = "not-pending" | "revoked" | "consent-invalid" | "consent-used";

/**
 * Where approvals, events and grants live (src/stores/security-memory.ts, -sqlite.ts, -postgres.ts; one
 * conformance suite). Every method is one atomic operation with its audit rows; a failure of the database is
 * STORE_UNAVAILABLE and nothing is recorded.
 */
export interface SecurityStore {
  /** The subjects' epochs, in order (a subject never touched: all 0). */
  epochs(subjects: readonly Subject[]): Promise<Epochs[]>;
  /**
   * One event, atomically (one statement on PostgreSQL): the subject's epochs moved on, the event row, the
   * subject's pending operations cancelled and its pending or active grants revoked (when the event revokes
   * their class), and an audit row for each.
   */
  recordEvent(e: EventInput): Promise<SecurityEventRecord>;
  events(q: EventQuery): Promise<SecurityEventRecord[]>;

  /** Registers (or replaces) a credential's device key, stamped with the user's current `device` epoch. */
  registerDevice(d: Omit<DeviceRecord, "epoch">, audit: AuditEntry): Promise<DeviceRecord>;
  device(credential: string): Promise<DeviceRecord | undefined>;

  /** Inserts the operation with its subjects' current `operation` epochs; OPERATION_EXISTS if the id is taken. */
  createOperation(op: NewOperation, audit: AuditEntry): Promise<OperationRecord>;
  operation(id: string): Promise<OperationRecord | undefined>;
  operations(q: OperationQuery): Promise<OperationRecord[]>;
  /**
   * The one decision, atomically: only if the operation is pending and unexpired at `at`, its epochs (and the
   * device's, for `device`) are current — then the state, the receipt at the head of the user's chain and the
   * audit row. Otherwise nothing but an audit row of the refusal.
   */
  decide(d: DecisionInput): Promise<DecisionOutcome>;
  /** Cancels a pending, unexpired operation (the bank's reason); false if it was not. */
  cancelOperation(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean>;
  /** Stores the bank's signature on a receipt (first signature wins: Ed25519 gives the same one again). */
  signReceipt(operation: string, keyId: string, signature: string): Promise<void>;
  receipt(operation: string): Promise<StoredReceipt | undefined>;
  /** A user's receipts in chain order, after `after` (a place `n`). */
  receipts(user: string, after: number, limit: number): Promise<StoredReceipt[]>;

  /** Inserts a pending grant stamped with its subjects' current `grant` epochs. */
  createGrant(g: NewGrant, audit: AuditEntry): Promise<GrantRecord>;
  grant(id: string): Promise<GrantRecord | undefined>;
  /** A user's grants (as owner or target), newest first. */
  grants(user: string, limit: number): Promise<GrantRecord[]>;
  /**
   * Activates a pending grant whose epochs are current with an approved `link-activation` operation of its
   * owner that activated no other grant: its receipt's digest becomes the consent, the grant's epoch moves on.
   */
  activateGrant(
    id: string,
    operation: string,
    at: number,
    audit: AuditEntry,
  ): Promise<{ readonly grant: GrantRecord } | { readonly refused: GrantRefusal }>;
  /** Ends a pending or active grant with the reason given; false if it had ended. */
  deactivateGrant(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean>;
  /** The grant, and whether its epochs are all still current (one read). */
  checkGrant(id: string): Promise<{ readonly grant: GrantRecord; readonly current: boolean } | undefined>;

  /** An audit row on its own (a refused decision, a signature that did not verify). */
  record(audit: AuditEntry): Promise<void>;
  close(): Promise<void>;
}
