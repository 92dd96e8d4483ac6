import type { ActivationServerState } from "@capkit/provision";
import type { AuditEntry, StoredCredential } from "../model.js";
import type { RateRule } from "./rules.js";

/** An activation's protocol state as stored in clear: everything but its secrets (sealed apart). */
export type PublicActivationState = Omit<ActivationServerState, "secrets">;

/** Why the Provisioner ended an activation or an instance from outside the protocol. */
export type EndReason = string;

/** One activation as stored (docs/architecture.md §11). Times in milliseconds since the epoch. */
export interface ActivationRecord {
  /** The protocol's activation id (32 hex digits). */
  readonly id: string;
  readonly user: string;
  /** The device slot it fills (1 … maxDevices): its credential replaces the slot's active one. */
  readonly slot: number;
  /** The credential it enrols, `SERIAL.N`. */
  readonly credentialId: string;
  /** False for an identifiant the bank's directory does not know: no code was sent, it can never finish. */
  readonly known: boolean;
  /** The idempotency key of the start that made it. */
  readonly startKey: string | undefined;
  readonly createdAt: number;
  readonly state: PublicActivationState;
  /** The activation's own key, sealed by the KeyProvider (src/provisioning/sealing.ts). */
  readonly secretKey: string;
  /** The secrets, sealed under that key; undefined once none is left. */
  readonly secrets: string | undefined;
  /** Ended from outside the protocol: "superseded" by a newer activation of its slot, "reset", … */
  readonly ended: EndReason | undefined;
}

/** One device instance: the pending or active credential an activation bound, with its device key. */
export interface InstanceRecord {
  readonly credentialId: string;
  readonly user: string;
  readonly serial: string;
  readonly instance: number;
  readonly slot: number;
  readonly activationId: string;
  /** The device's P-256 public key (SEC1 uncompressed, base64): its logins are signed with it. */
  readonly devicePublicKey: string;
  /** The app version it was activated with (the floor applies to it). */
  readonly appVersion: string;
  readonly createdAt: number;
  /** Ended by the Provisioner (superseded, reset, …); a credential revoked otherwise leaves this unset. */
  readonly ended: EndReason | undefined;
  readonly endedAt: number | undefined;
}

/** An instance with its credential's state in the verifier's store: "ended" when the credential is gone. */
export interface InstanceStatus extends InstanceRecord {
  readonly state: "pending" | "active" | "disabled" | "ended";
}

/** What the Provisioner keeps per identifiant (known or not). */
export interface ProvisioningUserRecord {
  readonly user: string;
  /** Its in-app tokens' serial; undefined for an identifiant nobody holds. */
  readonly serial: string | undefined;
  /** The next instance number of that serial. */
  readonly nextInstance: number;
  /** When its last starts were (ms), the rate rule's memory. */
  readonly sends: readonly number[];
  /** The grace period (ms), set at a start when the policy has one. */
  readonly graceFrom: number | undefined;
  readonly graceUntil: number | undefined;
}

export interface StartInput {
  readonly user: string;
  readonly slot: number;
  readonly known: boolean;
  readonly now: number;
  readonly startKey: string | undefined;
  readonly rate: RateRule;
  /** Milliseconds of grace for a known user; undefined: none. */
  readonly graceMs: number | undefined;
  /** A serial for a user who has none (or whose instance numbers ran out), and for an unknown identifiant. */
  readonly newSerial: string;
  /**
   * The activation, once its serial and instance are allocated — synchronous, inside the store's transaction —
   * with its audit rows.
   */
  build(serial: string, instance: number): { record: ActivationRecord; audit: readonly AuditEntry[] };
}

export type StartResult =
  | { readonly kind: "started"; readonly record: ActivationRecord }
  /** The same idempotency key again: the activation it started, nothing sent, nothing counted. */
  | { readonly kind: "retried"; readonly record: ActivationRecord }
  | { readonly kind: "rate-limited"; readonly retryAfterMs: number };

/** One protocol step's write: the new state, conditional on the revision it was computed from. */
export interface ActivationChange {
  readonly id: string;
  readonly user: string;
  readonly expectedRev: number;
  readonly state: PublicActivationState;
  readonly secrets: string | undefined;
  readonly audit: readonly AuditEntry[];
  /**
   * At the binding step: the pending credential and its instance, written in the same transaction. The store
   * sets the credential's `replaces` to the active credential of the same user and slot, read there.
   */
  readonly enrol?: {
    readonly credential: StoredCredential;
    readonly audit: AuditEntry;
    readonly instance: InstanceRecord;
  };
}

export interface LoginChallenge {
  /** 32 hex digits from the CSPRNG: what the device signs. */
  readonly id: string;
  readonly credentialId: string;
  readonly expiresAt: number;
}

export interface ResetInput {
  readonly user: string;
  readonly reason: EndReason;
  readonly now: number;
}

export interface ResetResult {
  /** Activations ended, instances whose credential was revoked. */
  readonly activations: number;
  readonly instances: number;
}

/**
 * Where activations, instances, the rate rule's memory and login challenges live: beside the verifier's
 * credentials, in the same database, so that a step and the credential it enrols are written in one
 * transaction (src/stores/provisioning-memory.ts, -sqlite.ts, -postgres.ts; one conformance suite). Every
 * method is one atomic operation; a failure of the database is STORE_UNAVAILABLE.
 */
export interface ProvisioningStore {
  /**
   * A start, in one transaction: a retried idempotency key answers the activation it made; else the rate rule
   * (refused: nothing but its audit row written); the serial and instance allocated (known users); every
   * unfinished activation of the user's slot ended as superseded, and every pending credential of that slot
   * revoked; the grace period set; the new activation and its audit rows written.
   */
  start(input: StartInput): Promise<StartResult>;
  activation(id: string): Promise<ActivationRecord | undefined>;
  /** The step's write if the activation is still at `expectedRev` and not ended; false (nothing written) if not. */
  advance(change: ActivationChange): Promise<boolean>;
  instance(credentialId: string): Promise<InstanceStatus | undefined>;
  /** A user's instances, oldest first. */
  instances(user: string): Promise<InstanceStatus[]>;
  /** A user's activations, newest first. */
  activations(user: string, limit: number): Promise<ActivationRecord[]>;
  user(user: string): Promise<ProvisioningUserRecord | undefined>;
  /**
   * Ends the user's unfinished activations and revokes every instance's credential (reason recorded), and
   * forgets the rate rule's memory, in one transaction.
   */
  reset(input: ResetInput): Promise<ResetResult>;
  /** Stores a challenge; deletes expired ones and the oldest of the credential's beyond the bound. */
  addLoginChallenge(challenge: LoginChallenge, maxPerCredential: number, now: number): Promise<void>;
  /** Deletes the challenge; true if it was there, for this credential and unexpired. */
  takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean>;
  /** An audit row of the verifier's store (the codes' delivery). */
  record(entry: AuditEntry): Promise<void>;
}
