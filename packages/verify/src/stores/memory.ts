import { CapkitError } from "@capkit/core";
import type {
  AcceptOutcome,
  AuditEntry,
  Challenge,
  CodeFunction,
  StateStore,
  StoredCredential,
} from "../model.js";

/**
 * State in this process's memory: tests and single-process servers. Each operation runs to completion without
 * an await, so it is atomic in JavaScript's single thread. The audit trail keeps the newest `auditLimit`
 * entries (a long-running process must not grow without bound); persistent stores keep them all.
 */
export class MemoryStore implements StateStore {
  readonly #credentials = new Map<string, StoredCredential>();
  readonly #challenges = new Map<string, Challenge & { used: boolean }>();
  readonly #audit: AuditEntry[] = [];
  readonly #auditLimit: number;

  constructor(options: { auditLimit?: number } = {}) {
    this.#auditLimit = options.auditLimit ?? 10_000;
  }

  #record(entry: AuditEntry): void {
    this.#audit.push(entry);
    if (this.#audit.length > this.#auditLimit * 2)
      this.#audit.splice(0, this.#audit.length - this.#auditLimit);
  }

  async enroll(c: StoredCredential, audit: AuditEntry): Promise<void> {
    if (this.#credentials.has(c.id))
      throw new CapkitError("CREDENTIAL_EXISTS", `credential ${c.id} already exists`);
    this.#credentials.set(c.id, c);
    this.#record(audit);
  }

  async get(id: string): Promise<StoredCredential | undefined> {
    return this.#credentials.get(id);
  }

  async accept(id: string, value: number, audit: AuditEntry): Promise<AcceptOutcome> {
    const c = this.#credentials.get(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    if (c.locked) return "locked";
    if (c.last >= value) return "stale";
    this.#credentials.set(id, { ...c, last: value, failures: 0 });
    this.#record(audit);
    return "accepted";
  }

  async fail(
    id: string,
    maxFailures: number,
    audit: AuditEntry,
  ): Promise<{ failures: number; locked: boolean }> {
    const c = this.#credentials.get(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    const failures = c.failures + 1;
    const locked = c.locked || failures >= maxFailures;
    this.#credentials.set(id, { ...c, failures, locked });
    this.#record({ ...audit, result: locked ? "locked" : audit.result });
    return { failures, locked };
  }

  async unlock(id: string, audit: AuditEntry): Promise<boolean> {
    const c = this.#credentials.get(id);
    if (!c) return false;
    this.#credentials.set(id, { ...c, failures: 0, locked: false });
    this.#record(audit);
    return true;
  }

  async addChallenge(challenge: Challenge, audit: AuditEntry): Promise<void> {
    this.#challenges.set(challenge.id, { ...challenge, used: false });
    this.#record(audit);
  }

  async takeChallenge(
    id: string,
    credentialId: string,
    fn: CodeFunction,
    now: number,
  ): Promise<Challenge | undefined> {
    const ch = this.#challenges.get(id);
    if (!ch || ch.used || ch.credentialId !== credentialId || ch.function !== fn || ch.expiresAt <= now)
      return undefined;
    ch.used = true;
    return ch;
  }

  async audit(credentialId?: string, limit = 100): Promise<AuditEntry[]> {
    return this.#audit
      .filter((a) => credentialId === undefined || a.credentialId === credentialId)
      .slice(-limit);
  }

  async close(): Promise<void> {}
}
