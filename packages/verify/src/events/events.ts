import { CapkitError, isRecord } from "@capkit/core";
import { checkClassOptions, checkOptions, checkWords, pageLimit, wholeNumber } from "../approvals/door.js";
import { SECURITY_STORE_METHODS, type SecurityEventRecord, type SecurityStore } from "../security-model.js";
import { REVOCATIONS, SECURITY_EVENT_TYPES, type SecurityEventType } from "./revocations.js";
import {
  checkEpochClass,
  checkStamp,
  checkSubject,
  type EpochClass,
  type Epochs,
  MAX_STAMP_ENTRIES,
  type Stamp,
  type Subject,
  stampHolds,
} from "./subjects.js";

/** What {@link SecurityEvents} works with. */
export interface SecurityEventsOptions {
  /** The approvals' store, beside the verifier's (events cancel its operations and revoke its grants). */
  readonly store: SecurityStore;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Who records, named in the events and their audit entries. */
  readonly actor?: string;
}

/** A security event to record. */
export interface RecordEventRequest {
  /** Which event (the table `REVOCATIONS` says what each revokes). */
  readonly type: SecurityEventType;
  /** Whom it is about: a user, an account or a contract, as the event allows. */
  readonly subject: Subject;
  /** Why, in words for the audit trail (never a secret): « réinitialisation via mot de passe perdu ». */
  readonly cause: string;
}

/**
 * Named security events and the epochs they move (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12.3; the table in
 * src/events/revocations.ts). `record` is one atomic write per event: what it revokes is refused from then on
 * by every server — devices' approvals, sessions stamped before it (`valid`), grants, pending operations. A
 * bank stamps what it creates (`stamp`) and checks the stamp on each use (`valid`: one indexed read).
 *
 * @example
 * A session stamped at login, checked per request, ended by a password reset on any server:
 * ```ts
 * import { SecurityEvents } from "@capkit/verify/approvals";
 *
 * const events = new SecurityEvents({ store: security, actor: "bank-api" }); // security: a SecurityStore
 * const alice = { kind: "user", id: "alice" } as const;
 * const stamp = await events.stamp([{ subject: alice, class: "session" }]); // keep it with the session
 * await events.valid(stamp); // true
 * await events.record({ type: "password-reset", subject: alice, cause: "mot de passe perdu" });
 * await events.valid(stamp); // false: and her devices' approvals, grants and pending operations are revoked
 * ```
 */
export class SecurityEvents {
  readonly #store: SecurityStore;
  readonly #now: () => number;
  readonly #actor: string | undefined;

  /** @param options - the security store, the clock, who records */
  constructor(options: SecurityEventsOptions) {
    checkClassOptions(options, "the security events' options", [
      ["store", "a SecurityStore", SECURITY_STORE_METHODS],
    ]);
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#actor = options.actor;
  }

  /**
   * Records an event with its cause and moves on the epochs it revokes, in one atomic write with its audit row:
   * returns it with the subject's epochs after it and what it cancelled or revoked. The session that made a
   * voluntary change stays valid only if the caller stamps it again with the epochs returned.
   */
  async record(req: RecordEventRequest): Promise<SecurityEventRecord> {
    if (!isRecord(req)) throw invalid("an event is { type, subject, cause }");
    if (!SECURITY_EVENT_TYPES.includes(req.type))
      throw invalid(`an event type is one of ${SECURITY_EVENT_TYPES.join(", ")}`);
    const subject = checkSubject(req.subject);
    const rule = REVOCATIONS[req.type];
    if (!rule.subjects.includes(subject.kind))
      throw invalid(`${req.type} is an event about a ${rule.subjects.join(" or ")}, not a ${subject.kind}`);
    checkWords(req.cause, "a cause");
    return this.#store.recordEvent({
      at: this.#now(),
      type: req.type,
      subject,
      cause: req.cause,
      actor: this.#actor,
      revokes: rule.revokes,
    });
  }

  /** Events in the order recorded, all or one subject's, a page at a time (`after`: the last seq seen). */
  async list(
    options: { subject?: Subject; after?: number; limit?: number } = {},
  ): Promise<SecurityEventRecord[]> {
    const q = checkOptions(options);
    return this.#store.events({
      after: q.after === undefined ? 0 : wholeNumber(q.after, "after (an event's seq)"),
      limit: pageLimit(q.limit),
      ...(q.subject !== undefined ? { subject: checkSubject(q.subject) } : {}),
    });
  }

  /** A subject's epochs now. */
  async epochs(subject: Subject): Promise<Epochs> {
    return (await this.#store.epochs([checkSubject(subject)]))[0]!;
  }

  /**
   * The stamp of something being created now for these subjects, each for one class: e.g. a session opened with
   * the app, `[{ subject: user, class: "session" }, { subject: user, class: "device" }]`. Keep it with the thing.
   */
  async stamp(entries: readonly { subject: Subject; class: EpochClass }[]): Promise<Stamp> {
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_STAMP_ENTRIES)
      throw invalid(`a stamp has 1 to ${MAX_STAMP_ENTRIES} entries`);
    const checked = entries.map((e) => ({ ...checkSubject(e?.subject), class: checkEpochClass(e?.class) }));
    const epochs = await this.#store.epochs(checked);
    return checked.map((e, i) => ({ ...e, epoch: epochs[i]![e.class] }));
  }

  /** Whether nothing the stamp holds was revoked since: the per-request check of a session (one read). */
  async valid(stamp: Stamp): Promise<boolean> {
    const s = checkStamp(stamp);
    return stampHolds(s, await this.#store.epochs(s));
  }
}

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}
