import type { EpochClass, SubjectKind } from "./subjects.js";

/**
 * The named security events and what each revokes (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12.3), as data: one table, read by
 * `SecurityEvents.record` and by the stores' one atomic write per event. The four automatic deactivations of
 * the Progéliance passerelle are the leaflet's (« réinitialisation du code secret, changement volontaire du code
 * secret par vos soins, changement d'administrateur, ou révocation des transactions par votre conseiller »);
 * the device reactivation is SogeSmart's (a new app replaces the old).
 *
 * An event moves on the epochs of the classes it revokes: every device, session, grant or operation stamped
 * with the subject's older epoch of that class is refused from then on, on every server. In the same write,
 * grants still pending or active on the subject are marked revoked with the event as their cause, and
 * operations still pending are cancelled, when the event revokes their class.
 */
export type SecurityEventType =
  | "password-reset"
  | "password-change"
  | "admin-change"
  | "adviser-revocation"
  | "device-reactivation";

/** What one security event is about and what it revokes: a line of {@link REVOCATIONS}. */
export interface Revocation {
  /** The kinds of subject the event is about. */
  readonly subjects: readonly SubjectKind[];
  /** The epoch classes it moves on: what stamped before it is refused. */
  readonly revokes: readonly EpochClass[];
  /** What it is, in the bank's words. */
  readonly description: string;
}

/**
 * The named security events and what each revokes: the one table `SecurityEvents.record` and every store
 * apply. The leaflet's words are the comments beside each line.
 */
export const REVOCATIONS: Readonly<Record<SecurityEventType, Revocation>> = {
  // « réinitialisation du code secret » (« mot de passe perdu »): whoever reset it may not be the customer.
  "password-reset": {
    subjects: ["user", "account"],
    revokes: ["device", "session", "grant", "operation"],
    description: "the secret code was reset: every device re-validated, every session ended, grants revoked",
  },
  // « changement volontaire du code secret par vos soins »: the customer is there; the device they hold stays.
  // The session that made the change is stamped again by the caller with the epochs the event returns.
  "password-change": {
    subjects: ["user", "account"],
    revokes: ["session", "grant"],
    description: "the customer changed the secret code: other sessions ended, grants revoked",
  },
  // « changement d'administrateur » of a professional contract.
  "admin-change": {
    subjects: ["contract"],
    revokes: ["session", "grant", "operation"],
    description:
      "the contract's administrator changed: its sessions ended, grants revoked, operations cancelled",
  },
  // « révocation des transactions par votre conseiller »: no more very sensitive operations until re-enabled.
  "adviser-revocation": {
    subjects: ["user", "contract"],
    revokes: ["device", "session", "grant", "operation"],
    description:
      "an adviser revoked the transaction rights: devices' approvals, sessions, grants and operations",
  },
  // A new app activated for the user: the replaced device's approvals and the sessions opened with it end. The
  // new device is registered after the event, under the new epoch.
  "device-reactivation": {
    subjects: ["user"],
    revokes: ["device"],
    description: "a new device was activated: the devices registered before it no longer approve",
  },
};

/** Every security event type, in the table's order (what a CLI or a form offers). */
export const SECURITY_EVENT_TYPES = Object.keys(REVOCATIONS) as readonly SecurityEventType[];
