import { CapkitError } from "@capkit/core";
import type {
  AcceptOutcome,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  ChainHead,
  Challenge,
  CodeFunction,
  CredentialState,
  FailExpectation,
  FailOutcome,
  FailureSubject,
  ListOptions,
  SealedState,
  StateStore,
  StoredCredential,
  UserState,
} from "../model.js";
import { AuditRing } from "./audit-ring.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * State in this process's memory: tests and single-process servers. Each operation runs to completion without
 * an await, so it is atomic in JavaScript's single thread. Rows are updated in place and copied out by the
 * readers (an accept allocates nothing but its audit entry). The audit trail keeps the newest `auditLimit`
 * entries (a long-running process must not grow without bound); persistent stores keep them until pruned.
 */
export class MemoryStore implements StateStore {
  readonly #credentials = new Map<string, Mutable<StoredCredential>>();
  readonly #users = new Map<string, Mutable<UserState>>();
  readonly #challenges = new Map<string, Challenge>();
  readonly #audit: AuditRing;

  readonly #checkpoints: AuditCheckpoint[] = [];

  /**
   * `auditLimit` entries at most (default 10,000) and `auditMaxBytes` of their text (default 16 MiB): the oldest
   * go first. The memory store keeps no hash chain: its trail lives and dies with the process, never at rest.
   */
  constructor(options: { auditLimit?: number; auditMaxBytes?: number } = {}) {
    this.#audit = new AuditRing(options.auditLimit ?? 10_000, options.auditMaxBytes ?? 16 * 1024 * 1024);
  }

  #record(entry: AuditEntry, result = entry.result): void {
    this.#audit.push(entry, result);
  }

  async enroll(c: StoredCredential, audit: AuditEntry): Promise<void> {
    if (this.#credentials.has(c.id))
      throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
    this.#credentials.set(c.id, { ...c });
    if (c.user !== undefined && !this.#users.has(c.user))
      this.#users.set(c.user, { id: c.user, failures: 0, locked: false });
    this.#record(audit);
  }

  async get(id: string): Promise<StoredCredential | undefined> {
    const c = this.#credentials.get(id);
    return c && { ...c };
  }

  async list(o: ListOptions): Promise<StoredCredential[]> {
    return [...this.#credentials.values()]
      .filter((c) => (o.after === undefined || c.id > o.after) && (o.user === undefined || c.user === o.user))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, o.limit)
      .map((c) => ({ ...c }));
  }

  async user(id: string): Promise<UserState | undefined> {
    const u = this.#users.get(id);
    return u && { ...u };
  }

  async accept(
    id: string,
    value: number,
    audit: AuditEntry,
    decidedOn: { version: number; drift?: number | undefined },
  ): Promise<AcceptOutcome> {
    const c = this.#credentials.get(id);
    if (!c || c.version !== decidedOn.version) return "changed";
    const u = c.user === undefined ? undefined : this.#users.get(c.user);
    if (c.locked || u?.locked) return "locked";
    if (c.state !== "active") return "disabled";
    if (c.last >= value) return "stale";
    c.last = value;
    c.failures = 0;
    if (decidedOn.drift !== undefined) c.drift = decidedOn.drift;
    if (u) u.failures = 0;
    this.#record(audit);
    return "accepted";
  }

  async fail(
    subject: FailureSubject,
    maxFailures: number,
    audit: AuditEntry,
    expected?: FailExpectation,
  ): Promise<FailOutcome> {
    if (expected) {
      const c = this.#credentials.get(expected.credential);
      if (!c || c.version !== expected.version || c.last !== expected.last) return "changed";
    }
    const row = "user" in subject ? this.#users.get(subject.user) : this.#credentials.get(subject.credential);
    if (!row) {
      if (expected) return "changed";
      throw new CapkitError("CREDENTIAL_UNKNOWN", "no such credential or user");
    }
    row.failures += 1;
    row.locked = row.locked || row.failures >= maxFailures;
    this.#record(audit, row.locked ? "locked" : audit.result);
    return { failures: row.failures, locked: row.locked };
  }

  async unlock(subject: FailureSubject, audit: AuditEntry): Promise<boolean> {
    const row = "user" in subject ? this.#users.get(subject.user) : this.#credentials.get(subject.credential);
    if (!row) return false;
    row.failures = 0;
    row.locked = false;
    this.#record(audit);
    return true;
  }

  async setState(id: string, state: CredentialState, version: number, audit: AuditEntry): Promise<boolean> {
    const c = this.#credentials.get(id);
    if (!c) return false;
    c.state = state;
    c.version = version;
    this.#record(audit);
    return true;
  }

  async revoke(id: string, audit: AuditEntry): Promise<boolean> {
    if (!this.#credentials.delete(id)) return false;
    for (const [k, ch] of this.#challenges) if (ch.credentialId === id) this.#challenges.delete(k);
    for (const c of this.#credentials.values()) if (c.replaces === id) c.replaces = undefined;
    this.#record(audit);
    return true;
  }

  async addChallenge(challenge: Challenge, audit: AuditEntry, maxPerCredential: number): Promise<void> {
    const now = audit.at;
    const mine: Challenge[] = [];
    for (const [k, ch] of this.#challenges) {
      if (ch.expiresAt <= now) this.#challenges.delete(k);
      else if (ch.credentialId === challenge.credentialId) mine.push(ch);
    }
    mine.sort((a, b) => a.expiresAt - b.expiresAt);
    for (const ch of mine.slice(0, Math.max(0, mine.length - maxPerCredential + 1)))
      this.#challenges.delete(ch.id);
    this.#challenges.set(challenge.id, challenge);
    this.#record(audit);
  }

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

  async reseal(id: string, expected: SealedState, next: SealedState, audit: AuditEntry): Promise<boolean> {
    const c = this.#credentials.get(id);
    if (!c || c.sealed !== expected.sealed || JSON.stringify(c.params) !== JSON.stringify(expected.params))
      return false;
    c.sealed = next.sealed;
    c.params = next.params;
    this.#record(audit);
    return true;
  }

  async record(audit: AuditEntry): Promise<void> {
    this.#record(audit);
  }

  async audit(id?: string, limit = 100): Promise<AuditEntry[]> {
    return this.#audit
      .entries()
      .filter((a) => id === undefined || a.credentialId === id || a.user === id)
      .slice(-limit)
      .map(({ seq: _, ...e }) => e);
  }

  async pruneAudit(before: number): Promise<number> {
    return this.#audit.prune(before);
  }

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

  async auditHeads(): Promise<{ observed: number; heads: ChainHead[] }> {
    return { observed: this.#audit.lastSeq, heads: [] };
  }

  async addCheckpoint(cp: AuditCheckpoint): Promise<boolean> {
    if (this.#checkpoints.some((c) => c.seq === cp.seq)) return false;
    this.#checkpoints.push(cp);
    return true;
  }

  async auditCheckpoints(): Promise<AuditCheckpoint[]> {
    return [...this.#checkpoints];
  }

  async auditCut(): Promise<number | undefined> {
    return undefined; // the ring holds its bounds itself
  }

  /** How many challenges are held (tests of the bound under a flood). */
  async challengeCount(): Promise<number> {
    return this.#challenges.size;
  }

  async close(): Promise<void> {}
}
