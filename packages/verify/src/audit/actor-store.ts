import type {
  AuditEntry,
  Challenge,
  CredentialState,
  FailExpectation,
  FailureSubject,
  LockoutRule,
  SealedState,
  StateStore,
  StoredCredential,
} from "../model.js";

/**
 * A store whose audit entries name `actor` — the administrator or service a Verifier acts for
 * (`VerifierOptions.actor`) — unless the entry names one already. Everything else passes through.
 */
export function withActor(store: StateStore, actor: string): StateStore {
  const a = (e: AuditEntry): AuditEntry => (e.actor === undefined ? { ...e, actor } : e);
  return {
    enroll: (c: StoredCredential, e: AuditEntry) => store.enroll(c, a(e)),
    get: (id) => store.get(id),
    list: (o) => store.list(o),
    user: (id) => store.user(id),
    addUser: (id, e) => store.addUser(id, a(e)),
    accept: (id, value, e, decision) => store.accept(id, value, a(e), decision),
    fail: (subject: FailureSubject, rule: LockoutRule, e: AuditEntry, expected?: FailExpectation) =>
      store.fail(subject, rule, a(e), expected),
    succeed: (subject, rule, e) => store.succeed(subject, rule, a(e)),
    unlock: (subject, e) => store.unlock(subject, a(e)),
    setState: (id: string, state: CredentialState, version: number, e: AuditEntry) =>
      store.setState(id, state, version, a(e)),
    revoke: (id, e) => store.revoke(id, a(e)),
    addChallenge: (ch: Challenge, e: AuditEntry, max: number) => store.addChallenge(ch, a(e), max),
    takeChallenge: (id, credentialId, fn, now) => store.takeChallenge(id, credentialId, fn, now),
    reseal: (id: string, expected: SealedState, next: SealedState, e: AuditEntry) =>
      store.reseal(id, expected, next, a(e)),
    record: (e) => store.record(a(e)),
    audit: (id, limit) => store.audit(id, limit),
    auditTrail: (q) => store.auditTrail(q),
    auditHeads: (from, to) => store.auditHeads(from, to),
    addCheckpoint: (cp) => store.addCheckpoint(cp),
    auditCheckpoints: () => store.auditCheckpoints(),
    auditCut: (rows, bytes) => store.auditCut(rows, bytes),
    pruneAudit: (before) => store.pruneAudit(before),
    close: () => store.close(),
  };
}
