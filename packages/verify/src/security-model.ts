import type { ApprovalMethod, OperationType } from "@capkit/provision";
import type { SecurityEventType } from "./events/revocations.js";
import type { EpochClass, Epochs, Subject } from "./events/subjects.js";
import type { AuditEntry } from "./model.js";

// What `@capkit/verify/approvals` keeps (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12): operations awaiting a customer's decision
// and their receipts, the devices registered to approve, the subjects' epochs, security events and grants. It
// lives beside the verifier's state, in the same database, and writes its audit rows into the verifier's audit
// trail (chained and signed with the rest). Times are milliseconds since the epoch unless named otherwise.

/** An operation's life: pending until one decision, or cancelled (by the bank, or by a security event). */
export type OperationState = "pending" | "approved" | "declined" | "cancelled";

/** An operation as stored. */
export interface OperationRecord {
  /** The document's id (the bank's): one operation per id, ever. */
  readonly id: string;
  /** The user who must decide it. */
  readonly user: string;
  /** The professional contract it is made under, if any (its events cancel it too). */
  readonly contract: string | undefined;
  /** How it is decided: `device`, `ocra` or `cap-sign`. */
  readonly method: ApprovalMethod;
  /** The credential that must decide it (a card, a keypad token, the app's device). */
  readonly credential: string;
  /** The document's type (`transfer`, `beneficiary-add`, …). */
  readonly type: OperationType;
  /** The `capkit-operation/1` document, as canonical JSON (JCS, RFC 8785). */
  readonly document: string;
  /** SHA-256 of the canonical document, hex. */
  readonly digest: string;
  /** The document's creation time. */
  readonly createdAt: number;
  /** The document's expiry: no decision after it. */
  readonly expiresAt: number;
  /** The user's (and the contract's) `operation` epoch when it was created: an event since revokes it. */
  readonly userEpoch: number;
  /** The contract's `operation` epoch when it was created; undefined without a contract. */
  readonly contractEpoch: number | undefined;
  /** Where its life stands (`expired` is read from `expiresAt`, never stored). */
  readonly state: OperationState;
  /** When it was decided or cancelled. */
  readonly decidedAt: number | undefined;
  /** Why it was cancelled: an event's type, or the bank's reason. */
  readonly reason: string | undefined;
}

/** A new operation; the store reads its subjects' epochs in the same write that inserts it. */
export type NewOperation = Omit<
  OperationRecord,
  "userEpoch" | "contractEpoch" | "state" | "decidedAt" | "reason"
>;

/** Which of a user's operations `SecurityStore.operations` answers. */
export interface OperationQuery {
  /** Whose. */
  readonly user: string;
  /** Only those in this state. */
  readonly state?: OperationState;
  /** Ids after this one, in id order (keyset paging). */
  readonly after?: string;
  /** The most to answer. */
  readonly limit: number;
}

/** A device key registered to approve for a credential (the in-app token's instance). */
export interface DeviceRecord {
  /** The in-app token's credential id, `SERIAL.N`. */
  readonly credential: string;
  /** Its user. */
  readonly user: string;
  /** SEC1 uncompressed P-256 public key, base64. */
  readonly publicKey: string;
  /** The user's `device` epoch at registration: an event that moves it on revokes the device's approvals. */
  readonly epoch: number;
  /** When it was registered. */
  readonly registeredAt: number;
}

/** The head of a user's receipt chain: the last receipt's place, digest and time (Unix seconds). */
export interface ReceiptHead {
  /** The last receipt's place in the chain; 0 before the first. */
  readonly n: number;
  /** Hex; null before the first receipt. */
  readonly digest: string | null;
  /** The last receipt's time, in Unix seconds (a chain's time never goes back). */
  readonly time: number;
}

/** A receipt as stored: its canonical JSON and digest, and the bank's signature once made. */
export interface StoredReceipt {
  /** Whose chain it is in. */
  readonly user: string;
  /** Its place in the user's chain, from 1. */
  readonly n: number;
  /** The operation it decided. */
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

/** What `SecurityStore.decide` is given: a decision judged right, to record once with its receipt. */
export interface DecisionInput {
  /** The operation's id. */
  readonly operation: string;
  /** The time of the decision: an operation that expired by then is not decided. */
  readonly at: number;
  /** What the customer decided. */
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

/** What `SecurityStore.decide` did: recorded the decision with its receipt, or nothing (and why). */
export type DecisionOutcome =
  | { readonly decided: true; readonly receipt: StoredReceipt }
  | { readonly decided: false; readonly reason: ClosedReason };

/** A security event as recorded, with the subject's epochs after it and what it revoked in the same write. */
export interface SecurityEventRecord {
  /** The store's order of events. */
  readonly seq: number;
  /** When it was recorded. */
  readonly at: number;
  /** Which event. */
  readonly type: SecurityEventType;
  /** Whom it is about. */
  readonly subject: Subject;
  /** Why, in words (never a secret). */
  readonly cause: string;
  /** Who recorded it (`SecurityEventsOptions.actor`). */
  readonly actor: string | undefined;
  /** The subject's epochs after it: stamp the session that made a voluntary change again with them. */
  readonly epochs: Epochs;
  /** Pending operations it cancelled. */
  readonly operationsCancelled: number;
  /** Pending or active grants it revoked. */
  readonly grantsRevoked: number;
}

/** What `SecurityStore.recordEvent` is given. */
export interface EventInput {
  /** When. */
  readonly at: number;
  /** Which event. */
  readonly type: SecurityEventType;
  /** Whom it is about (checked: its kind is one the event is about). */
  readonly subject: Subject;
  /** Why, in words. */
  readonly cause: string;
  /** Who records it. */
  readonly actor: string | undefined;
  /** The epoch classes it moves on (REVOCATIONS). */
  readonly revokes: readonly EpochClass[];
}

/** Which events `SecurityStore.events` answers. */
export interface EventQuery {
  /** Only this subject's. */
  readonly subject?: Subject;
  /** Events after this seq. */
  readonly after?: number;
  /** The most to answer. */
  readonly limit: number;
}

/** The kinds of grant: the Progéliance passerelle only, today. */
export type GrantKind = "passerelle";
/** A grant's life: `pending` until its consent, `active`, then `deactivated` (asked) or `revoked` (an event). */
export type GrantState = "pending" | "active" | "deactivated" | "revoked";

/** A grant (the Progéliance passerelle: one user's professional space ↔ their personal space). */
export interface GrantRecord {
  /** 32 hex digits from the CSPRNG. */
  readonly id: string;
  /** `passerelle`. */
  readonly kind: GrantKind;
  /** The user who asked for it (the professional space's). */
  readonly owner: string;
  /** The user on the other side (the personal space's). */
  readonly target: string;
  /** The professional contract the owner acts under, if any. */
  readonly contract: string | undefined;
  /** Where its life stands. */
  readonly state: GrantState;
  /** When it was created. */
  readonly createdAt: number;
  /** When it was last activated. */
  readonly activatedAt: number | undefined;
  /** When it was deactivated or revoked. */
  readonly endedAt: number | undefined;
  /** Why it ended: the event's type (revoked) or the reason given (deactivated). */
  readonly reason: string | undefined;
  /** The consent operation approved to activate it. */
  readonly operation: string | undefined;
  /** That operation's receipt digest: the customer's signed consent. */
  readonly consent: string | undefined;
  /** The grant's own epoch: it moves on at each activation, so tickets minted under one die with it. */
  readonly epoch: number;
  /** The owner's `grant` epoch when it was created. */
  readonly ownerEpoch: number;
  /** The target's `grant` epoch when it was created. */
  readonly targetEpoch: number;
  /** The contract's `grant` epoch when it was created; undefined without a contract. */
  readonly contractEpoch: number | undefined;
}

/** A new grant; the store reads its subjects' `grant` epochs in the same write that inserts it. */
export type NewGrant = Pick<GrantRecord, "id" | "kind" | "owner" | "target" | "contract" | "createdAt">;

/** Why a grant was not activated. */
export type GrantRefusal = "not-pending" | "revoked" | "consent-invalid" | "consent-used";

/** The methods of a {@link SecurityStore}: what the classes check an option for when they are made. */
export const SECURITY_STORE_METHODS = [
  "epochs",
  "recordEvent",
  "events",
  "registerDevice",
  "device",
  "createOperation",
  "operation",
  "operations",
  "decide",
  "cancelOperation",
  "signReceipt",
  "receipt",
  "receipts",
  "createGrant",
  "grant",
  "grants",
  "activateGrant",
  "deactivateGrant",
  "checkGrant",
  "record",
  "close",
] as const satisfies readonly (keyof SecurityStore)[];

/**
 * Where approvals, events and grants live (src/stores/security-memory.ts, -sqlite.ts, -postgres.ts; one
 * conformance suite, https://github.com/capkit/capkit/blob/main/packages/verify/test/approvals-conformance.ts). Every method is one atomic operation with its audit rows;
 * a failure of the database is STORE_UNAVAILABLE and nothing is recorded.
 */
export interface SecurityStore {
  /**
   * The subjects' epochs, in order (a subject never touched: all 0). One read.
   *
   * @param subjects - whose
   */
  epochs(subjects: readonly Subject[]): Promise<Epochs[]>;
  /**
   * One event, atomically (one statement on PostgreSQL): the subject's epochs moved on, the event row, the
   * subject's pending operations cancelled and its pending or active grants revoked (when the event revokes
   * their class), and an audit row for each.
   *
   * @param e - the event and the classes it revokes
   * @returns the event as recorded, with the subject's new epochs and what it cancelled and revoked
   */
  recordEvent(e: EventInput): Promise<SecurityEventRecord>;
  /**
   * Events in the order recorded, all or one subject's.
   *
   * @param q - a subject, a seq to read after, a page size
   */
  events(q: EventQuery): Promise<SecurityEventRecord[]>;

  /**
   * Registers (or replaces) a credential's device key, stamped with the user's current `device` epoch.
   *
   * @param d - the credential, its user, the key and the time
   * @param audit - the registration's audit row
   */
  registerDevice(d: Omit<DeviceRecord, "epoch">, audit: AuditEntry): Promise<DeviceRecord>;
  /**
   * The device key registered for a credential.
   *
   * @param credential - the in-app token's credential id
   * @returns it, or undefined if none was registered
   */
  device(credential: string): Promise<DeviceRecord | undefined>;

  /**
   * Inserts the operation with its subjects' current `operation` epochs; OPERATION_EXISTS if the id is taken.
   *
   * @param op - the operation
   * @param audit - its creation's audit row
   */
  createOperation(op: NewOperation, audit: AuditEntry): Promise<OperationRecord>;
  /**
   * One operation.
   *
   * @param id - the operation's id
   * @returns it, or undefined if none has that id
   */
  operation(id: string): Promise<OperationRecord | undefined>;
  /**
   * A user's operations in id order, a page at a time.
   *
   * @param q - whose, in which state, after which id, how many
   */
  operations(q: OperationQuery): Promise<OperationRecord[]>;
  /**
   * The one decision, atomically: only if the operation is pending and unexpired at `at`, its epochs (and the
   * device's, for `device`) are current — then the state, the receipt at the head of the user's chain and the
   * audit row. Otherwise nothing but an audit row of the refusal.
   *
   * @param d - the decision, and `build` to make its receipt from the chain head
   * @returns the stored receipt, or why nothing was recorded
   */
  decide(d: DecisionInput): Promise<DecisionOutcome>;
  /**
   * Cancels a pending, unexpired operation (the bank's reason).
   *
   * @param id - the operation
   * @param at - the time
   * @param reason - why, recorded on it
   * @param audit - the cancellation's audit row
   * @returns true if cancelled; false if it was not pending or had expired
   */
  cancelOperation(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean>;
  /**
   * Stores the bank's signature on a receipt (first signature wins: Ed25519 gives the same one again).
   *
   * @param operation - the receipt's operation
   * @param keyId - the receipt key's id
   * @param signature - Ed25519, base64
   */
  signReceipt(operation: string, keyId: string, signature: string): Promise<void>;
  /**
   * The receipt of an operation's decision.
   *
   * @param operation - the operation's id
   * @returns it, or undefined if the operation was not decided
   */
  receipt(operation: string): Promise<StoredReceipt | undefined>;
  /**
   * A user's receipts in chain order, after place `after`.
   *
   * @param user - whose chain
   * @param after - a place `n` (0: from the first)
   * @param limit - the most to answer
   */
  receipts(user: string, after: number, limit: number): Promise<StoredReceipt[]>;

  /**
   * Inserts a pending grant stamped with its subjects' current `grant` epochs.
   *
   * @param g - the grant
   * @param audit - its creation's audit row
   */
  createGrant(g: NewGrant, audit: AuditEntry): Promise<GrantRecord>;
  /**
   * One grant.
   *
   * @param id - the grant's id
   * @returns it, or undefined if none has that id
   */
  grant(id: string): Promise<GrantRecord | undefined>;
  /**
   * A user's grants (as owner or target), newest first.
   *
   * @param user - whose
   * @param limit - the most to answer
   */
  grants(user: string, limit: number): Promise<GrantRecord[]>;
  /**
   * Activates a pending grant whose epochs are current with an approved `link-activation` operation of its
   * owner that activated no other grant: its receipt's digest becomes the consent, the grant's epoch moves on.
   *
   * @param id - the grant
   * @param operation - the consent operation
   * @param at - the time
   * @param audit - the activation's audit row
   * @returns the grant activated, or why not
   */
  activateGrant(
    id: string,
    operation: string,
    at: number,
    audit: AuditEntry,
  ): Promise<{ readonly grant: GrantRecord } | { readonly refused: GrantRefusal }>;
  /**
   * Ends a pending or active grant with the reason given.
   *
   * @param id - the grant
   * @param at - the time
   * @param reason - why, recorded on it
   * @param audit - the deactivation's audit row
   * @returns true if ended; false if it had ended already
   */
  deactivateGrant(id: string, at: number, reason: string, audit: AuditEntry): Promise<boolean>;
  /**
   * The grant, and whether its epochs are all still current (one read).
   *
   * @param id - the grant
   * @returns undefined if none has that id
   */
  checkGrant(id: string): Promise<{ readonly grant: GrantRecord; readonly current: boolean } | undefined>;

  /**
   * An audit row on its own (a refused decision, a signature that did not verify).
   *
   * @param audit - the row
   */
  record(audit: AuditEntry): Promise<void>;
  /** Releases what the store holds (a connection of its own, if any); the verifier's store is closed apart. */
  close(): Promise<void>;
}
