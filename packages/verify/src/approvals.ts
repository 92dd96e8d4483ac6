// @capkit/verify/approvals: very sensitive operations signed for what they are (receipts chained per user),
// security events that revoke by epoch, and grants (docs/architecture.md §12) — apart from the core so that a
// verifier alone does not load the operation documents and the P-256 curve. Their SQLite and PostgreSQL stores
// are in @capkit/verify/sqlite and @capkit/verify/postgres.
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
export { APPROVAL_METHODS, type ApprovalPrompt } from "./approvals/methods.js";
export { type RecordEventRequest, SecurityEvents, type SecurityEventsOptions } from "./events/events.js";
export { type GrantCheck, Grants, type GrantsOptions } from "./events/grants.js";
export {
  REVOCATIONS,
  type Revocation,
  SECURITY_EVENT_TYPES,
  type SecurityEventType,
} from "./events/revocations.js";
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
export type * from "./security-model.js";
export { MemorySecurityStore } from "./stores/security-memory.js";
