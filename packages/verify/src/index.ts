// The core: verifier, kinds, key provider, memory store. SQLite and PostgreSQL stores: @capkit/verify/sqlite,
// @capkit/verify/postgres (their drivers are optional peer dependencies).
export { AUDIT_FORMAT, auditText, chainHash, chainStart } from "./audit/chain.js";
export { checkpointHash, checkpointSignatureValid, checkpointText } from "./audit/checkpoint.js";
export { AUDIT_COLUMNS, auditCsv, auditJsonLines } from "./audit/export.js";
export { type AuditRetention, DEFAULT_AUDIT_RETENTION } from "./audit/maintenance.js";
export { type AuditVerification, verifyAuditTrail } from "./audit/verify-trail.js";
export * from "./clock.js";
export * from "./key-provider.js";
export * from "./keys/software.js";
export type * from "./kinds/index.js";
export type { Attempt, Match } from "./kinds/kind.js";
export * from "./model.js";
export * from "./policy.js";
export type { RekeyOptions, RekeyReport } from "./rekey.js";
export * from "./stores/memory.js";
export * from "./throttle.js";
export * from "./verifier.js";
