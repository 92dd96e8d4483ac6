import { randomBytes } from "node:crypto";
import { CapkitError } from "@capkit/core";
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
  AuditEntry,
  CodeFunction,
  CredentialKind,
  CredentialState,
  FailureSubject,
  StateStore,
  StoredCredential,
} from "./model.js";
import { DEFAULT_POLICY, type Policy } from "./policy.js";

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
  /** On acceptance by user: the credential that matched. */
  readonly credential?: string;
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
}

const MAX_CACHED = 10_000;
const MAX_USER_CREDENTIALS = 32;
const ID = /^[\w.@:+-]{1,128}$/;

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
  /** Keyed engines by credential (id, enrolment time and sealed key: a re-enrolled id gets a new one). */
  readonly #engines = new Map<string, unknown>();

  constructor(options: VerifierOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    this.#now = options.now ?? Date.now;
  }

  async enroll(req: EnrollRequest, options: { replaces?: string } = {}): Promise<void> {
    checkId(req.id, "a credential id");
    if (req.user !== undefined) checkId(req.user, "a user id");
    const rules = KINDS[req.kind];
    if (!rules) throw new CapkitError("CREDENTIAL_INVALID", "unknown credential kind");
    const e = await rules.enroll(req, { keys: this.#keys, policy: this.policy });
    const sealed = e.secret ? await this.#keys.seal(req.id, e.secret) : undefined;
    const now = this.#now();
    await this.#store.enroll(
      {
        id: req.id,
        params: e.params,
        sealed,
        last: e.last,
        failures: 0,
        locked: false,
        createdAt: now,
        state: "active",
        user: req.user,
        drift: undefined,
        replaces: options.replaces,
      },
      this.#entry(req.id, "enroll", "ok", req.user, { detail: req.kind }),
    );
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
    const c = await this.#store.get(id);
    const fn: CodeFunction = req.function ?? (c ? KINDS[c.params.kind].defaultFunction : "identify");
    if (!c) return this.#unknown(id, undefined, "verify", now, `${fn}: unknown credential`);
    const why = (detail: string) => this.#reject(c, "verify", now, `${fn}: ${detail}`);
    if (await this.#isLocked(c)) return why("locked");
    if (c.state !== "active") return why("disabled");
    const code = digitsOf(req.code);
    if (code === undefined) return why("not a number");

    // A server-issued challenge is consumed by any attempt, right or wrong: one guess per challenge.
    let challenge: string | undefined;
    if (fn === "respond" || fn === "sign" || fn === "ocra") {
      if (!req.challengeId) return why("no challenge");
      const ch = await this.#store.takeChallenge(req.challengeId, c.id, fn, now);
      if (!ch) return why("challenge unknown, used, expired or for another function");
      challenge = ch.value;
    } else if (req.challengeId !== undefined) {
      return why("a challenge given to a function without one");
    }

    const match = await this.#match(c, { ...attemptOf(req), fn, code, now, challenge });
    if (match === undefined) return why("no match");
    return this.#accept(c, "verify", now, fn, match);
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
      return { result: s.locked ? "locked" : "rejected" } as const;
    };
    if (u.locked) return fail("locked");
    const code = digitsOf(req.code);
    if (code === undefined) return fail("not a number");
    if (fn !== "identify" || req.challengeId !== undefined)
      return fail("by user, only identify codes (challenges are per credential)");
    const all = await this.#store.list({ user, limit: MAX_USER_CREDENTIALS });
    let hit: { c: StoredCredential; m: Match } | undefined;
    for (const c of all) {
      if (c.state !== "active" || c.locked) continue;
      const m = await this.#match(c, { ...attemptOf(req), fn, code, now, challenge: undefined });
      if (m && !hit) hit = { c, m }; // every credential is tried: no early return on a hit
    }
    if (!hit) return fail(`no match on ${all.length} credential(s)`);
    return this.#accept(hit.c, "verify", now, fn, hit.m);
  }

  async #match(c: StoredCredential, attempt: Attempt): Promise<Match | undefined> {
    const engine = await this.#engine(c);
    return KINDS[c.params.kind].match(engine, c, attempt, this.policy);
  }

  async #accept(
    c: StoredCredential,
    action: "verify" | "resync",
    now: number,
    fn: CodeFunction,
    m: Match,
  ): Promise<VerifyResult> {
    const outcome = await this.#store.accept(
      c.id,
      m.counter,
      this.#entry(c.id, action, "accepted", c.user, {
        counter: m.counter,
        detail: `${action === "verify" ? `${fn}: ` : ""}ok, offset ${m.offset}${m.drift !== undefined ? `, drift ${m.drift}` : ""}`,
      }),
      m.drift,
    );
    if (outcome !== "accepted")
      return this.#reject(
        c,
        action,
        now,
        `${action === "verify" ? `${fn}: ` : ""}${outcome === "stale" ? "replay or stale counter" : outcome}`,
      );
    if (c.replaces !== undefined) {
      // The new card is in use: the one it replaces stops working now (its audit trail stays).
      await this.#store.revoke(
        c.replaces,
        this.#entry(c.replaces, "revoke", "ok", c.user, { detail: `replaced by ${c.id}` }),
      );
    }
    return {
      result: "accepted",
      counter: m.counter,
      offset: m.offset,
      ...(c.user !== undefined ? { credential: c.id } : {}),
    };
  }

  /** Counts a failure (the user's, for a credential that has one); the caller learns only rejected/locked. */
  async #reject(
    c: StoredCredential,
    action: AuditAction,
    now: number,
    detail: string,
  ): Promise<VerifyResult> {
    const subject: FailureSubject = c.user !== undefined ? { user: c.user } : { credential: c.id };
    const s = await this.#store.fail(subject, this.policy.maxFailures, {
      at: now,
      credentialId: c.id,
      action,
      result: "rejected",
      detail,
      ...(c.user !== undefined ? { user: c.user } : {}),
    });
    return { result: s.locked ? "locked" : "rejected" };
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

  async #isLocked(c: StoredCredential): Promise<boolean> {
    if (c.locked) return true;
    return c.user !== undefined && (await this.#store.user(c.user))?.locked === true;
  }

  async #engine(c: StoredCredential): Promise<unknown> {
    const key = `${c.id}\0${c.createdAt}\0${c.sealed ?? ""}`;
    const cached = this.#engines.get(key);
    if (cached) return cached;
    const secret = c.sealed === undefined ? undefined : await this.#keys.unseal(c.id, c.sealed);
    let engine: unknown;
    try {
      engine = await KINDS[c.params.kind].engine(c.params, secret, this.#keys);
    } finally {
      secret?.fill(0);
    }
    if (this.#engines.size >= MAX_CACHED) this.#engines.delete(this.#engines.keys().next().value!);
    this.#engines.set(key, engine);
    return engine;
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
    const c = await this.#store.get(id);
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
    const c = await this.#store.get(id);
    if (!c) return this.#unknown(id, undefined, "resync", now, "unknown credential");
    const rules = KINDS[c.params.kind];
    if (!rules.resync) {
      throw new CapkitError(
        "INPUT_INVALID",
        `${c.params.kind} credentials do not resynchronise (time-based or challenge-based)`,
      );
    }
    if (await this.#isLocked(c)) return this.#reject(c, "resync", now, "locked");
    if (c.state !== "active") return this.#reject(c, "resync", now, "disabled");
    const a1 = digitsOf(code1);
    const a2 = digitsOf(code2);
    if (a1 === undefined || a2 === undefined) return this.#reject(c, "resync", now, "not a number");
    const found = rules.resync(await this.#engine(c), c, a1, a2, this.policy.resyncWindow);
    if (found === undefined) return this.#reject(c, "resync", now, "no two consecutive codes found");
    return this.#accept(c, "resync", now, "identify", { counter: found, offset: found - c.last - 1 });
  }

  async unlock(id: string): Promise<void> {
    const ok = await this.#store.unlock({ credential: id }, this.#entry(id, "unlock", "ok", undefined));
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
      this.#entry(id, state === "active" ? "enable" : "disable", "ok", c.user),
    );
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  /** The credential's state and keys are deleted; its audit trail stays. */
  async revoke(id: string): Promise<void> {
    const c = await this.#known(id);
    const ok = await this.#store.revoke(id, this.#entry(id, "revoke", "ok", c.user));
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

  /** Audit retention: deletes entries older than `before` (a Date or ms since the epoch); returns how many. */
  pruneAudit(before: Date | number): Promise<number> {
    const at = typeof before === "number" ? before : before.getTime();
    if (!Number.isFinite(at)) throw new CapkitError("INPUT_INVALID", "pruneAudit needs a valid date");
    return this.#store.pruneAudit(at);
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

function checkId(id: unknown, what: string): void {
  if (typeof id !== "string" || !ID.test(id)) {
    throw new CapkitError("CREDENTIAL_INVALID", `${what} is 1–128 letters, digits or . @ : + - _`);
  }
}

/** The code as typed, spaces removed; undefined when it is not 1–20 digits. */
function digitsOf(code: unknown): string | undefined {
  const s = typeof code === "string" ? code.replace(/\s+/g, "") : "";
  return /^[0-9]{1,20}$/.test(s) ? s : undefined;
}

function attemptOf(req: VerifyRequest): Pick<Attempt, "amount" | "currency" | "tds"> {
  return {
    ...(req.amount !== undefined ? { amount: req.amount } : {}),
    ...(req.currency !== undefined ? { currency: req.currency } : {}),
    ...(req.tds !== undefined ? { tds: req.tds } : {}),
  };
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
