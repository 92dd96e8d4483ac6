import type { CapIssuerRecord } from "@capkit/emv-cap";
import type { OathAlgorithm } from "@capkit/oath";

/**
 * What the verifier keeps per credential. `last` is the last accepted counter value — HOTP counter, TOTP time
 * step or CAP ATC (−1 before the first) — and only ever grows: a code is accepted only for a value above it,
 * which is what makes codes one-time (design §6).
 */
export type CredentialParams =
  | { readonly kind: "cap"; readonly record: CapIssuerRecord; readonly atcWindow: number }
  | {
      readonly kind: "hotp";
      readonly algorithm: OathAlgorithm;
      readonly digits: number;
      readonly lookAhead: number;
    }
  | {
      readonly kind: "totp";
      readonly algorithm: OathAlgorithm;
      readonly digits: number;
      readonly step: number;
      readonly t0: number;
      readonly past: number;
      readonly future: number;
    }
  | { readonly kind: "ocra"; readonly suite: string };

export interface StoredCredential {
  readonly id: string;
  readonly params: CredentialParams;
  /** The OATH secret sealed by the KeyProvider (never the secret itself); absent for CAP cards. */
  readonly sealed: string | undefined;
  readonly last: number;
  readonly failures: number;
  readonly locked: boolean;
  readonly createdAt: number;
}

/** The functions a code can answer; a challenge is issued for exactly one of them. */
export type CodeFunction = "identify" | "respond" | "sign" | "ocra";

export interface Challenge {
  readonly id: string;
  readonly credentialId: string;
  readonly function: CodeFunction;
  readonly value: string;
  readonly expiresAt: number;
}

export type AuditAction = "enroll" | "verify" | "resync" | "unlock" | "challenge";

export interface AuditEntry {
  readonly at: number;
  readonly credentialId: string;
  readonly action: AuditAction;
  readonly result: string;
  /** The counter value a decision was about (HOTP counter, TOTP step, CAP ATC). */
  readonly counter?: number;
  readonly detail?: string;
}

/** The result of a conditional accept: done, or why not. */
export type AcceptOutcome = "accepted" | "stale" | "locked";

/**
 * Where verification state lives. Each decision is one atomic operation with its audit row; nothing reads a
 * value, decides, then writes it back (check-then-write lets two concurrent requests both pass).
 */
export interface StateStore {
  /** Adds a credential; CREDENTIAL_EXISTS when the id is taken. */
  enroll(credential: StoredCredential, audit: AuditEntry): Promise<void>;
  get(id: string): Promise<StoredCredential | undefined>;
  /** Sets `last = value` and clears the failure count, only if `last < value` and not locked. */
  accept(id: string, value: number, audit: AuditEntry): Promise<AcceptOutcome>;
  /** Counts a failure; locks when the count reaches `maxFailures`. Returns the new state. */
  fail(id: string, maxFailures: number, audit: AuditEntry): Promise<{ failures: number; locked: boolean }>;
  unlock(id: string, audit: AuditEntry): Promise<boolean>;
  addChallenge(challenge: Challenge, audit: AuditEntry): Promise<void>;
  /** Marks the challenge used and returns it, only if unused, unexpired, and for this credential and function. */
  takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined>;
  audit(credentialId?: string, limit?: number): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
