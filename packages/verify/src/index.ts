/**
 * What a bank server imports to decide "accept or reject" for Sésame/CAP codes (EMV CAP) and SGpass-style OATH
 * codes (HOTP, RFC 4226; TOTP, RFC 6238; OCRA, RFC 6287): the {@link Verifier} — one-time use, lockout after 5,
 * challenges, resync, replay detection, safe across a cluster — its policy, the state store it decides on (the
 * {@link MemoryStore} here; SQLite and PostgreSQL in `@capkit/verify/sqlite` and `@capkit/verify/postgres`), the
 * key provider that seals and computes (the {@link SoftwareKeyProvider} here; a PKCS#11 token in
 * `@capkit/verify/pkcs11`), and the signed, chained audit trail with its offline check.
 *
 * Every error is a `CapkitError` of `@capkit/core` with a stable `code`: `INPUT_INVALID` for a bad argument
 * (refused before anything is counted or stored), `CREDENTIAL_INVALID` and `CREDENTIAL_EXISTS` at enrolment,
 * `CREDENTIAL_UNKNOWN` for an administrator's act on an id nobody holds, `RATE_LIMITED`, `KEY_INVALID`,
 * `KEY_UNAVAILABLE` and `STORE_UNAVAILABLE` (then nothing was accepted).
 *
 * @packageDocumentation
 */

// The audit trail: its export for a SIEM, its retention, its offline verification (the entries and checkpoints
// themselves are with the store's types below).
export { AUDIT_COLUMNS, auditCsv, auditJsonLines, type ExportedAuditEntry } from "./audit/export.js";
export { type AuditRetention, DEFAULT_AUDIT_RETENTION } from "./audit/maintenance.js";
export { type AuditVerification, verifyAuditTrail } from "./audit/verify-trail.js";
// The time TOTP and OCRA codes are judged at, steady across a step of the server's clock.
export { steadyClock } from "./clock.js";
// Keys: the provider that seals secrets at rest and computes with them, and the one that holds them in memory
// (a PKCS#11 token: @capkit/verify/pkcs11).
export type { CapCardKey, KeyProvider, SealedUse } from "./key-provider.js";
export { readMaterialFile, type SoftwareKeyMaterial, SoftwareKeyProvider } from "./keys/software.js";
// What each credential kind is enrolled with: a CAP card's issuer record, an OATH token's secret.
export type { CapEnrollRequest } from "./kinds/cap.js";
export type { HotpEnrollRequest } from "./kinds/hotp.js";
export type { OathTokenRequest } from "./kinds/oath-token.js";
export type { OcraEnrollRequest } from "./kinds/ocra.js";
export type { TotpEnrollRequest } from "./kinds/totp.js";
// State stores: the contract every store meets (one atomic operation per decision) and what it keeps —
// credentials, users, challenges, the chained audit trail and its signed checkpoints.
export type {
  AcceptDecision,
  AcceptOutcome,
  AuditAction,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  ChainHead,
  Challenge,
  CodeFunction,
  Counted,
  CredentialKind,
  CredentialParams,
  CredentialState,
  FailExpectation,
  FailOutcome,
  FailureSubject,
  ListOptions,
  LockoutRule,
  SealedState,
  StateStore,
  StoredCapRecord,
  StoredCredential,
  UserState,
} from "./model.js";
// The policy: lockout, windows, challenges, replays (safe defaults; every credential's windows frozen at enrolment).
export { DEFAULT_POLICY, type Policy } from "./policy.js";
// Key rotation (`Verifier.rekey`).
export type { RekeyOptions, RekeyReport } from "./rekey.js";
// What a store keeps of an accepted request to recognise its replay.
export type { ReplayProbe } from "./replay.js";
// The memory store (SQLite and PostgreSQL: @capkit/verify/sqlite, @capkit/verify/postgres).
export { MemoryStore, type MemoryStoreOptions } from "./stores/memory.js";
// Throttling by source (an address, a session), before anything is judged or counted.
export { sourceThrottle, type Throttle, type ThrottleRequest } from "./throttle.js";
// The verifier: enrol credentials, judge codes, issue challenges, manage and audit them.
export {
  type CredentialStatus,
  type Decision,
  type EnrollRequest,
  type FactorRequest,
  type FactorResult,
  type UserStatus,
  Verifier,
  type VerifierOptions,
  type VerifyRequest,
  type VerifyResult,
} from "./verifier.js";
