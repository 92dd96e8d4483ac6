import { CapkitError } from "@capkit/core";
import { clearFailures, countFailure, isLocked, type LockoutState } from "../lockout.js";
import type {
  AcceptDecision,
  AcceptOutcome,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  ChainHead,
  Challenge,
  CodeFunction,
  Counted,
  CredentialState,
  FailExpectation,
  FailOutcome,
  FailureSubject,
  ListOptions,
  LockoutRule,
  SealedState,
  StateStore,
  StoredCredential,
  UserState,
} from "../model.js";
import { type ReplayProbe, replayDigest } from "../replay.js";
import { checkOptions, integerOr } from "../requests.js";
import { activatedEntry, replacedEntry } from "./activation.js";
import { AuditRing } from "./audit-ring.js";
import { addBoundedChallenge } from "./bounded-challenges.js";
import { type MemoryInternals, STORE_INTERNALS, stampActor } from "./internals.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A credential's row; the request of its last accept is kept as it came, its digest made when read. */
type Row = Mutable<StoredCredential> & { probe?: ReplayProbe };

/** The bounds of a {@link MemoryStore}: what a long-running process keeps. */
export interface MemoryStoreOptions {
  /** Audit entries kept (the newest; default 10,000). */
  readonly auditLimit?: number;
  /**
   * Bytes of audit entries kept (their text; the oldest go first; default 16 MiB): ids and details come from
   * outside. The memory store keeps no hash chain: its trail lives and dies with the process, never at rest.
   */
  readonly auditMaxBytes?: number;
  /** Unknown ids and users whose failures are counted (the newest; default 100,000). */
  readonly unknownLimit?: number;
}

/**
 * State in this process's memory: tests, demos and single-process servers (its state goes with the process; a
 * cluster shares a SQLite or PostgreSQL store). Each operation runs to completion without
 * an await, so it is atomic in JavaScript's single thread. Rows are updated in place and copied out by the
 * readers (an accept allocates nothing but its audit entry). The audit trail keeps the newest `auditLimit`
 * entries (a long-running process must not grow without bound); persistent stores keep them until pruned.
 * Unknown ids and users are counted in a map bounded by `unknownLimit`, the oldest dropped first.
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ auditLimit: 100_000 });
 * const verifier = new Verifier({ store, keys: new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial()) });
 * ```
 */
export class MemoryStore implements StateStore {
  readonly #credentials = new Map<string, Row>();
  readonly #users = new Map<string, Mutable<UserState>>();
  readonly #challenges = new Map<string, Challenge>();
  readonly #unknown = new Map<string, LockoutState>();
  readonly #unknownLimit: number;
  readonly #audit: AuditRing;

  readonly #checkpoints: AuditCheckpoint[] = [];

  /** @throws `INPUT_INVALID` naming an option out of its range, or an unknown one */
  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(options, "the memory store's options", ["auditLimit", "auditMaxBytes", "unknownLimit"]);
    this.#audit = new AuditRing(
      integerOr(options.auditLimit, 10_000, 1, 10_000_000, "auditLimit"),
      integerOr(options.auditMaxBytes, 16 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER, "auditMaxBytes"),
    );
    this.#unknownLimit = integerOr(options.unknownLimit, 100_000, 1, 100_000_000, "unknownLimit");
  }

  #record(entry: AuditEntry, result = entry.result): void {
    this.#audit.push(entry, result);
  }

  /** {@inheritDoc StateStore.enroll} */
  async enroll(c: StoredCredential, audit: AuditEntry): Promise<void> {
    this.#insert(c, audit);
  }

  #insert(c: StoredCredential, audit: AuditEntry): void {
    if (this.#credentials.has(c.id))
      throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
    this.#credentials.set(c.id, { ...c });
    if (c.user !== undefined && !this.#users.has(c.user))
      this.#users.set(c.user, { id: c.user, failures: 0, locked: false });
    this.#record(audit);
  }

  /** {@inheritDoc StateStore.get} */
  async get(id: string): Promise<StoredCredential | undefined> {
    const c = this.#credentials.get(id);
    return c && this.#out(c);
  }

  /** {@inheritDoc StateStore.list} */
  async list(o: ListOptions): Promise<StoredCredential[]> {
    return [...this.#credentials.values()]
      .filter((c) => (o.after === undefined || c.id > o.after) && (o.user === undefined || c.user === o.user))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, o.limit)
      .map((c) => this.#out(c));
  }

  /** A copy, with the failure count and lock of its lockout subject and the digest of its last accept. */
  #out(row: Row): StoredCredential {
    const { probe, ...c } = row;
    const s = this.#subjectOf(row);
    const acceptedDigest = probe && replayDigest(c.id, c.last, probe);
    return { ...c, failures: s.failures, locked: s.locked, lockedAt: s.lockedAt, acceptedDigest };
  }

  /** The row a credential's failures are counted on: its user's, or its own. */
  #subjectOf(c: Mutable<StoredCredential>): LockoutState {
    return (c.user === undefined ? undefined : this.#users.get(c.user)) ?? c;
  }

  /** {@inheritDoc StateStore.addUser} */
  async addUser(id: string, audit: AuditEntry): Promise<boolean> {
    if (this.#users.has(id)) return false;
    this.#users.set(id, { id, failures: 0, locked: false });
    this.#record(audit);
    return true;
  }

  /** {@inheritDoc StateStore.user} */
  async user(id: string): Promise<UserState | undefined> {
    const u = this.#users.get(id);
    return u && { ...u };
  }

  /** {@inheritDoc StateStore.accept} */
  async accept(id: string, value: number, audit: AuditEntry, d: AcceptDecision): Promise<AcceptOutcome> {
    const c = this.#credentials.get(id);
    if (!c || c.version !== d.version) return "changed";
    const subject = this.#subjectOf(c);
    if (isLocked(subject, d.rule, audit.at) || c.state === "disabled")
      return this.#count(subject, d.rule, { ...audit, result: "rejected", detail: d.refusedDetail });
    if (c.last >= value) return "stale";
    c.last = value;
    c.acceptedAt = audit.at;
    c.probe = d.probe;
    c.acceptedRequest = d.probe.request;
    if (d.drift !== undefined) c.drift = d.drift;
    clearFailures(c);
    clearFailures(subject);
    this.#record(audit);
    this.#activate(c, audit);
    return "accepted";
  }

  /** The first accept of a pending or replacing credential (src/stores/activation.ts), in the accept's turn. */
  #activate(c: Mutable<StoredCredential>, audit: AuditEntry): void {
    if (c.state === "pending") {
      c.state = "active";
      this.#record(activatedEntry(audit));
    }
    const old = c.replaces;
    if (old === undefined) return;
    c.replaces = undefined;
    if (this.#delete(old)) this.#record(replacedEntry(audit, old));
  }

  /** {@inheritDoc StateStore.fail} */
  async fail(
    subject: FailureSubject,
    rule: LockoutRule,
    audit: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome> {
    const row =
      ("user" in subject ? this.#users.get(subject.user) : this.#credentials.get(subject.credential)) ??
      this.#unknown.get(unknownKey(subject));
    // The same steps whether the subject is known or not (its row, the expectation, the lock): the time of a
    // failure does not tell which (https://github.com/capkit/capkit/blob/main/bench/verify.ts measures it).
    if (expected) {
      const c = this.#credentials.get(expected.credential);
      const locked = row !== undefined && isLocked(row, rule, audit.at);
      if ("absent" in expected ? c : !c || c.version !== expected.version || c.last !== expected.last)
        return "changed";
      if ("locked" in expected && !locked) return "changed";
    }
    return this.#count(row ?? this.#unknownRow(subject), rule, audit);
  }

  /** {@inheritDoc StateStore.succeed} */
  async succeed(subject: { user: string }, rule: LockoutRule, audit: AuditEntry): Promise<Counted> {
    const row = this.#users.get(subject.user) ?? this.#unknown.get(unknownKey(subject));
    if (row && isLocked(row, rule, audit.at)) {
      this.#record(audit, "locked");
      return { failures: row.failures, locked: true };
    }
    if (row) clearFailures(row);
    this.#record(audit);
    return { failures: 0, locked: false };
  }

  #count(row: LockoutState, rule: LockoutRule, audit: AuditEntry): Counted {
    countFailure(row, rule, audit.at);
    this.#record(audit, row.locked ? "locked" : audit.result);
    return { failures: row.failures, locked: row.locked };
  }

  /**
   * An unknown subject's count; a new one beyond the bound drops the oldest (a Map keeps insertion order). A
   * count found is only read, as a known one's row is: the two cost the same.
   */
  #unknownRow(subject: FailureSubject): LockoutState {
    const key = unknownKey(subject);
    let row = this.#unknown.get(key);
    if (!row) {
      row = { failures: 0, locked: false };
      this.#unknown.set(key, row);
      if (this.#unknown.size > this.#unknownLimit) this.#unknown.delete(this.#unknown.keys().next().value!);
    }
    return row;
  }

  /** {@inheritDoc StateStore.unlock} */
  async unlock(subject: FailureSubject, audit: AuditEntry): Promise<boolean> {
    const row = "user" in subject ? this.#users.get(subject.user) : this.#credentials.get(subject.credential);
    if (!row) return false;
    clearFailures(row);
    this.#record(audit);
    return true;
  }

  /** {@inheritDoc StateStore.setState} */
  async setState(id: string, state: CredentialState, version: number, audit: AuditEntry): Promise<boolean> {
    const c = this.#credentials.get(id);
    if (!c) return false;
    c.state = state;
    c.version = version;
    this.#record(audit);
    return true;
  }

  /** {@inheritDoc StateStore.revoke} */
  async revoke(id: string, audit: AuditEntry): Promise<boolean> {
    if (!this.#delete(id)) return false;
    this.#record(audit);
    return true;
  }

  /** Deletes a credential, its challenges, and the mention of it in a replacement. */
  #delete(id: string): boolean {
    if (!this.#credentials.delete(id)) return false;
    for (const [k, ch] of this.#challenges) if (ch.credentialId === id) this.#challenges.delete(k);
    for (const c of this.#credentials.values()) if (c.replaces === id) c.replaces = undefined;
    return true;
  }

  /**
   * The provisioning tables' door (src/stores/internals.ts): synchronous writers, atomic in one turn.
   *
   * @internal
   */
  [STORE_INTERNALS](actor?: string): MemoryInternals {
    const a = stampActor(actor);
    return {
      credential: (id) => {
        const c = this.#credentials.get(id);
        return c && this.#out(c);
      },
      insertCredential: (c, audit) => this.#insert(c, a(audit)),
      revoke: (id, audit) => {
        if (!this.#delete(id)) return false;
        this.#record(a(audit));
        return true;
      },
      audit: (entry) => this.#record(a(entry)),
    };
  }

  /** {@inheritDoc StateStore.addChallenge} */
  async addChallenge(challenge: Challenge, audit: AuditEntry, maxPerCredential: number): Promise<void> {
    addBoundedChallenge(this.#challenges, challenge, maxPerCredential, audit.at);
    this.#record(audit);
  }

  /** {@inheritDoc StateStore.takeChallenge} */
  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const ch = this.#challenges.get(id);
    if (!ch || ch.credentialId !== credentialId || ch.function !== fn) return undefined;
    this.#challenges.delete(id); // taken even when expired: it is never of use again
    return ch.expiresAt > now ? ch : undefined;
  }

  /** {@inheritDoc StateStore.reseal} */
  async reseal(id: string, expected: SealedState, next: SealedState, audit: AuditEntry): Promise<boolean> {
    const c = this.#credentials.get(id);
    if (!c || c.sealed !== expected.sealed || JSON.stringify(c.params) !== JSON.stringify(expected.params))
      return false;
    c.sealed = next.sealed;
    c.params = next.params;
    this.#record(audit);
    return true;
  }

  /** {@inheritDoc StateStore.record} */
  async record(audit: AuditEntry): Promise<void> {
    this.#record(audit);
  }

  /** {@inheritDoc StateStore.audit} */
  async audit(id?: string, limit = 100): Promise<AuditEntry[]> {
    return this.#audit
      .entries()
      .filter((a) => id === undefined || a.credentialId === id || a.user === id)
      .slice(-limit)
      .map(({ seq: _, ...e }) => e);
  }

  /** {@inheritDoc StateStore.pruneAudit} */
  async pruneAudit(before: number): Promise<number> {
    return this.#audit.prune(before);
  }

  /** {@inheritDoc StateStore.auditTrail} */
  async auditTrail(q: AuditQuery): Promise<ChainedAuditEntry[]> {
    return this.#audit
      .entries()
      .filter(
        (e) =>
          e.seq > (q.after ?? 0) &&
          (q.credential === undefined || e.credentialId === q.credential) &&
          (q.user === undefined || e.user === q.user) &&
          (q.since === undefined || e.at >= q.since) &&
          (q.until === undefined || e.at < q.until),
      )
      .slice(0, q.limit)
      .map((e) => ({ ...e, chain: "", n: 0, hash: "" }));
  }

  /** {@inheritDoc StateStore.auditHeads} */
  async auditHeads(): Promise<{ observed: number; heads: ChainHead[] }> {
    return { observed: this.#audit.lastSeq, heads: [] };
  }

  /** {@inheritDoc StateStore.addCheckpoint} */
  async addCheckpoint(cp: AuditCheckpoint): Promise<boolean> {
    if (this.#checkpoints.some((c) => c.seq === cp.seq)) return false;
    this.#checkpoints.push(cp);
    return true;
  }

  /** {@inheritDoc StateStore.auditCheckpoints} */
  async auditCheckpoints(): Promise<AuditCheckpoint[]> {
    return [...this.#checkpoints];
  }

  /** {@inheritDoc StateStore.auditCut} */
  async auditCut(): Promise<number | undefined> {
    return undefined; // the ring holds its bounds itself
  }

  /** How many challenges are held: the bound under a flood of `issueChallenge`, watched by tests and operators. */
  async challengeCount(): Promise<number> {
    return this.#challenges.size;
  }

  /** How many unknown ids and users are counted: bounded by `unknownLimit` under a flood of made-up ids. */
  async unknownCount(): Promise<number> {
    return this.#unknown.size;
  }

  /** {@inheritDoc StateStore.close} */
  async close(): Promise<void> {}
}

/** An unknown id is its own key (no id holds a NUL); an unknown user's is prefixed with one. */
function unknownKey(subject: FailureSubject): string {
  return "user" in subject ? `\0${subject.user}` : subject.credential;
}
