import type { CapIssuerRecord } from "@capkit/emv-cap";
import type { OathAlgorithm } from "@capkit/oath";
import type { LockoutRule } from "./lockout.js";
import type { ReplayProbe } from "./replay.js";

export type { LockoutRule } from "./lockout.js";

/**
 * A CAP issuer record as stored: the PAN sealed by the KeyProvider (PCI DSS Req. 3.5), a simulated card's test
 * IMK sealed too (in `StoredCredential.sealed`) and its place in the record only saying so — no key material
 * and no card number is ever in a store in clear. A PAN in clear is only in databases written before PANs were
 * sealed; `Verifier.rekey` seals it.
 */
export type StoredCapRecord = Omit<CapIssuerRecord, "key" | "pan"> & {
  readonly pan: { readonly sealed: string } | string;
  readonly key:
    | Extract<CapIssuerRecord["key"], { kind: "reference" }>
    | { readonly kind: "sealed-test-imk"; readonly derivation: "A" | "B" };
};

/**
 * A credential's parameters by kind, fixed at enrolment: a CAP card's issuer record and ATC window; an OATH
 * token's algorithm, digits and windows (RFC 4226 §7.4 look-ahead; RFC 6238 §5.2, steps before and after); an
 * OCRA suite (RFC 6287 §6) and its windows. With them a credential keeps `last`, the last accepted counter
 * value, which only grows: what makes codes one-time
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6).
 */
export type CredentialParams =
  | { readonly kind: "cap"; readonly record: StoredCapRecord; readonly atcWindow: number }
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
      /** Centre the window on the token's recorded drift (a token whose clock runs fast or slow). */
      readonly followDrift?: boolean;
    }
  | {
      readonly kind: "ocra";
      readonly suite: string;
      /**
       * The windows, frozen at enrolment from the policy as HOTP's and TOTP's are: counters looked ahead (counter
       * suites), time steps before and after the current one (time suites). Absent on credentials enrolled before
       * 0.3: the policy's look-ahead and ±1 step, as they were judged then.
       */
      readonly lookAhead?: number;
      readonly past?: number;
      readonly future?: number;
    };

/** The four kinds of credential: `cap` (a Sésame/CAP card), `hotp`, `totp` and `ocra` (OATH tokens). */
export type CredentialKind = CredentialParams["kind"];

/**
 * Disabled credentials answer "rejected" to every code until enabled again; revoked ones are gone. A pending
 * credential (an in-app token just bound by the Provisioner, src/provisioning/) verifies like an active one, and
 * its first accepted code makes it active — in the same write that revokes the credential it replaces.
 */
export type CredentialState = "active" | "disabled" | "pending";

/**
 * A credential as a {@link StateStore} keeps it: its definition (kind, parameters, sealed key), its one-time-use
 * counter `last`, the count and lock of its lockout subject, its state, user, replacement and last accept, and
 * the version every decision on it is made against.
 */
export interface StoredCredential {
  /** The credential's id (1–128 letters, digits or `. @ : + - _`), chosen by the application at enrolment. */
  readonly id: string;
  /** Its kind and parameters, fixed at enrolment. */
  readonly params: CredentialParams;
  /** Key material sealed by the KeyProvider (OATH secret, a simulated card's test IMK); never in clear. */
  readonly sealed: string | undefined;
  /**
   * The last accepted counter value — HOTP counter, TOTP time step or CAP ATC; −1 before the first. Only ever
   * grows: a code is accepted only for a value above it (one-time use, RFC 4226 §7.2).
   */
  readonly last: number;
  /**
   * The failure count and lock of the credential's lockout subject: its user's for a credential that belongs
   * to one, its own otherwise.
   */
  readonly failures: number;
  /** Whether its lockout subject is locked (see `failures`). */
  readonly locked: boolean;
  /** When the subject locked (a timed release counts from it). */
  readonly lockedAt: number | undefined;
  /** When it was enrolled (ms since the epoch). */
  readonly createdAt: number;
  /** Active, disabled or pending (an in-app token bound but not yet used). */
  readonly state: CredentialState;
  /** The user this credential belongs to: failures and lockout are then counted per user. */
  readonly user: string | undefined;
  /** TOTP: the offset in steps of the last accepted code from the server's clock (+ = token ahead). */
  readonly drift: number | undefined;
  /** A replacement card: the credential it replaces, revoked when this one is first accepted. */
  readonly replaces: string | undefined;
  /**
   * The last accepted code (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Replays"):
   * when it was accepted, a digest of the request that carried it (credential, counter, function, digits,
   * challenge, amount, currency, TDS) and the caller's `requestId`, if any. A request with the same digest
   * soon after is a replay, answered without counting.
   */
  readonly acceptedAt: number | undefined;
  /** The digest of the last accepted request (see `acceptedAt`); undefined before the first accept. */
  readonly acceptedDigest: string | undefined;
  /** The `requestId` the last accepted request carried, if any (see `acceptedAt`). */
  readonly acceptedRequest: string | undefined;
  /**
   * Changes (to a fresh random value) with every lifecycle operation — enrolment, disable, enable — and never on
   * an accept or a failure. A verifier caches a credential's definition with its version; a decision carries
   * the version it was made on, and the store refuses it as "changed" when the row has moved on.
   */
  readonly version: number;
}

/** What a key rotation rewrites in a credential. */
export interface SealedState {
  /** The sealed key material (`StoredCredential.sealed`). */
  readonly sealed: string | undefined;
  /** The parameters, which carry a CAP card's sealed PAN. */
  readonly params: CredentialParams;
}

/** A user's shared failure count and lockout (`verify({ user, code })` and every credential of the user). */
export interface UserState {
  /** The user's id, as the application names it. */
  readonly id: string;
  /** Consecutive failures since the last success or unlock. */
  readonly failures: number;
  /** Locked: every code and factor of the user is refused until an unlock (or a timed release). */
  readonly locked: boolean;
  /** When the user locked (ms since the epoch); undefined when not locked. */
  readonly lockedAt?: number | undefined;
}

/**
 * Whose failure count a failure goes to (the lockout subject): the credential's own, or its user's. A subject
 * nobody enrolled — an unknown id or user — is counted and locked the same way, in a bounded table of unknown
 * subjects (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Unknown ids and users").
 */
export type FailureSubject = { readonly credential: string } | { readonly user: string };

/** A lockout subject's count after a failure was counted (or, for a success, after it was cleared). */
export interface Counted {
  /** Consecutive failures of the subject now. */
  readonly failures: number;
  /** Whether the subject is locked now. */
  readonly locked: boolean;
}

/** The functions a code can answer; a challenge is issued for exactly one of them. */
export type CodeFunction = "identify" | "respond" | "sign" | "ocra";

/**
 * A server-issued challenge (`Verifier.issueChallenge`), as a store keeps it until the first attempt takes it:
 * single use, for one credential and one function, expiring.
 */
export interface Challenge {
  /** 16 CSPRNG bytes in hex: what the caller sends back as `challengeId`. */
  readonly id: string;
  /** The credential it was issued for. */
  readonly credentialId: string;
  /** The one function it may be answered with. */
  readonly function: CodeFunction;
  /** The digits the user types into the reader or token (never 0, first digit non-zero). */
  readonly value: string;
  /** When it expires (ms since the epoch). */
  readonly expiresAt: number;
}

/** What an audit entry records: an enrolment, a decision, an administrator's act, an approval's step… */
export type AuditAction =
  | "enroll"
  | "user"
  | "factor"
  | "verify"
  | "resync"
  | "unlock"
  | "challenge"
  | "disable"
  | "enable"
  | "revoke"
  | "rekey"
  // A pending credential's first accepted code (the store writes it with the accept).
  | "activate"
  // A step of an in-app token's activation (src/provisioning/): the result names the step.
  | "activation"
  // @capkit/verify/approvals: operations, their decisions, devices registered for approvals, security events,
  // grants (src/approvals/, src/events/).
  | "operation"
  | "approve"
  | "decline"
  | "device"
  | "event"
  | "grant";

/**
 * One line of the audit trail: every decision and every administrator's act. It never holds a secret, a PIN, a
 * code or a card number.
 */
export interface AuditEntry {
  /** When (ms since the epoch). */
  readonly at: number;
  /** The credential the entry is about ("" for a user-level decision with no credential matched). */
  readonly credentialId: string;
  /** What happened. */
  readonly action: AuditAction;
  /** Its outcome: `accepted`, `rejected`, `locked`, `unknown` (an id nobody holds), `replayed`, `ok`… */
  readonly result: string;
  /** The counter value a decision was about (HOTP counter, TOTP step, CAP ATC). */
  readonly counter?: number | undefined;
  /** Why, for whoever reads the trail: the function and why a code failed (never told to the caller). */
  readonly detail?: string | undefined;
  /** The user, for credentials that belong to one. */
  readonly user?: string | undefined;
  /** Who acted: the administrator or service named by the caller (`VerifierOptions.actor`, an operation's `actor`). */
  readonly actor?: string | undefined;
}

/**
 * An audit entry as a persistent store keeps it: in a hash chain (src/audit/chain.ts) — the chain of the row the
 * statement writing it already locks (the credential's, the user's, or one of a few shared chains for entries
 * about no row), its place `n` in it, and `hash` = SHA-256 of the previous entry's hash and this entry's text.
 */
export interface ChainedAuditEntry extends AuditEntry {
  /** The store's order of entries (ascending, gaps allowed). */
  readonly seq: number;
  /** The chain it is in (`user:<id>`, `credential:<id>`, `shared:<n>`); "" for an entry in none (memory store). */
  readonly chain: string;
  /** Its place in the chain, from 1. */
  readonly n: number;
  /** Hex. */
  readonly hash: string;
}

/** A chain's last entry as a checkpoint records it. */
export interface ChainHead {
  /** The chain's name. */
  readonly chain: string;
  /** The place of its last entry. */
  readonly n: number;
  /** Hex. */
  readonly hash: string;
}

/**
 * A signed statement of chain heads (src/audit/checkpoint.ts): it covers the entries with `from < seq ≤ to` —
 * every chain they touch, at the head it had when the checkpoint was taken — and names the previous checkpoint,
 * so checkpoints form a chain of their own. Verifiable offline with the audit public key.
 */
export interface AuditCheckpoint {
  /** Its place among checkpoints, from 1. */
  readonly seq: number;
  /** When it was signed (ms since the epoch). */
  readonly at: number;
  /** It covers the entries with `from < seq ≤ to`. */
  readonly from: number;
  /** See `from`. */
  readonly to: number;
  /** The highest entry seq when it was taken: the next checkpoint covers up to it (entries then in flight have settled). */
  readonly observed: number;
  /** Entries before this time were pruned (audit retention); absent when nothing was. */
  readonly prunedBefore?: number | undefined;
  /** The heads of the chains its entries touch, as they were when it was taken. */
  readonly heads: readonly ChainHead[];
  /** The previous checkpoint's hash (hex), or 64 zeros for the first. */
  readonly prev: string;
  /** The audit signing key (`KeyProvider.auditPublicKeys`). */
  readonly keyId: string;
  /** Ed25519 over the checkpoint's text (base64). */
  readonly signature: string;
}

/**
 * The result of a conditional accept: done; refused and counted as a failure (the lockout subject is locked or
 * the credential disabled: the right code of a locked subject costs the same as a wrong one and answers the
 * same); or refused without counting: "stale" (a counter at or before `last`: another server accepted it) or
 * "changed" (the credential is not at the version the decision was made on — a lifecycle operation elsewhere,
 * or revoked): decide again on a fresh read.
 */
export type AcceptOutcome = "accepted" | "stale" | "changed" | Counted;

/** What an accept was decided on, and what it records. */
export interface AcceptDecision {
  /** The credential's version the code was judged on (`StoredCredential.version`). */
  readonly version: number;
  /** The credential's user at that version (its lockout subject; a store may rely on it). */
  readonly user: string | undefined;
  /** TOTP: the token's drift at this code. */
  readonly drift?: number | undefined;
  /**
   * The request, for replay detection: a store keeps its digest (`replayDigest`) and `requestId` as
   * StoredCredential.acceptedDigest and acceptedRequest.
   */
  readonly probe: ReplayProbe;
  /** Counts the failure with this rule when the subject is locked or the credential disabled. */
  readonly rule: LockoutRule;
  /** The audit detail of a refusal (the accept's own is in its audit entry). */
  readonly refusedDetail: string;
  /**
   * The credential was pending, or replaces another, when judged: this accept also activates it and revokes the
   * one it replaces, in the same write (src/stores/activation.ts). A store that reads the row anyway may ignore it.
   */
  readonly activates?: boolean;
}

/**
 * What a failure was decided on: a code is wrong only against the credential's `last` and definition at
 * `version`. If either has moved on (another process accepted a code, a lifecycle operation), the failure is
 * not counted and fail() answers "changed" (the verifier decides again on a fresh read). `absent`: the code
 * was judged for an id nobody holds; if it has been enrolled since, "changed".
 */
export type FailExpectation =
  | {
      readonly credential: string;
      readonly version: number;
      readonly last: number;
      /** Judged as locked (its code not accepted, right or wrong): counted only if still locked now. */
      readonly locked?: true;
    }
  | { readonly credential: string; readonly absent: true };

/** The result of a conditional failure: counted, or "changed" (nothing counted: decide again on a fresh read). */
export type FailOutcome = Counted | "changed";

/** What `auditTrail` reads: a page after `after` (a seq), by credential or user, by time (`since ≤ at < until`). */
export interface AuditQuery {
  /** Entries after this seq (the last one of the previous page); default from the start. */
  readonly after?: number;
  /** At most this many entries. */
  readonly limit: number;
  /** Only the entries about this credential. */
  readonly credential?: string;
  /** Only the entries about this user. */
  readonly user?: string;
  /** Only entries at or after this time (ms since the epoch). */
  readonly since?: number;
  /** Only entries before this time (ms since the epoch). */
  readonly until?: number;
}

/** What `StateStore.list` reads: a page of credentials in id order. */
export interface ListOptions {
  /** Keyset paging: ids after this one, in id order. */
  readonly after?: string;
  /** At most this many credentials. */
  readonly limit: number;
  /** Only the credentials of this user. */
  readonly user?: string;
}

/**
 * Where verification state lives. Each decision is one atomic operation with its audit row; nothing reads a
 * value, decides, then writes it back (check-then-write lets two concurrent requests both pass). Any failure of
 * the store itself is a `STORE_UNAVAILABLE` error, and nothing is accepted.
 */
export interface StateStore {
  /** Adds a credential (and its user, if new); CREDENTIAL_EXISTS when the id is taken. */
  enroll(credential: StoredCredential, audit: AuditEntry): Promise<void>;
  /** The credential, with its lockout subject's count and lock; undefined when nobody holds the id. */
  get(id: string): Promise<StoredCredential | undefined>;
  /** A page of credentials in id order (keyset paging), of one user or all. */
  list(options: ListOptions): Promise<StoredCredential[]>;
  /** A user's count and lock; undefined for a user never registered (nor enrolled with a credential). */
  user(id: string): Promise<UserState | undefined>;
  /** Registers a user with no credential yet (a customer with a password only); false if known already. */
  addUser(id: string, audit: AuditEntry): Promise<boolean>;
  /**
   * Sets `last = value` (the TOTP drift, the replay digest) and clears the failure count of the lockout
   * subject, only if the credential is at `version`, `last < value`, it is active and its subject is not
   * locked. Decided under the subject's row lock, so that no failure of the same subject is judged beside it:
   * a locked subject or a disabled credential counts the attempt as a failure instead.
   */
  accept(id: string, value: number, audit: AuditEntry, decidedOn: AcceptDecision): Promise<AcceptOutcome>;
  /**
   * Counts a failure; locks when the count reaches the rule's maximum. Returns the new count, or "changed"
   * when `expected` no longer holds (nothing counted). A subject with no row — an id or user nobody enrolled —
   * is counted in the bounded table of unknown subjects, exactly like a known one.
   */
  fail(
    subject: FailureSubject,
    rule: LockoutRule,
    audit: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome>;
  /**
   * A success on a user's factor the application checked itself: clears the count unless the user is locked
   * (then nothing changes). Unknown users are answered from the table of unknown subjects.
   */
  succeed(subject: { readonly user: string }, rule: LockoutRule, audit: AuditEntry): Promise<Counted>;
  /** Lifts a subject's lock and clears its count, with its audit row; false when the subject has no row. */
  unlock(subject: FailureSubject, audit: AuditEntry): Promise<boolean>;
  /** Sets the state and the credential's new version. */
  setState(id: string, state: CredentialState, version: number, audit: AuditEntry): Promise<boolean>;
  /** Deletes the credential and its challenges (a replacement of it no longer names it); audit stays. */
  revoke(id: string, audit: AuditEntry): Promise<boolean>;
  /**
   * Stores a challenge; deletes expired ones and the oldest of this credential's beyond `maxPerCredential`, so
   * a flood of issued challenges keeps the table bounded.
   */
  addChallenge(challenge: Challenge, audit: AuditEntry, maxPerCredential: number): Promise<void>;
  /** Deletes the challenge and returns it, only if unexpired and for this credential and function. */
  takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined>;
  /**
   * Key rotation: replaces a credential's sealed key material and parameters (its sealed PAN) only if both are
   * still `expected` (compare-and-set: a lifecycle operation in between wins, and the caller reads again). The
   * version is kept — the keys themselves are the same, so the engines verifiers cached stay valid.
   */
  reseal(id: string, expected: SealedState, next: SealedState, audit: AuditEntry): Promise<boolean>;
  /** An audit row on its own (attempts on unknown ids). */
  record(audit: AuditEntry): Promise<void>;
  /** The newest `limit` entries (oldest first) about a credential or user id, or about anything. */
  audit(credentialId?: string, limit?: number): Promise<AuditEntry[]>;
  /** Entries in store order after `q.after`, filtered; chained (`chain`, `n`, `hash`) where the store keeps chains. */
  auditTrail(q: AuditQuery): Promise<ChainedAuditEntry[]>;
  /** The current heads of the chains with entries in `from < seq ≤ to`, and the highest seq now. */
  auditHeads(from: number, to: number): Promise<{ observed: number; heads: ChainHead[] }>;
  /** Adds a checkpoint unless one with its seq exists (two verifiers checkpointing at once: one wins). */
  addCheckpoint(cp: AuditCheckpoint): Promise<boolean>;
  /** Every checkpoint kept, in seq order. */
  auditCheckpoints(): Promise<AuditCheckpoint[]>;
  /** The time before which entries must go for the trail to hold at most `maxRows` rows and `maxBytes` bytes. */
  auditCut(maxRows: number, maxBytes: number): Promise<number | undefined>;
  /**
   * Audit retention: deletes entries older than `before` (ms since the epoch) but each chain's newest one before
   * it (what the rest of its chain is verified from), and checkpoints older than the newest one before it;
   * returns how many entries went.
   */
  pruneAudit(before: number): Promise<number>;
  /** Releases the store's connections; it is not used again. */
  close(): Promise<void>;
}
