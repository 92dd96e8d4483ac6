import type { Epochs, Subject } from "../events/subjects.js";
import type { AuditEntry } from "../model.js";
import type {
  ClosedReason,
  DecisionInput,
  DeviceRecord,
  GrantRecord,
  GrantRefusal,
  OperationRecord,
  ReceiptHead,
  SecurityEventRecord,
  StoredReceipt,
} from "../security-model.js";

/**
 * The rules the three security stores apply, each in its own way (memory and SQLite in JavaScript inside their
 * atomic write, PostgreSQL partly in SQL, which mirrors the texts below), written once.
 */

/** A user's receipt chain before its first receipt. */
export const FIRST_HEAD: ReceiptHead = Object.freeze({ n: 0, digest: null, time: 0 });

/**
 * Why a decision on `o` cannot be recorded at `d.at`, given the subjects' epochs and the device registration
 * read in the same atomic write; undefined when it can. An operation is decided once; an expired one never; one
 * whose user (or contract) moved its `operation` epoch on since its creation is revoked (an event raced its
 * creation); a device decision needs the key it was checked with to be still the credential's, registered for
 * the operation's user under the user's current `device` epoch.
 */
export function closedReason(
  o: OperationRecord,
  d: Pick<DecisionInput, "at" | "deviceKey">,
  now: {
    readonly user: Epochs;
    readonly contract: Epochs | undefined;
    readonly device: DeviceRecord | undefined;
  },
): ClosedReason | undefined {
  if (o.state !== "pending") return o.state;
  if (d.at >= o.expiresAt) return "expired";
  if (now.user.operation !== o.userEpoch) return "revoked";
  if (o.contract !== undefined && now.contract?.operation !== o.contractEpoch) return "revoked";
  if (d.deviceKey !== undefined) {
    const v = now.device;
    if (!v || v.user !== o.user || v.publicKey !== d.deviceKey || v.epoch !== now.user.device)
      return "revoked";
  }
  return undefined;
}

/** Whether a grant's epochs are all still its subjects' `grant` epochs (`now`: those epochs, read now). */
export function grantCurrent(
  g: GrantRecord,
  now: { readonly owner: number; readonly target: number; readonly contract: number | undefined },
): boolean {
  return (
    now.owner === g.ownerEpoch &&
    now.target === g.targetEpoch &&
    (g.contract === undefined || now.contract === g.contractEpoch)
  );
}

/**
 * Why a grant cannot be activated with the consent operation, if it cannot: the grant must be pending and
 * current; the operation an approved `link-activation` of the grant's owner under the grant's contract (a
 * consent given in one professional space opens no passerelle of another), made once the grant existed (a
 * consent left pending from an earlier grant of the contract, replaced or deactivated since, opens no later
 * one: the document names the contract, not the grant), with its receipt, that activated no other grant.
 * A document's `createdAt` is in whole seconds (https://github.com/capkit/capkit/blob/main/docs/architecture.md
 * §12.1), hence the grant's time rounded down.
 */
export function activationRefusal(
  g: GrantRecord,
  current: boolean,
  consent: {
    readonly operation: OperationRecord | undefined;
    readonly receipt: StoredReceipt | undefined;
    readonly used: boolean;
  },
): GrantRefusal | undefined {
  if (g.state !== "pending") return "not-pending";
  if (!current) return "revoked";
  const o = consent.operation;
  if (
    o?.state !== "approved" ||
    o.type !== "link-activation" ||
    o.user !== g.owner ||
    o.contract !== g.contract ||
    o.createdAt < wholeSecond(g.createdAt) ||
    !consent.receipt
  )
    return "consent-invalid";
  if (consent.used) return "consent-used";
  return undefined;
}

/** A time (ms) rounded down to its whole second. */
const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/** Whether an event about `s` reaches the operation: its user's, or its contract's. */
export function operationOfSubject(o: OperationRecord, s: Subject): boolean {
  return (s.kind === "user" && o.user === s.id) || (s.kind === "contract" && o.contract === s.id);
}

/** Whether an event about `s` reaches the grant: its owner's or target's, or its contract's. */
export function grantOfSubject(g: GrantRecord, s: Subject): boolean {
  return (
    (s.kind === "user" && (g.owner === s.id || g.target === s.id)) ||
    (s.kind === "contract" && g.contract === s.id)
  );
}

/** `operation <id>: <why>`, the detail of an operation's audit rows (PostgreSQL writes the same in SQL). */
export function operationDetail(id: string, why: string): string {
  return `operation ${id}: ${why}`;
}

/** `grant <id>: <why>`, the detail of a grant's audit rows (PostgreSQL writes the same in SQL). */
export function grantDetail(id: string, why: string): string {
  return `grant ${id}: ${why}`;
}

/** The audit row of an operation cancelled by an event (or by the bank). */
export function cancelledEntry(
  o: Pick<OperationRecord, "id" | "credential" | "user">,
  at: number,
  reason: string,
  actor: string | undefined,
): AuditEntry {
  return {
    at,
    credentialId: o.credential,
    action: "operation",
    result: "cancelled",
    detail: operationDetail(o.id, reason),
    user: o.user,
    ...(actor !== undefined ? { actor } : {}),
  };
}

/** The audit row of a grant revoked by an event, naming the event as its cause. */
export function revokedGrantEntry(
  g: Pick<GrantRecord, "id" | "owner">,
  at: number,
  reason: string,
  actor: string | undefined,
): AuditEntry {
  return {
    at,
    credentialId: "",
    action: "grant",
    result: "revoked",
    detail: grantDetail(g.id, reason),
    user: g.owner,
    ...(actor !== undefined ? { actor } : {}),
  };
}

/**
 * The audit row of a security event: its type, its seq (as the counter), the subject and the cause; in the
 * user's chain for a user, else in a shared chain.
 */
export function eventEntry(e: SecurityEventRecord): AuditEntry {
  return {
    at: e.at,
    credentialId: "",
    action: "event",
    result: e.type,
    counter: e.seq,
    detail: eventDetail(e.subject, e.cause),
    ...(e.subject.kind === "user" ? { user: e.subject.id } : {}),
    ...(e.actor !== undefined ? { actor: e.actor } : {}),
  };
}

export function eventDetail(s: Subject, cause: string): string {
  return `${s.kind} ${s.id}: ${cause}`;
}

/** A refused decision's audit row: the decision's own, with the reason. */
export function refusedEntry(audit: AuditEntry, reason: ClosedReason): AuditEntry {
  return { ...audit, result: "refused", detail: `${audit.detail ?? ""}: ${reason}` };
}
