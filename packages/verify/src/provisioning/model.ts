import type { ActivationServerState } from "@capkit/provision";
import type { AuditEntry, StoredCredential } from "../model.js";
import type { RateRule } from "./rules.js";

// What the provisioning stores keep (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11): activations, device instances, what the
// Provisioner remembers per identifiant, login challenges. Times are milliseconds since the epoch unless named
// otherwise (the protocol's own state counts Unix seconds, as `capkit-activation/1` does).

/**
 * An activation's protocol state as stored in clear: everything but its secrets, which are sealed apart
 * ({@link ActivationRecord.secrets}). It is what went over the wire, and the revision a step is computed from.
 */
export type PublicActivationState = Omit<ActivationServerState, "secrets">;

/**
 * Why the Provisioner ended an activation or an instance from outside the protocol: a short code such as
 * `"superseded"` (a newer start of the same slot) or the reason given to `Provisioner.reset` (default `"reset"`).
 */
export type EndReason = string;

/** One activation as stored (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11). Times in milliseconds since the epoch. */
export interface ActivationRecord {
  /** The protocol's activation id (32 hex digits). */
  readonly id: string;
  /** The identifiant that started it (the verifier's user id), known to the bank's directory or not. */
  readonly user: string;
  /** The device slot it fills (1 … maxDevices): its credential replaces the slot's active one. */
  readonly slot: number;
  /** The credential it enrols, `SERIAL.N`. */
  readonly credentialId: string;
  /** False for an identifiant the bank's directory does not know: no code was sent, it can never finish. */
  readonly known: boolean;
  /** The idempotency key of the start that made it. */
  readonly startKey: string | undefined;
  /** When it was started. */
  readonly createdAt: number;
  /** Its protocol state without the secrets (phase, revision, tries, the last reply…). */
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
  /** Its credential in the verifier's store, `SERIAL.N`. */
  readonly credentialId: string;
  /** The user it belongs to. */
  readonly user: string;
  /** The user's in-app serial (one per user, until its instance numbers run out). */
  readonly serial: string;
  /** The instance number of that serial, 1 to 99 (OneSpan's sequence numbers). */
  readonly instance: number;
  /** The device slot it fills. */
  readonly slot: number;
  /** The activation that bound it. */
  readonly activationId: string;
  /** The device's P-256 public key (SEC1 uncompressed, base64): its logins are signed with it. */
  readonly devicePublicKey: string;
  /** The app version it was activated with (the floor applies to it). */
  readonly appVersion: string;
  /** When the activation bound it (the a2 step). */
  readonly createdAt: number;
  /** Ended by the Provisioner (superseded, reset, …); a credential revoked otherwise leaves this unset. */
  readonly ended: EndReason | undefined;
  /** When the Provisioner ended it; undefined while it has not. */
  readonly endedAt: number | undefined;
}

/** An instance with its credential's state in the verifier's store: "ended" when the credential is gone. */
export interface InstanceStatus extends InstanceRecord {
  /**
   * Its credential's state: `pending` until its first accepted code, `active`, `disabled` by the bank, or
   * `ended` once the credential is revoked or deleted.
   */
  readonly state: "pending" | "active" | "disabled" | "ended";
}

/** What the Provisioner keeps per identifiant (known or not). */
export interface ProvisioningUserRecord {
  /** The identifiant. */
  readonly user: string;
  /** Its in-app tokens' serial; undefined for an identifiant nobody holds. */
  readonly serial: string | undefined;
  /** The next instance number of that serial. */
  readonly nextInstance: number;
  /** When its last starts were (ms), the rate rule's memory. */
  readonly sends: readonly number[];
  /** The grace period (ms), set at a start when the policy has one: from… */
  readonly graceFrom: number | undefined;
  /** …until. */
  readonly graceUntil: number | undefined;
}

/** What `ProvisioningStore.start` is given: everything the start's one transaction needs. */
export interface StartInput {
  /** The identifiant (checked by the Provisioner). */
  readonly user: string;
  /** The device slot (1 … maxDevices). */
  readonly slot: number;
  /** Whether the bank's directory knows the identifiant (an unknown one takes the same path, and gets no code). */
  readonly known: boolean;
  /** The time of the start. */
  readonly now: number;
  /** The start's idempotency key, if the app sent one. */
  readonly startKey: string | undefined;
  /** The rate rule, applied inside the transaction so that it holds under any concurrency. */
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

/** What a start did: started an activation, answered a retried one, or was refused by the rate rule. */
export type StartResult =
  /** A new activation, written with its audit rows. */
  | { readonly kind: "started"; readonly record: ActivationRecord }
  /** The same idempotency key again: the activation it started, nothing sent, nothing counted. */
  | { readonly kind: "retried"; readonly record: ActivationRecord }
  /** The rate rule said no: nothing written but the refusal's audit row; try again after this many ms. */
  | { readonly kind: "rate-limited"; readonly retryAfterMs: number };

/** One protocol step's write: the new state, conditional on the revision it was computed from. */
export interface ActivationChange {
  /** The activation's id. */
  readonly id: string;
  /** Its user: the stores serialise a user's provisioning writes (PostgreSQL locks the user's row). */
  readonly user: string;
  /** The revision the step was computed from: the write happens only if the stored state is still at it. */
  readonly expectedRev: number;
  /** The new protocol state, without its secrets. */
  readonly state: PublicActivationState;
  /** The new secrets, sealed; undefined once none is left (the code dead, the run finished). */
  readonly secrets: string | undefined;
  /** The step's audit rows. */
  readonly audit: readonly AuditEntry[];
  /**
   * At the binding step: the pending credential and its instance, written in the same transaction. The store
   * sets the credential's `replaces` to the active credential of the same user and slot, read there.
   */
  readonly enrol?: {
    /** The pending TOTP credential, sealed (the verifier's `enroll` prepared it). */
    readonly credential: StoredCredential;
    /** Its "enroll" audit row. */
    readonly audit: AuditEntry;
    /** The device instance bound to it. */
    readonly instance: InstanceRecord;
  };
}

/** A login challenge as stored: single use, for one instance, until it expires. */
export interface LoginChallenge {
  /** 32 hex digits from the CSPRNG: what the device signs. */
  readonly id: string;
  /** The instance it is for, `SERIAL.N`. */
  readonly credentialId: string;
  /** When it stops being accepted. */
  readonly expiresAt: number;
}

/** What `ProvisioningStore.reset` is given. */
export interface ResetInput {
  /** Whose activations and instances end. */
  readonly user: string;
  /** Why, recorded on each (and in the audit rows). */
  readonly reason: EndReason;
  /** The time of the reset. */
  readonly now: number;
}

/** What a reset ended. */
export interface ResetResult {
  /** Unfinished activations ended. */
  readonly activations: number;
  /** Instances whose credential was revoked. */
  readonly instances: number;
}

/** The methods of a {@link ProvisioningStore}: what the Provisioner checks its `store` option for. */
export const PROVISIONING_STORE_METHODS = [
  "start",
  "activation",
  "advance",
  "instance",
  "instances",
  "activations",
  "user",
  "reset",
  "addLoginChallenge",
  "takeLoginChallenge",
  "record",
] as const satisfies readonly (keyof ProvisioningStore)[];

/**
 * Where activations, instances, the rate rule's memory and login challenges live: beside the verifier's
 * credentials, in the same database, so that a step and the credential it enrols are written in one
 * transaction (src/stores/provisioning-memory.ts, -sqlite.ts, -postgres.ts; one conformance suite,
 * https://github.com/capkit/capkit/blob/main/packages/verify/test/provisioning-conformance.ts). Every method is one atomic operation; a failure of the database is
 * STORE_UNAVAILABLE and writes nothing.
 */
export interface ProvisioningStore {
  /**
   * A start, in one transaction: a retried idempotency key answers the activation it made; else the rate rule
   * (refused: nothing but its audit row written); the serial and instance allocated (known users); every
   * unfinished activation of the user's slot ended as superseded, and every pending credential of that slot
   * revoked; the grace period set; the new activation and its audit rows written.
   *
   * @param input - the start, with `build` to make the activation once its serial and instance are known
   * @returns `started`, `retried` (the same idempotency key) or `rate-limited`
   */
  start(input: StartInput): Promise<StartResult>;
  /**
   * One activation by its id.
   *
   * @param id - the activation id (32 hex digits)
   * @returns the activation, or undefined if there is none (never was, or purged)
   */
  activation(id: string): Promise<ActivationRecord | undefined>;
  /**
   * The step's write, if the activation is still at `expectedRev` and not ended: its state, secrets and audit
   * rows, and at the binding step the pending credential and its instance — in one transaction.
   *
   * @param change - the new state and what goes with it
   * @returns true if written; false (nothing written) if another write came first or the activation ended
   */
  advance(change: ActivationChange): Promise<boolean>;
  /**
   * One instance, with its credential's state.
   *
   * @param credentialId - the instance's credential, `SERIAL.N`
   * @returns the instance, or undefined if no activation bound one under that id
   */
  instance(credentialId: string): Promise<InstanceStatus | undefined>;
  /**
   * A user's instances, oldest first.
   *
   * @param user - the identifiant
   */
  instances(user: string): Promise<InstanceStatus[]>;
  /**
   * A user's activations, newest first.
   *
   * @param user - the identifiant
   * @param limit - the most to answer
   */
  activations(user: string, limit: number): Promise<ActivationRecord[]>;
  /**
   * What the Provisioner keeps for an identifiant.
   *
   * @param user - the identifiant
   * @returns its record, or undefined if it never started an activation (or its rows were purged)
   */
  user(user: string): Promise<ProvisioningUserRecord | undefined>;
  /**
   * Ends the user's unfinished activations and revokes every instance's credential (reason recorded), and
   * forgets the rate rule's memory, in one transaction.
   *
   * @param input - whose, why and when
   * @returns how many activations and instances it ended
   */
  reset(input: ResetInput): Promise<ResetResult>;
  /**
   * Stores a challenge; deletes expired ones and the oldest of the credential's beyond the bound, so a flood of
   * challenges stays bounded.
   *
   * @param challenge - the new challenge
   * @param maxPerCredential - how many of the credential's challenges may be outstanding
   * @param now - the time, for the expired ones
   */
  addLoginChallenge(challenge: LoginChallenge, maxPerCredential: number, now: number): Promise<void>;
  /**
   * Deletes the challenge, atomically: a challenge is taken once.
   *
   * @param id - the challenge
   * @param credentialId - the instance the login is for
   * @param now - the time
   * @returns true if it was there, for this credential and unexpired
   */
  takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean>;
  /**
   * Writes one audit row to the verifier's trail (the codes' delivery, a login that must reactivate).
   *
   * @param entry - the row
   */
  record(entry: AuditEntry): Promise<void>;
}
