import { randomBytes, randomInt } from "node:crypto";
import { CapkitError } from "@capkit/core";
import { withActor } from "./audit/actor-store.js";
import {
  type AuditRetention,
  checkpointAudit,
  DEFAULT_AUDIT_RETENTION,
  pruneAudit,
  verifyStoredAudit,
} from "./audit/maintenance.js";
import type { AuditVerification } from "./audit/verify-trail.js";
import type { KeyProvider } from "./key-provider.js";
import {
  type CapEnrollRequest,
  type HotpEnrollRequest,
  KINDS,
  type OcraEnrollRequest,
  type TotpEnrollRequest,
} from "./kinds/index.js";
import { type Attempt, digitChallenge, type Match } from "./kinds/kind.js";
import type {
  AuditAction,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  CodeFunction,
  CredentialKind,
  CredentialState,
  FailureSubject,
  StateStore,
  StoredCredential,
} from "./model.js";
import { DEFAULT_POLICY, type Policy } from "./policy.js";
import { type RekeyOptions, type RekeyReport, rekeyCredentials } from "./rekey.js";

export type EnrollRequest = {
  readonly id: string;
  /** The user the credential belongs to: failures and lockout are then counted per user. */
  readonly user?: string;
} & (CapEnrollRequest | HotpEnrollRequest | TotpEnrollRequest | OcraEnrollRequest);

export interface VerifyRequest {
  /** The credential the code is for; or `user` to try every active credential of a user. */
  readonly id?: string;
  readonly user?: string;
  /** As typed: `1234 5678` and `12345678` are the same code; anything else non-numeric is a failure. */
  readonly code: string;
  /** The function the code answers (default: identify; OCRA credentials: ocra). */
  readonly function?: CodeFunction;
  /** The server-issued challenge the code answers (respond, sign, ocra). */
  readonly challengeId?: string;
  /** CAP sign: the amount and currency the user typed into the reader. */
  readonly amount?: string;
  readonly currency?: string;
  /** CAP identify with TDS: the numbers the user typed. */
  readonly tds?: readonly string[];
}

export type Decision = "accepted" | "rejected" | "locked";

export interface VerifyResult {
  readonly result: Decision;
  /** On acceptance: the matched counter (HOTP), time step (TOTP) or ATC (CAP), and its distance ahead. */
  readonly counter?: number;
  readonly offset?: number;
  /** On acceptance of a credential that belongs to a user: the credential that matched. */
  readonly credential?: string | undefined;
}

export interface CredentialStatus {
  readonly id: string;
  readonly kind: CredentialKind;
  readonly state: CredentialState;
  readonly user?: string;
  readonly last: number;
  readonly failures: number;
  readonly locked: boolean;
  readonly createdAt: number;
  /** TOTP: how far the token's clock is ahead (+) or behind (−), in seconds, at its last accepted code. */
  readonly driftSeconds?: number;
  /** A replacement card: the credential it replaces until its first accepted code. */
  readonly replaces?: string;
}

export interface UserStatus {
  readonly user: string;
  readonly failures: number;
  readonly locked: boolean;
  readonly credentials: readonly string[];
}

export interface VerifierOptions {
  readonly store: StateStore;
  readonly keys: KeyProvider;
  readonly policy?: Partial<Policy>;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /**
   * How many credentials this process keeps in memory with their keyed engines (default 10,000). A cached
   * credential is verified in one store operation; the others need a read first.
   */
  readonly cacheSize?: number;
  /** Who this verifier acts for, named in every audit entry it writes: a service (`bank-login`) or an administrator. */
  readonly actor?: string;
}

/**
 * A credential as last seen in the store, with its keyed engine (built once per version). The cache owns `c`
 * (each store read returns a new object) and moves its `last` on when this process accepts a code, in place.
 */
interface Cached {
  readonly c: Mutable<StoredCredential>;
  readonly engine: unknown;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const MAX_USER_CREDENTIALS = 32;
const ID = /^[\w.@:+-]{1,128}$/;
const PREFIX: Record<CodeFunction, string> = {
  identify: "identify: ",
  respond: "respond: ",
  sign: "sign: ",
  ocra: "ocra: ",
};

/**
 * One verifier for Sésame/CAP codes and SGpass/OATH codes (docs/architecture.md §6): the policy shell around the credential
 * kinds (src/kinds/) — lockout, challenges, state store, audit. The caller learns only "accepted", "rejected"
 * or "locked"; why a code failed goes to the audit trail, never back to a possible attacker. An unknown
 * credential or user answers "rejected" like a wrong code (no enumeration oracle).
 */
export class Verifier {
  readonly policy: Policy;
  readonly #store: StateStore;
  readonly #keys: KeyProvider;
  readonly #now: () => number;
  /**
   * Credential definitions by id, as last seen (docs/architecture.md §6): they change only through lifecycle
   * operations, which change the version the store checks on every decision, so a stale entry is caught there.
   */
  readonly #cache = new Map<string, Cached>();
  readonly #cacheSize: number;
  readonly #loading = new Map<string, Promise<Cached | undefined>>();

  constructor(options: VerifierOptions) {
    this.#store = options.actor === undefined ? options.store : withActor(options.store, options.actor);
    this.#keys = options.keys;
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    this.#now = options.now ?? Date.now;
    this.#cacheSize = Math.max(1, Math.trunc(options.cacheSize ?? 10_000));
  }

  async enroll(req: EnrollRequest, options: { replaces?: string } = {}): Promise<void> {
    checkId(req.id, "a credential id");
    if (req.user !== undefined) checkId(req.user, "a user id");
    const rules = KINDS[req.kind];
    if (!rules) throw new CapkitError("CREDENTIAL_INVALID", "unknown credential kind");
    const e = await rules.enroll(req, { id: req.id, keys: this.#keys, policy: this.policy });
    const now = this.#now();
    await this.#store.enroll(
      {
        id: req.id,
        params: e.params,
        sealed: e.sealed,
        last: e.last,
        failures: 0,
        locked: false,
        createdAt: now,
        state: "active",
        user: req.user,
        drift: undefined,
        replaces: options.replaces,
        version: newVersion(),
      },
      this.#entry(req.id, "enroll", "ok", req.user, { detail: req.kind }),
    );
    this.#cache.delete(req.id);
  }

  /**
   * A replacement card or token: enrolled for the same user, both valid during the changeover; the first code
   * accepted from the new one revokes the old (or revoke it explicitly).
   */
  async replace(oldId: string, req: EnrollRequest): Promise<void> {
    const old = await this.#known(oldId);
    if (req.user !== undefined && req.user !== old.user)
      throw new CapkitError(
        "INPUT_INVALID",
        "a replacement belongs to the user of the credential it replaces",
      );
    await this.enroll({ ...req, ...(old.user !== undefined ? { user: old.user } : {}) } as EnrollRequest, {
      replaces: oldId,
    });
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    if ((req.id === undefined) === (req.user === undefined))
      throw new CapkitError("INPUT_INVALID", "verify takes an id or a user, not both");
    if (req.user !== undefined) return this.#verifyUser(req.user, req);
    const id = String(req.id);
    const now = this.#now();
    let e = this.#cache.get(id) ?? (await this.#cached(id));
    const fn: CodeFunction = req.function ?? (e ? KINDS[e.c.params.kind].defaultFunction : "identify");
    if (!e) return this.#unknown(id, undefined, "verify", now, `${fn}: unknown credential`);
    // A refusal is decided on fresh state: the cache may be behind another process's unlock or enable.
    if (e.c.locked || e.c.state !== "active") {
      e = await this.#load(id);
      if (!e) return this.#unknown(id, undefined, "verify", now, `${fn}: unknown credential`);
    }
    const code = digitsOf(req.code);
    let refusal = code === undefined ? "not a number" : undefined;
    // A server-issued challenge is consumed by any attempt, right or wrong: one guess per challenge.
    let challenge: string | undefined;
    if (refusal || e.c.locked || e.c.state !== "active") {
      // decided below, with the challenge left alone
    } else if (fn === "respond" || fn === "sign" || fn === "ocra") {
      if (!req.challengeId) refusal = "no challenge";
      else {
        const ch = await this.#store.takeChallenge(req.challengeId, id, fn, now);
        if (ch) challenge = ch.value;
        else refusal = "challenge unknown, used, expired or for another function";
      }
    } else if (req.challengeId !== undefined) {
      refusal = "a challenge given to a function without one";
    }
    const attempt = attemptOf(req, fn, code ?? "", now, challenge);
    // `return await`: the result in one microtask turn rather than three (a promise returned from an async
    // function is adopted through a thenable job).
    return await this.#decide(
      e,
      "verify",
      now,
      PREFIX[fn] ?? `${fn}: `,
      (x) => refusal ?? this.#match(x, attempt) ?? "no match",
    );
  }

  /** verify({ user }): every active credential of the user is tried; one failure count and lockout per user. */
  async #verifyUser(user: string, req: VerifyRequest): Promise<VerifyResult> {
    const now = this.#now();
    const fn: CodeFunction = req.function ?? "identify";
    const u = await this.#store.user(user);
    if (!u) return this.#unknown("", user, "verify", now, `${fn}: unknown user`);
    const fail = async (why: string) => {
      const s = await this.#store.fail(
        { user },
        this.policy.maxFailures,
        this.#entry("", "verify", "rejected", user, { detail: `${fn}: ${why}` }),
      );
      return { result: s !== "changed" && s.locked ? "locked" : "rejected" } as const;
    };
    if (u.locked) return fail("locked");
    const code = digitsOf(req.code);
    if (code === undefined) return fail("not a number");
    if (fn !== "identify" || req.challengeId !== undefined)
      return fail("by user, only identify codes (challenges are per credential)");
    const all = await this.#store.list({ user, limit: MAX_USER_CREDENTIALS });
    const attempt = attemptOf(req, fn, code, now, undefined);
    let hit: { e: Cached; m: Match } | undefined;
    for (const c of all) {
      if (c.state !== "active" || c.locked) continue;
      const e = await this.#fresh(c);
      const m = this.#match(e, attempt);
      if (m && !hit) hit = { e, m }; // every credential is tried: no early return on a hit
    }
    if (!hit) return fail(`no match on ${all.length} credential(s)`);
    const accepted = await this.#accept(hit.e.c, hit.e.c.version, "verify", now, `${fn}: `, hit.m);
    return accepted ?? fail("replay, stale counter or changed credential");
  }

  #match(e: Cached, attempt: Attempt): Match | undefined {
    return KINDS[e.c.params.kind].match(e.engine, e.c, attempt, this.policy);
  }

  /**
   * The decision on one credential: `judge` gives the match or why not, on the cached state; an accept or a
   * failure is then one conditional store operation carrying the version (and for a failure the `last`) it was
   * judged on. If the store has moved on — another process accepted a code, a lifecycle operation — nothing is
   * written, and the code is judged once more on a fresh read (a stale cache costs one retry, never a wrong
   * answer).
   */
  async #decide(
    e: Cached,
    action: "verify" | "resync",
    now: number,
    prefix: string,
    judge: (e: Cached) => Match | string,
  ): Promise<VerifyResult> {
    const id = e.c.id;
    for (let tries = 0; ; tries++) {
      const c = e.c;
      // What the code is judged on, taken with the judgement (no await between): a concurrent accept in this
      // process moves c.last on in place.
      const { version, last } = c;
      const verdict = c.locked ? "locked" : c.state !== "active" ? "disabled" : judge(e);
      let why: string;
      if (typeof verdict === "string") why = verdict;
      else {
        const accepted = await this.#accept(c, version, action, now, prefix, verdict);
        if (accepted) return accepted;
        why = "replay, stale counter or changed credential";
      }
      const subject: FailureSubject = c.user !== undefined ? { user: c.user } : { credential: id };
      const s = await this.#store.fail(
        subject,
        this.policy.maxFailures,
        {
          at: now,
          credentialId: id,
          action,
          result: "rejected",
          detail: prefix + why,
          ...(c.user !== undefined ? { user: c.user } : {}),
        },
        { credential: id, version, last },
      );
      if (s !== "changed") {
        if (s.locked && "credential" in subject) c.locked = true;
        return { result: s.locked ? "locked" : "rejected" };
      }
      if (tries > 0) {
        // Changed again between a fresh read and its decision: answered, not counted, left in the audit.
        await this.#store.record({
          at: now,
          credentialId: id,
          action,
          result: "rejected",
          detail: `${prefix}${why}; the credential changed during verification`,
          ...(c.user !== undefined ? { user: c.user } : {}),
        });
        return { result: "rejected" };
      }
      const fresh = await this.#load(id);
      if (!fresh) return this.#unknown(id, c.user, action, now, `${prefix}unknown credential`);
      e = fresh;
    }
  }

  /** The conditional accept; undefined when the store refused it (the caller records the failure). */
  async #accept(
    c: Mutable<StoredCredential>,
    version: number,
    action: "verify" | "resync",
    now: number,
    prefix: string,
    m: Match,
  ): Promise<VerifyResult | undefined> {
    const outcome = await this.#store.accept(
      c.id,
      m.counter,
      {
        at: now,
        credentialId: c.id,
        action,
        result: "accepted",
        counter: m.counter,
        detail: acceptedDetail(prefix, m),
        user: c.user,
      },
      { version, drift: m.drift },
    );
    if (outcome !== "accepted") return undefined;
    if (m.counter > c.last) {
      c.last = m.counter;
      c.failures = 0;
      if (m.drift !== undefined) c.drift = m.drift;
    }
    if (c.replaces !== undefined) {
      // The new card is in use: the one it replaces stops working now (its audit trail stays).
      await this.#store.revoke(
        c.replaces,
        this.#entry(c.replaces, "revoke", "ok", c.user, { detail: `replaced by ${c.id}` }),
      );
      this.#cache.delete(c.replaces);
    }
    return { result: "accepted", counter: m.counter, offset: m.offset, credential: c.user && c.id };
  }

  /** An attempt on an id nobody holds: audited as unknown, answered like a wrong code. */
  async #unknown(
    id: string,
    user: string | undefined,
    action: AuditAction,
    now: number,
    detail: string,
  ): Promise<VerifyResult> {
    await this.#store.record({
      at: now,
      credentialId: id,
      action,
      result: "unknown",
      detail,
      ...(user !== undefined ? { user } : {}),
    });
    return { result: "rejected" };
  }

  /**
   * The cached credential, or one read for every caller at once: a burst of attempts on an id not in the cache
   * (a cold start, a stuck row) makes one store read, not one per attempt.
   */
  #cached(id: string): Promise<Cached | undefined> {
    const e = this.#cache.get(id);
    if (e) return Promise.resolve(e);
    let p = this.#loading.get(id);
    if (!p) {
      p = this.#load(id).finally(() => this.#loading.delete(id));
      this.#loading.set(id, p);
    }
    return p;
  }

  /** A fresh read from the store, cached; the keyed engine is kept while the version is the same. */
  async #load(id: string): Promise<Cached | undefined> {
    const c = await this.#store.get(id);
    if (!c) {
      this.#cache.delete(id);
      return undefined;
    }
    return this.#fresh(c);
  }

  /** Caches a credential just read from the store, with its engine. */
  async #fresh(c: Mutable<StoredCredential>): Promise<Cached> {
    const old = this.#cache.get(c.id);
    const e = { c, engine: old && old.c.version === c.version ? old.engine : await this.#engine(c) };
    this.#remember(e);
    return e;
  }

  #remember(e: Cached): void {
    if (!this.#cache.has(e.c.id) && this.#cache.size >= this.#cacheSize)
      this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(e.c.id, e);
  }

  /** The credential's keyed engine: the key provider computes, the verifier never holds a key. */
  #engine(c: StoredCredential): Promise<unknown> {
    return KINDS[c.params.kind].engine(c.params, c.sealed, { id: c.id, keys: this.#keys });
  }

  /**
   * A challenge from the CSPRNG for one credential and one function; never 0, single use, expiring. For an
   * unknown id the answer looks the same (the code sent back will be rejected).
   */
  async issueChallenge(
    id: string,
    fn: Exclude<CodeFunction, "identify">,
  ): Promise<{ challengeId: string; challenge: string; expiresAt: number }> {
    const now = this.#now();
    const expiresAt = now + this.policy.challengeTtlMs;
    const c = (await this.#cached(id))?.c;
    if (!c) {
      await this.#unknown(id, undefined, "challenge", now, `${fn}: unknown credential`);
      return { challengeId: randomBytes(16).toString("hex"), challenge: digitChallenge(8), expiresAt };
    }
    const value = KINDS[c.params.kind].challenge(c.params, fn);
    const challenge = {
      id: randomBytes(16).toString("hex"),
      credentialId: id,
      function: fn,
      value,
      expiresAt,
    };
    await this.#store.addChallenge(
      challenge,
      this.#entry(id, "challenge", "issued", c.user, { detail: fn }),
      this.policy.maxChallengesPerCredential,
    );
    return { challengeId: challenge.id, challenge: value, expiresAt };
  }

  /**
   * Resynchronises a HOTP token or CAP card that ran ahead of the window: two consecutive codes (identify)
   * must match two consecutive counters within the resync window; then the second is the last accepted.
   */
  async resync(id: string, code1: string, code2: string): Promise<VerifyResult> {
    const now = this.#now();
    const e = await this.#load(id); // a rare operation: decided on a fresh read
    if (!e) return this.#unknown(id, undefined, "resync", now, "unknown credential");
    const resync = KINDS[e.c.params.kind].resync;
    if (!resync) {
      throw new CapkitError(
        "INPUT_INVALID",
        `${e.c.params.kind} credentials do not resynchronise (time-based or challenge-based)`,
      );
    }
    const a1 = digitsOf(code1);
    const a2 = digitsOf(code2);
    return this.#decide(e, "resync", now, "", (x) => {
      if (a1 === undefined || a2 === undefined) return "not a number";
      const found = resync(x.engine, x.c, a1, a2, this.policy.resyncWindow);
      if (found === undefined) return "no two consecutive codes found";
      return { counter: found, offset: found - x.c.last - 1 };
    });
  }

  async unlock(id: string): Promise<void> {
    const ok = await this.#store.unlock({ credential: id }, this.#entry(id, "unlock", "ok", undefined));
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  async unlockUser(user: string): Promise<void> {
    const ok = await this.#store.unlock({ user }, this.#entry("", "unlock", "ok", user));
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no user ${user}`);
  }

  /** Disabled credentials answer "rejected" to every code (audited as disabled) until enabled again. */
  async disable(id: string): Promise<void> {
    await this.#setState(id, "disabled");
  }

  async enable(id: string): Promise<void> {
    await this.#setState(id, "active");
  }

  async #setState(id: string, state: CredentialState): Promise<void> {
    const c = await this.#known(id);
    const ok = await this.#store.setState(
      id,
      state,
      newVersion(),
      this.#entry(id, state === "active" ? "enable" : "disable", "ok", c.user),
    );
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  /** The credential's state and keys are deleted; its audit trail stays. */
  async revoke(id: string): Promise<void> {
    const c = await this.#known(id);
    const ok = await this.#store.revoke(id, this.#entry(id, "revoke", "ok", c.user));
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  async status(id: string): Promise<CredentialStatus> {
    return statusOf(await this.#known(id));
  }

  async userStatus(user: string): Promise<UserStatus> {
    const u = await this.#store.user(user);
    if (!u) throw new CapkitError("CREDENTIAL_UNKNOWN", `no user ${user}`);
    const creds = await this.#store.list({ user, limit: MAX_USER_CREDENTIALS });
    return { user, failures: u.failures, locked: u.locked, credentials: creds.map((c) => c.id) };
  }

  /** Credentials in id order, a page at a time: pass the returned `next` as `after` for the next page. */
  async list(
    options: { after?: string; limit?: number; user?: string } = {},
  ): Promise<{ credentials: CredentialStatus[]; next?: string }> {
    const limit = Math.max(1, Math.min(1000, Math.trunc(options.limit ?? 100)));
    const rows = await this.#store.list({
      limit,
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
    });
    const last = rows[rows.length - 1];
    return { credentials: rows.map(statusOf), ...(rows.length === limit && last ? { next: last.id } : {}) };
  }

  audit(id?: string, limit?: number): Promise<AuditEntry[]> {
    return this.#store.audit(id, limit);
  }

  /** The audit trail in store order, a page at a time (`after`: the last seq of the previous page), filtered. */
  auditTrail(q: Partial<AuditQuery> = {}): Promise<ChainedAuditEntry[]> {
    return this.#store.auditTrail({
      ...q,
      limit: Math.max(1, Math.min(10_000, Math.trunc(q.limit ?? 1000))),
    });
  }

  /** Signs a checkpoint of the audit trail (docs/architecture.md §6.2); run it periodically (`maintainAudit`). */
  checkpointAudit(): Promise<AuditCheckpoint | undefined> {
    return checkpointAudit(this.#store, this.#keys, this.#now());
  }

  /** The audit public keys (raw Ed25519, hex) by key id: give them to whoever verifies the trail offline. */
  auditPublicKeys(): Promise<Readonly<Record<string, string>>> {
    return this.#keys.auditPublicKeys();
  }

  /** Verifies the stored audit trail: every chain, every checkpoint's signature (tampering, deletions). */
  verifyAudit(): Promise<AuditVerification> {
    return verifyStoredAudit(this.#store, this.#keys);
  }

  /**
   * Audit retention: deletes entries older than `before` (a Date or ms since the epoch), or beyond `maxRows` /
   * `maxBytes`, keeping the rest verifiable, and signs the cut; returns how many entries went.
   */
  pruneAudit(
    before: Date | number | { before?: Date | number; maxRows?: number; maxBytes?: number },
  ): Promise<number> {
    const bounds = typeof before === "object" && !(before instanceof Date) ? before : { before };
    const at = bounds.before instanceof Date ? bounds.before.getTime() : bounds.before;
    if (bounds.before !== undefined && !Number.isFinite(at))
      throw new CapkitError("INPUT_INVALID", "pruneAudit needs a valid date");
    return pruneAudit(this.#store, this.#keys, this.#now(), {
      ...(at !== undefined ? { before: at } : {}),
      ...(bounds.maxRows !== undefined ? { maxRows: bounds.maxRows } : {}),
      ...(bounds.maxBytes !== undefined ? { maxBytes: bounds.maxBytes } : {}),
    });
  }

  /**
   * What a bank runs every few minutes: a signed checkpoint, and the retention (default
   * `DEFAULT_AUDIT_RETENTION`: 400 days, 50 million entries, 8 GiB).
   */
  async maintainAudit(retention: AuditRetention = DEFAULT_AUDIT_RETENTION): Promise<{ pruned: number }> {
    await this.checkpointAudit();
    const pruned = await this.pruneAudit({
      before: this.#now() - retention.days * 86_400_000,
      maxRows: retention.maxRows,
      maxBytes: retention.maxBytes,
    });
    return { pruned };
  }

  /**
   * Key rotation: every credential re-sealed under the key provider's current key, online and resumable
   * (src/rekey.ts, docs/architecture.md §6.1). Run it after giving every verifier the new key with the old one
   * as previous; afterwards remove the old key, and what was sealed under it is refused.
   */
  rekey(options: Omit<RekeyOptions, "now"> = {}): Promise<RekeyReport> {
    return rekeyCredentials(this.#store, this.#keys, { ...options, now: this.#now });
  }

  async #known(id: string): Promise<StoredCredential> {
    const c = await this.#store.get(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return c;
  }

  #entry(
    id: string,
    action: AuditAction,
    result: string,
    user: string | undefined,
    extra: { counter?: number; detail?: string } = {},
  ): AuditEntry {
    return {
      at: this.#now(),
      credentialId: id,
      action,
      result,
      ...extra,
      ...(user !== undefined ? { user } : {}),
    };
  }
}

/**
 * "identify: ok, offset 0": the audit detail of an accept. The common ones (no drift, a small offset) are made
 * once and shared, so an audit trail of accepts holds the same few strings, not one new string per code.
 */
function acceptedDetail(prefix: string, m: Match): string {
  const make = () => `${prefix}ok, offset ${m.offset}${m.drift !== undefined ? `, drift ${m.drift}` : ""}`;
  if (m.drift !== undefined || m.offset < 0 || m.offset >= 16) return make();
  const byOffset = ACCEPTED_DETAILS.get(prefix); // the known prefixes only: no growth from odd input
  if (!byOffset) return make();
  byOffset[m.offset] ??= make();
  return byOffset[m.offset]!;
}

const ACCEPTED_DETAILS = new Map<string, string[]>([...Object.values(PREFIX), ""].map((p) => [p, []]));

/** A credential's version: random, so a revoked and re-enrolled id never repeats one another process cached. */
function newVersion(): number {
  return randomInt(1, 2 ** 48);
}

function checkId(id: unknown, what: string): void {
  if (typeof id !== "string" || !ID.test(id)) {
    throw new CapkitError("CREDENTIAL_INVALID", `${what} is 1–128 letters, digits or . @ : + - _`);
  }
}

/** The code as typed, spaces removed; undefined when it is not 1–20 digits. */
function digitsOf(code: unknown): string | undefined {
  if (typeof code !== "string") return undefined;
  const s = DIGITS.test(code) ? code : code.replace(/\s+/g, "");
  return DIGITS.test(s) ? s : undefined;
}

const DIGITS = /^[0-9]{1,20}$/;

function attemptOf(
  req: VerifyRequest,
  fn: CodeFunction,
  code: string,
  now: number,
  challenge: string | undefined,
): Attempt {
  return { fn, code, now, challenge, amount: req.amount, currency: req.currency, tds: req.tds };
}

function statusOf(c: StoredCredential): CredentialStatus {
  const p = c.params;
  return {
    id: c.id,
    kind: p.kind,
    state: c.state,
    ...(c.user !== undefined ? { user: c.user } : {}),
    last: c.last,
    failures: c.failures,
    locked: c.locked,
    createdAt: c.createdAt,
    ...(p.kind === "totp" && c.drift !== undefined ? { driftSeconds: c.drift * p.step } : {}),
    ...(c.replaces !== undefined ? { replaces: c.replaces } : {}),
  };
}
