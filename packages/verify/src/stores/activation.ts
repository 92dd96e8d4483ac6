import type { AuditEntry } from "../model.js";

/**
 * The first accepted code of a credential that is pending (an in-app token bound by the Provisioner) or that
 * replaces another (a new card, a reactivated app): in the SAME write as the accept, the credential becomes
 * active and the one it replaces is revoked (deleted with its challenges; whatever else named it as replaced
 * no longer does). So a process killed at any point leaves either the old credential working and the new one
 * pending, or the new one active and the old one gone — never both active (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11).
 *
 * The three stores apply the rule each in its own way (memory, SQLite, PostgreSQL); the audit rows they write
 * for it are made here, from the accept's own row.
 */

/** The audit row of a pending credential's activation by its first accepted code. */
export function activatedEntry(accept: AuditEntry): AuditEntry {
  return {
    at: accept.at,
    credentialId: accept.credentialId,
    action: "activate",
    result: "ok",
    detail: "first accepted code",
    ...(accept.user !== undefined ? { user: accept.user } : {}),
  };
}

/** The audit row of the credential `replaced`, revoked by the first accepted code of its replacement. */
export function replacedEntry(accept: AuditEntry, replaced: string): AuditEntry {
  return {
    at: accept.at,
    credentialId: replaced,
    action: "revoke",
    result: "ok",
    detail: `replaced by ${accept.credentialId}`,
    ...(accept.user !== undefined ? { user: accept.user } : {}),
  };
}
