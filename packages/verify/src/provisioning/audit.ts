import type { AuditEntry } from "../model.js";
import type { ActivationRecord, EndReason, InstanceRecord } from "./model.js";

/**
 * The audit rows of an activation's steps (action "activation"), under the credential id the activation
 * enrols and the user, so that `audit(credentialId)` tells an instance's whole story: started, code sent,
 * each PAKE run answered or failed, confirmed (then the pending credential's "enroll"), activated (with the
 * store's "activate" and the replaced instance's "revoke"), superseded or reset. Never a code, a key or a seed:
 * the detail names the activation and counts.
 */
export type ActivationStep =
  | "started"
  | "rate-limited"
  | "sms-sent"
  | "sms-failed"
  | "letter-sent"
  | "letter-failed"
  | "pake-answered"
  | "pake-failed"
  | "second-feature-failed"
  | "device-proof-failed"
  | "tampered"
  | "otp-failed"
  | "pake-confirmed"
  | "activated"
  | "superseded"
  | "reset";

export function activationEntry(
  a: Pick<ActivationRecord, "id" | "user" | "credentialId">,
  at: number,
  step: ActivationStep,
  more?: string,
): AuditEntry {
  return {
    at,
    credentialId: a.credentialId,
    action: "activation",
    result: step,
    detail: more === undefined ? `activation ${a.id}` : `activation ${a.id}: ${more}`,
    user: a.user,
  };
}

/** A start refused by the rate rule: no activation, so no credential id. */
export function rateLimitedEntry(user: string, at: number): AuditEntry {
  return { at, credentialId: "", action: "activation", result: "rate-limited", user };
}

/** An instance's credential revoked by the Provisioner (superseded before its first code, or reset). */
export function endedInstanceEntry(i: InstanceRecord, at: number, reason: EndReason): AuditEntry {
  return { at, credentialId: i.credentialId, action: "revoke", result: "ok", detail: reason, user: i.user };
}
