/**
 * Very sensitive operations signed for what they are (PSD2 RTS Art. 5, dynamic linking): operations created
 * from their `capkit-operation/1` documents, decided once by the credential they name — the app's device key, an
 * OCRA keypad or a Sésame/CAP reader — in the verifier's one lockout, each decision with a receipt signed and
 * chained per user; security events that revoke devices, sessions, grants and pending operations by moving
 * epochs; and grants (the Progéliance passerelle). Apart from `@capkit/verify` so that a verifier alone does
 * not load the operation documents and the P-256 curve. Their stores live beside the verifier's, in the same
 * database and audit trail: the memory one here, the SQLite and PostgreSQL ones in `@capkit/verify/sqlite` and
 * `@capkit/verify/postgres`. The design: [docs/architecture.md §12](https://github.com/capkit/capkit/blob/main/docs/architecture.md#12-operations-receipts-security-events-and-grants-verifyapprovals).
 *
 * @packageDocumentation
 */

// Approvals: create an operation, have it decided once, read its state and its signed receipt.
export {
  Approvals,
  type ApprovalsOptions,
  type AskedBy,
  type CreatedOperation,
  type CreateOperationRequest,
  type DecideRequest,
  type DecisionResult,
  type DeviceDecision,
  type OperationStatus,
} from "./approvals/approvals.js";
// The approval methods and what each shows the customer.
export { APPROVAL_METHODS, type ApprovalPrompt } from "./approvals/methods.js";
// Security events: what each revokes (as data), recorded in one atomic write.
export { type RecordEventRequest, SecurityEvents, type SecurityEventsOptions } from "./events/events.js";
// Grants: the Progéliance passerelle's links, activated by an approved consent, revoked by events.
export { type GrantCheck, Grants, type GrantsOptions } from "./events/grants.js";
export {
  REVOCATIONS,
  type Revocation,
  SECURITY_EVENT_TYPES,
  type SecurityEventType,
} from "./events/revocations.js";
// Subjects and their epochs; the stamps a bank keeps with what it creates.
export {
  EPOCH_CLASSES,
  type EpochClass,
  type Epochs,
  type Stamp,
  type StampEntry,
  SUBJECT_KINDS,
  type Subject,
  type SubjectKind,
} from "./events/subjects.js";
// The store interface the memory, SQLite and PostgreSQL security stores implement, and its records.
export type {
  ClosedReason,
  DecisionInput,
  DecisionOutcome,
  DeviceRecord,
  EventInput,
  EventQuery,
  GrantKind,
  GrantRecord,
  GrantRefusal,
  GrantState,
  NewGrant,
  NewOperation,
  OperationQuery,
  OperationRecord,
  OperationState,
  ReceiptHead,
  SecurityEventRecord,
  SecurityStore,
  StoredReceipt,
} from "./security-model.js";
export { MemorySecurityStore } from "./stores/security-memory.js";
