import { randomBytes } from "node:crypto";
import { CapkitError, isCapkitError, isRecord } from "@capkit/core";
import { withActor } from "./audit/actor-store.js";
import {
  type AuditRetention,
  checkpointAudit,
  DEFAULT_AUDIT_RETENTION,
  pruneAudit,
  verifyStoredAudit,
} from "./audit/maintenance.js";
import type { AuditVerification } from "./audit/verify-trail.js";
import { steadyClock } from "./clock.js";
import { type Cached, CredentialCache, subjectKey } from "./credential-cache.js";
import { PREPARE_ENROLMENT } from "./internal.js";
import type { KeyProvider } from "./key-provider.js";
import {
  type CapEnrollRequest,
  type HotpEnrollRequest,
  KINDS,
  type OcraEnrollRequest,
  rulesOf,
  type TotpEnrollRequest,
} from "./kinds/index.js";
import type { Attempt, Match } from "./kinds/kind.js";
import { Lifecycle, MAX_USER_CREDENTIALS, newVersion } from "./lifecycle.js";
import { isLocked } from "./lockout.js";
import type {
  AcceptOutcome,
  AuditAction,
  AuditCheckpoint,
  AuditEntry,
  AuditQuery,
  ChainedAuditEntry,
  CodeFunction,
  Counted,
  CredentialKind,
  CredentialState,
  FailExpectation,
  FailureSubject,
  LockoutRule,
  StateStore,
  StoredCredential,
} from "./model.js";
import { type Policy, policyWith } from "./policy.js";
import { type RekeyOptions, type RekeyReport, rekeyCredentials } from "./rekey.js";
import { type ReplayProbe, replayDigest, sameDigest, sameRequest } from "./replay.js";
import {
  checkAuditQuery,
  checkChallengeFunction,
  checkCode,
  checkFields,
  checkId,
  checkOptions,
  checkSource,
  checkTime,
  checkVerifyRequest,
  integerIn,
  integerOr,
  invalid,
  own,
} from "./requests.js";
import { SubjectGate } from "./subject-gate.js";
import type { Throttle, ThrottleRequest } from "./throttle.js";
import { VERIFIER_INTERNALS, type VerifierInternals } from "./verifier-internals.js";

/**
 * A credential to enrol: its id, its user if it has one, and what its kind needs — a CAP card's issuer record
 * ({@link CapEnrollRequest}), an OATH token's secret ({@link HotpEnrollRequest}, {@link TotpEnrollRequest},
 * {@link OcraEnrollRequest}).
 */
export type EnrollRequest = {
  /** The credential's id: 1–128 letters, digits or `. @ : + - _`, chosen by the application. */
  readonly id: string;
  /** The user the credential belongs to: failures and lockout are then counted per user. */
  readonly user?: string;
} & (CapEnrollRequest | HotpEnrollRequest | TotpEnrollRequest | OcraEnrollRequest);

/**
 * A code to judge: for one credential (`id`), or for a user (`user`: every active credential of the user is
 * tried). A code that answers a challenge names it (`challengeId`, from `Verifier.issueChallenge`).
 */
export interface VerifyRequest {
  /** The credential the code is for; or `user` to try every active credential of a user. */
  readonly id?: string;
  /** The user whose credentials are tried (identify codes only); or `id`. */
  readonly user?: string;
  /** As typed: `1234 5678` and `12345678` are the same code; anything else non-numeric is a failure. */
  readonly code: string;
  /** The function the code answers (default: identify; OCRA credentials: ocra). */
  readonly function?: CodeFunction;
  /** The server-issued challenge the code answers (respond, sign, ocra). */
  readonly challengeId?: string;
  /** CAP sign: the amount the user typed into the reader, e.g. `1234.56`. */
  readonly amount?: string;
  /** CAP sign: its currency, the ISO 4217 numeric code (`978` for EUR). */
  readonly currency?: string;
  /** CAP identify with TDS: the numbers the user typed. */
  readonly tds?: readonly string[];
  /** Who asks — an IP address, a session id — for the throttle (VerifierOptions.throttle). */
  readonly source?: string;
  /**
   * An idempotency key for this verification (1–128 letters, digits or `. @ : + - _`): a retry of an accept
   * that committed — after a STORE_UNAVAILABLE, a lost answer — carrying the same key answers `accepted`
   * again, within `policy.replayWindowMs`.
   */
  readonly requestId?: string;
}

/**
 * All a caller learns of a code: accepted, rejected, or locked (the credential or user is locked: even the right
 * code is refused). Why a code failed goes to the audit trail, never back to a possible attacker.
 */
export type Decision = "accepted" | "rejected" | "locked";

/** The answer to a code (`verify`, `resync`). */
export interface VerifyResult {
  /** Accepted, rejected or locked. */
  readonly result: Decision;
  /** On acceptance: the matched counter (HOTP), time step (TOTP) or ATC (CAP). */
  readonly counter?: number;
  /** On acceptance: how far ahead of the last accepted value it was (0: the next one; TOTP: steps from now). */
  readonly offset?: number;
  /** On acceptance of a credential that belongs to a user: the credential that matched. */
  readonly credential?: string | undefined;
  /**
   * On a rejection counted as a failure: how many more failures lock the credential or user — the same for
   * known and unknown ids and users.
   */
  readonly triesLeft?: number;
  /**
   * The same request as the one just accepted (a double submit, a proxy retrying): rejected, not counted
   * (policy.replayWindowMs says how long "just" lasts).
   */
  readonly replayed?: true;
}

/** A factor the application checked itself (a password after scrypt, a letter code): its outcome. */
export interface FactorRequest {
  /** The user it was checked for. */
  readonly user: string;
  /** What was checked, for the audit trail ("password", "letter-code"): a name, never the value. */
  readonly factor: string;
  /** Whether it was right: false counts a failure, true clears the count (unless the user is locked). */
  readonly ok: boolean;
  /** Who asks, for the throttle (VerifierOptions.throttle). */
  readonly source?: string;
}

/** The answer to a factor's outcome (`checkFactor`). */
export interface FactorResult {
  /** Accepted, rejected or locked (the user is locked: a right factor is refused too). */
  readonly result: Decision;
  /** On "rejected": how many more failures lock the user. */
  readonly triesLeft?: number;
}

/** A credential as support sees it (`status`, `list`): no key, no card number. */
export interface CredentialStatus {
  /** Its id. */
  readonly id: string;
  /** CAP card, HOTP, TOTP or OCRA token. */
  readonly kind: CredentialKind;
  /** Active, disabled or pending. */
  readonly state: CredentialState;
  /** The user it belongs to, if any. */
  readonly user?: string;
  /** The last accepted counter, time step or ATC (−1 before the first). */
  readonly last: number;
  /** Consecutive failures of its lockout subject (its user's, for a user's credential). */
  readonly failures: number;
  /** Whether its lockout subject is locked now. */
  readonly locked: boolean;
  /** When it was enrolled (ms since the epoch). */
  readonly createdAt: number;
  /** TOTP: how far the token's clock is ahead (+) or behind (−), in seconds, at its last accepted code. */
  readonly driftSeconds?: number;
  /** A replacement card: the credential it replaces until its first accepted code. */
  readonly replaces?: string;
}

/** A user as support sees it (`userStatus`): the shared count and lock, and the user's credentials. */
export interface UserStatus {
  /** The user's id. */
  readonly user: string;
  /** Consecutive failures of the user (codes of any of its credentials, and factors). */
  readonly failures: number;
  /** Whether the user is locked now. */
  readonly locked: boolean;
  /** The ids of the user's credentials. */
  readonly credentials: readonly string[];
}

/** What a {@link Verifier} is made of. Every option is checked: a wrong one is INPUT_INVALID, naming it. */
export interface VerifierOptions {
  /** Where state lives: `MemoryStore`, `SqliteStore` or `PostgresStore` (the last two in their own entries). */
  readonly store: StateStore;
  /** Where keys live: `SoftwareKeyProvider`, or `Pkcs11KeyProvider` (`@capkit/verify/pkcs11`). */
  readonly keys: KeyProvider;
  /** The fields of the policy to change from `DEFAULT_POLICY`. */
  readonly policy?: Partial<Policy>;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /**
   * How many credentials this process keeps in memory with their keyed engines (default 10,000). A cached
   * credential is verified in one store operation; the others need a read first. Ids found unknown are
   * cached too (as unknown), so that a second try of one costs what a second try of a known id costs.
   */
  readonly cacheSize?: number;
  /**
   * How long an attempt waits behind earlier attempts on the same user or credential before it is answered
   * STORE_UNAVAILABLE, nothing tried (default 10,000 ms): attempts on one subject are decided one at a time.
   */
  readonly subjectWaitMs?: number;
  /**
   * Asked before every attempt that names a `source` (sourceThrottle is a ready one): a wait refuses the
   * attempt with RATE_LIMITED, nothing judged or counted (src/throttle.ts).
   */
  readonly throttle?: Throttle;
  /** Who this verifier acts for, named in every audit entry it writes: a service (`bank-login`) or an administrator. */
  readonly actor?: string;
}

const OPTION_FIELDS = new Set([
  "store",
  "keys",
  "policy",
  "now",
  "cacheSize",
  "subjectWaitMs",
  "throttle",
  "actor",
]);
const FACTOR_FIELDS = new Set(["user", "factor", "ok", "source"]);
const PREFIX: Record<CodeFunction, string> = {
  identify: "identify: ",
  respond: "respond: ",
  sign: "sign: ",
  ocra: "ocra: ",
};

/**
 * One verifier for Sésame/CAP codes and SGpass/OATH codes
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): the policy shell around the credential
 * kinds (src/kinds/) — lockout, challenges, state store, audit. The caller learns only "accepted", "rejected"
 * or "locked"; why a code failed goes to the audit trail, never back to a possible attacker. An unknown
 * credential or user answers "rejected" like a wrong code (no enumeration oracle). Codes are one-time (a
 * counter, time step or ATC at or before the last accepted one is refused, RFC 4226 §7.2); the 5th consecutive
 * failure locks the credential, or its user; every decision is one atomic store operation, exact under any
 * concurrency and across processes sharing a store.
 *
 * @example
 * ```ts
 * import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
 *
 * const verifier = new Verifier({
 *   store: new MemoryStore(), // or SqliteStore, PostgresStore: @capkit/verify/sqlite, /postgres
 *   keys: SoftwareKeyProvider.fromEnv(), // CAPKIT_KEYS={"masterKey":"<64 hex digits>"}
 * });
 * // An SGpass-style TOTP token (RFC 6238), its secret as bytes: sealed by the key provider.
 * await verifier.enroll({ id: "alice-token", user: "alice", kind: "totp", secret });
 * // A Sésame card, by its issuer record (@capkit/emv-cap's CapIssuerRecord).
 * await verifier.enroll({ id: "alice-card", user: "alice", kind: "cap", record });
 *
 * await verifier.verify({ id: "alice-card", code: "1234 5678" });
 * // { result: "accepted", counter: 42, offset: 0, credential: "alice-card" }
 * await verifier.verify({ user: "alice", code: "000000" });
 * // { result: "rejected", triesLeft: 4 }: counted; the 5th failure answers { result: "locked" }
 * await verifier.verify({ id: "alice-card", code: "1234 5678" }); // the same code again, just accepted:
 * // { result: "rejected", replayed: true }: not counted
 *
 * const ch = await verifier.issueChallenge("alice-card", "respond"); // 8 digits, single use, 120 s
 * await verifier.verify({ id: "alice-card", code, function: "respond", challengeId: ch.challengeId });
 * ```
 */
export class Verifier {
  /** The policy in force: the defaults with `VerifierOptions.policy` applied. */
  readonly policy: Policy;
  readonly #store: StateStore;
  readonly #keys: KeyProvider;
  readonly #now: () => number;
  /** The time TOTP and OCRA codes are judged at: a steady clock unless `now` is given (src/clock.ts). */
  readonly #codeNow: () => number;
  readonly #throttle: Throttle | undefined;
  readonly #rule: LockoutRule;
  readonly #gate: SubjectGate;
  /** Credential definitions and their engines by id, as last seen (src/credential-cache.ts). */
  readonly #cache: CredentialCache;
  /** Locks lifted, disable and enable, revoke, status (src/lifecycle.ts). */
  readonly #lifecycle: Lifecycle;

  /**
   * @param options - the store, the key provider, and optionally the policy, clock, cache size, throttle, actor
   * @throws `INPUT_INVALID` naming the option that is wrong (a store or key provider missing its methods, a
   *   policy field out of range, an unknown field)
   */
  constructor(options: VerifierOptions) {
    checkFields(options, "the verifier options", OPTION_FIELDS);
    for (const [name, methods] of [
      ["store", ["get", "accept", "fail"]],
      ["keys", ["seal", "hmac", "cryptogram"]],
    ] as const) {
      const v = options[name] as unknown as Record<string, unknown> | undefined;
      if (typeof v !== "object" || v === null || methods.some((m) => typeof v[m] !== "function"))
        throw invalid(`options.${name} is a ${name === "store" ? "StateStore" : "KeyProvider"}`);
    }
    if (options.now !== undefined && typeof options.now !== "function")
      throw invalid("options.now is a function returning ms since the epoch");
    if (options.actor !== undefined) checkSource(options.actor, "the actor");
    this.#store = options.actor === undefined ? options.store : withActor(options.store, options.actor);
    this.#keys = options.keys;
    this.policy = policyWith(options.policy);
    this.#now = options.now ?? Date.now;
    this.#codeNow = options.now ?? steadyClock();
    if (options.throttle !== undefined && typeof options.throttle !== "function")
      throw invalid("options.throttle is a function (sourceThrottle makes one)");
    this.#throttle = options.throttle;
    this.#cache = new CredentialCache(
      this.#store,
      this.#keys,
      integerOr(options.cacheSize, 10_000, 1, 10_000_000, "options.cacheSize"),
    );
    this.#rule = { maxFailures: this.policy.maxFailures, releaseMs: this.policy.lockoutReleaseMs };
    this.#lifecycle = new Lifecycle({
      store: this.#store,
      cache: this.#cache,
      rule: this.#rule,
      now: this.#now,
      entry: (...a) => this.#entry(...a),
    });
    this.#gate = new SubjectGate(
      integerOr(options.subjectWaitMs, 10_000, 0, 600_000, "options.subjectWaitMs"),
    );
  }

  /**
   * Registers a user who has no credential yet — a customer with a password only — so that the failures of
   * `checkFactor` are counted on that user for good (an id nobody registered is counted too, in the bounded
   * table of unknown subjects, from which the oldest are dropped). Enrolling a credential with
   * `user` registers its user as well. Idempotent.
   */
  async addUser(user: string): Promise<void> {
    checkId(user, "a user id");
    await this.#store.addUser(user, this.#entry("", "user", "ok", user));
  }

  /**
   * The outcome of a factor the application checked itself — a password after scrypt, a letter code — counted
   * in the same failure count and lockout as the user's codes: `ok` false is a failure (the 5th locks), `ok`
   * true clears the count unless the user is locked (then "locked", nothing changed). An unknown user is
   * counted and locked like a known one. Audited with the factor's name, never its value.
   *
   * @example
   * ```ts
   * const ok = await checkPassword(user, password); // the application's own check (scrypt…)
   * const r = await verifier.checkFactor({ user: "alice", factor: "password", ok, source: request.ip });
   * if (r.result !== "accepted") refuse(r.triesLeft); // "locked" refuses a right password too
   * ```
   */
  async checkFactor(req: FactorRequest): Promise<FactorResult> {
    checkFields(req, "a factor request", FACTOR_FIELDS);
    checkId(req.user, "a user id");
    if (typeof req.factor !== "string" || !FACTOR.test(req.factor))
      throw new CapkitError("INPUT_INVALID", "a factor is named by 1–32 letters, digits or . : + - _");
    if (typeof req.ok !== "boolean") throw new CapkitError("INPUT_INVALID", "ok is true or false");
    checkSource(req.source);
    const { user, factor, ok } = req;
    await this.#throttled(req.source, "factor", undefined, user);
    return this.#gate.run(subjectKey({ user }), async () => {
      const audit = this.#entry("", "factor", ok ? "accepted" : "rejected", user, { detail: factor });
      if (ok) {
        const s = await this.#store.succeed({ user }, this.#rule, audit);
        return { result: s.locked ? "locked" : "accepted" };
      }
      return this.#counted((await this.#store.fail({ user }, this.#rule, audit)) as Counted);
    });
  }

  /**
   * Enrols a credential: its parameters checked and frozen (the windows from the policy now), its secret, test
   * key or card number sealed by the key provider, and an audit entry — nothing in clear in the store.
   *
   * @param options - `replaces`: the id of the credential this one replaces (see `replace`)
   * @throws `CREDENTIAL_INVALID` for a request no kind accepts (naming what is wrong), `CREDENTIAL_EXISTS` when
   *   the id is taken, `OTP_SECRET_TOO_SHORT` for a secret under 128 bits (RFC 4226 §4 R6)
   */
  async enroll(req: EnrollRequest, options: { replaces?: string } = {}): Promise<void> {
    if (!isRecord(req)) throw invalid("an enrolment request is an object");
    checkOptions(options, "the enrolment options", ["replaces"]);
    const { credential, audit } = await this[PREPARE_ENROLMENT](req, options);
    await this.#store.enroll(credential, audit);
    this.#cache.delete(req.id);
  }

  /**
   * The credential `enroll` writes, and its audit row, without writing them (src/internal.ts): the Provisioner
   * enrols an in-app token as `pending` in the same transaction as the activation step that binds it.
   *
   * @internal
   */
  async [PREPARE_ENROLMENT](
    req: EnrollRequest,
    options: { replaces?: string; state?: "pending" } = {},
  ): Promise<{ credential: StoredCredential; audit: AuditEntry }> {
    checkId(req.id, "a credential id", "CREDENTIAL_INVALID");
    if (req.user !== undefined) checkId(req.user, "a user id", "CREDENTIAL_INVALID");
    if (options.replaces !== undefined) checkId(options.replaces, "the id it replaces");
    const rules = typeof req.kind === "string" ? own(KINDS, req.kind) : undefined;
    if (!rules)
      throw new CapkitError(
        "CREDENTIAL_INVALID",
        `the credential kind is one of ${Object.keys(KINDS).join(", ")}`,
      );
    const e = await rules.enroll(req, { id: req.id, keys: this.#keys, policy: this.policy });
    const now = this.#now();
    const state = options.state ?? "active";
    return {
      credential: {
        id: req.id,
        params: e.params,
        sealed: e.sealed,
        last: e.last,
        failures: 0,
        locked: false,
        lockedAt: undefined,
        createdAt: now,
        state,
        user: req.user,
        drift: undefined,
        replaces: options.replaces,
        acceptedAt: undefined,
        acceptedDigest: undefined,
        acceptedRequest: undefined,
        version: newVersion(),
      },
      audit: this.#entry(req.id, "enroll", "ok", req.user, {
        detail: state === "pending" ? `${req.kind}, pending` : req.kind,
      }),
    };
  }

  /**
   * A replacement card or token: enrolled for the same user, both valid during the changeover; the first code
   * accepted from the new one revokes the old (or revoke it explicitly).
   */
  async replace(oldId: string, req: EnrollRequest): Promise<void> {
    checkId(oldId, "the id of the credential replaced");
    if (!isRecord(req)) throw invalid("an enrolment request is an object");
    if (req.user !== undefined) checkId(req.user, "a user id", "CREDENTIAL_INVALID");
    const old = await this.#lifecycle.known(oldId);
    if (req.user !== undefined && req.user !== old.user)
      throw new CapkitError(
        "INPUT_INVALID",
        "a replacement belongs to the user of the credential it replaces",
      );
    await this.enroll({ ...req, ...(old.user !== undefined ? { user: old.user } : {}) } as EnrollRequest, {
      replaces: oldId,
    });
  }

  /**
   * Judges a code. Attempts on one lockout subject (the credential's user, or the credential) are decided one
   * at a time, in the order they came; every attempt does the same work — the same store operations, the same
   * MACs — whether the id exists, its subject is locked or the code is right (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6).
   */
  verify(req: VerifyRequest): Promise<VerifyResult> {
    try {
      checkVerifyRequest(req);
    } catch (e) {
      return Promise.reject(e);
    }
    // The common case — an id in the cache, no throttle to ask — goes to its subject's turn with no promise of
    // its own (an async function returning the gate's promise would add one, and two turns of the event loop's
    // microtask queue, to every verification).
    const e = req.source === undefined && req.id !== undefined ? this.#cache.get(req.id) : undefined;
    if (e) return this.#gate.run(e.subject, () => this.#verifyId(req.id!, e, req));
    return this.#verifyAsking(req);
  }

  /** `verify` when the throttle is asked, the id is not cached yet, or a user is named. */
  async #verifyAsking(req: VerifyRequest): Promise<VerifyResult> {
    await this.#throttled(req.source, "verify", req.id, req.user);
    if (req.user !== undefined) {
      const user = req.user;
      return this.#gate.run(subjectKey({ user }), () => this.#verifyUser(user, req));
    }
    const id = req.id!;
    const e = this.#cache.get(id) ?? (await this.#cache.cached(id));
    return this.#gate.run(e.subject, () => this.#verifyId(id, e, req));
  }

  /** `bound`: the challenge an operation derives (src/verifier-internals.ts), instead of a server-issued one. */
  #verifyId(id: string, cached: Cached, req: VerifyRequest, bound?: string): Promise<VerifyResult> {
    const now = this.#now();
    // The one read while this attempt waited its turn, if the one before it read the credential afresh.
    const e = this.#cache.get(id) ?? cached;
    const fn: CodeFunction = req.function ?? rulesOf(e.c.params.kind).defaultFunction;
    const code = digitsOf(req.code);
    if (code === undefined) return this.#judgeId(e, req, fn, code, now, "not a number", undefined);
    if (bound !== undefined) return this.#judgeId(e, req, fn, code, now, undefined, bound);
    if (fn === "respond" || fn === "sign" || fn === "ocra")
      return this.#verifyChallenged(e, req, fn, code, now);
    const refusal = req.challengeId !== undefined ? "a challenge given to a function without one" : undefined;
    return this.#judgeId(e, req, fn, code, now, refusal, undefined);
  }

  /** A code that answers a server-issued challenge: the challenge is consumed by any attempt, right or wrong. */
  async #verifyChallenged(
    e: Cached,
    req: VerifyRequest,
    fn: Exclude<CodeFunction, "identify">,
    code: string,
    now: number,
  ): Promise<VerifyResult> {
    const ch = req.challengeId
      ? await this.#store.takeChallenge(req.challengeId, e.c.id, fn, now)
      : undefined;
    if (ch) return this.#judgeId(e, req, fn, code, now, undefined, ch.value);
    const refusal = req.challengeId
      ? "challenge unknown, used, expired or for another function"
      : "no challenge";
    // Judged all the same, against a stand-in of the same format: an unknown id's challenges are never
    // stored, and the work must not tell it from a known id's.
    return this.#judgeId(e, req, fn, code, now, refusal, standInChallenge(e.c, fn));
  }

  /** Judges and decides a code for one credential; `refusal` (if any) is the answer whatever the match. */
  #judgeId(
    e: Cached,
    req: VerifyRequest,
    fn: CodeFunction,
    code: string | undefined,
    now: number,
    refusal: string | undefined,
    challenge: string | undefined,
  ): Promise<VerifyResult> {
    const attempt = attemptOf(req, fn, code ?? "", this.#timeFor(e.c), challenge);
    return this.#decide(
      e,
      "verify",
      now,
      PREFIX[fn] ?? `${fn}: `,
      (x) => {
        const m = this.#match(x, attempt);
        return refusal ?? m ?? "no match";
      },
      probeOf(req, fn, code),
    );
  }

  /**
   * verify({ user }): every active credential of the user is tried; one failure count and lockout per user.
   * An unknown user, or one with no active credential, is judged against the decoy (see `Cached.absent`).
   */
  async #verifyUser(user: string, req: VerifyRequest): Promise<VerifyResult> {
    const fn: CodeFunction = req.function ?? "identify";
    const code = digitsOf(req.code);
    const refusal = code === undefined ? "not a number" : undefined; // the door refused any other function
    const probe = probeOf(req, fn, code);
    for (let tries = 0; ; tries++) {
      const now = this.#now();
      const attempt = attemptOf(req, fn, code ?? "", this.#codeNow(), undefined);
      const all = await this.#store.list({ user, limit: MAX_USER_CREDENTIALS });
      const active: Cached[] = [];
      // Pending credentials too: an in-app token's first accepted code activates it.
      for (const c of all) if (c.state !== "disabled") active.push(await this.#cache.fresh(c));
      let hit: { e: Cached; m: Match } | undefined;
      // No credential to judge: the decoy, cached under a key no id can take (ids have no NUL).
      const judged = active.length > 0 ? active : [await this.#cache.absent(`\0user:${user}`)];
      for (const e of judged) {
        const m = this.#match(e, attempt); // every credential is tried: no early return on a hit
        if (m && !hit && !refusal && !e.absent) hit = { e, m };
      }
      const prefix = `${fn}: `;
      if (hit) {
        const outcome = await this.#accept(hit.e, hit.e.c.version, "verify", now, prefix, hit.m, probe);
        const r = this.#accepted(hit.e, outcome, now, hit.m, probe);
        if (r !== "again") return r;
        if (tries === 0) continue; // another server moved a credential on: judged again on a fresh list
      }
      const replays = judged.filter((e) => this.#isReplay(e, probe, now)); // each one asked: the same work
      if (replays[0]) return this.#replayed(replays[0].c, "verify", now, prefix, probe);
      const why =
        refusal ?? (hit ? "stale counter or changed credential" : `no match on ${all.length} credential(s)`);
      const s = await this.#store.fail(
        { user },
        this.#rule,
        this.#entry("", "verify", all.length > 0 ? "rejected" : "unknown", user, { detail: prefix + why }),
      );
      return this.#counted(s as Counted);
    }
  }

  #match(e: Cached, attempt: Attempt): Match | undefined {
    return rulesOf(e.c.params.kind).match(e.engine, e.c, attempt, this.policy);
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
    probe: ReplayProbe,
  ): Promise<VerifyResult> {
    const id = e.c.id;
    for (let tries = 0; ; tries++) {
      const c = e.c;
      // What the code is judged on, taken with the judgement (no await between). Judged whatever the state —
      // locked, disabled, an unknown id's decoy — so that the work never tells the state or the right code;
      // the store then refuses what must be refused, and counts it.
      const { version, last } = c;
      const verdict = judge(e);
      // Locked as this process last saw it: the code, right or wrong, goes the way of a failure — the same
      // store operation either way — counted only if the store still finds it locked (else judged again).
      const locked = isLocked(c, this.#rule, now) && !e.absent; // read for a decoy too: the same work
      let why: string;
      if (e.absent) why = "unknown credential";
      else if (locked) why = "locked";
      else if (typeof verdict === "string") why = verdict;
      else {
        const outcome = await this.#accept(e, version, action, now, prefix, verdict, probe);
        const r = this.#accepted(e, outcome, now, verdict, probe);
        if (r !== "again") return r;
        if (tries > 0) return this.#changed(c, action, now, prefix, "a stale counter");
        // Another server accepted a code or changed the credential: judged again on a fresh read.
        e = await this.#cache.load(id);
        continue;
      }
      if (this.#isReplay(e, probe, now)) return this.#replayed(c, action, now, prefix, probe);
      const subject: FailureSubject = c.user !== undefined ? { user: c.user } : { credential: id };
      const expected: FailExpectation = e.absent
        ? { credential: id, absent: true }
        : locked
          ? { credential: id, version, last, locked }
          : { credential: id, version, last };
      const s = await this.#store.fail(
        subject,
        this.#rule,
        {
          at: now,
          credentialId: id,
          action,
          result: e.absent ? "unknown" : "rejected",
          detail: prefix + why,
          ...(c.user !== undefined ? { user: c.user } : {}),
        },
        expected,
      );
      if (s !== "changed") {
        if (s.locked && !c.locked) c.lockedAt = now;
        c.failures = s.failures;
        c.locked = s.locked;
        return this.#counted(s);
      }
      if (tries > 0) return this.#changed(c, action, now, prefix, why);
      e = await this.#cache.load(id);
    }
  }

  /** Changed again between a fresh read and its decision: answered, not counted, left in the audit. */
  async #changed(
    c: StoredCredential,
    action: AuditAction,
    now: number,
    prefix: string,
    why: string,
  ): Promise<VerifyResult> {
    await this.#store.record({
      at: now,
      credentialId: c.id,
      action,
      result: "rejected",
      detail: `${prefix}${why}; the credential changed during verification`,
      ...(c.user !== undefined ? { user: c.user } : {}),
    });
    return { result: "rejected" };
  }

  /** The same request as the one just accepted (policy.replayWindowMs). */
  #isReplay(e: Cached, probe: ReplayProbe, now: number): boolean {
    const c = e.c;
    const digest = replayDigest(c.id, c.last, probe); // made on every failure: the same work either way
    const same = e.accepted ? sameRequest(e.accepted, probe) : sameDigest(digest, c.acceptedDigest);
    return same && c.acceptedAt !== undefined && Math.abs(now - c.acceptedAt) <= this.policy.replayWindowMs;
  }

  /**
   * A replay: not counted. The retry of an accept that carries the accept's `requestId` gets the accept again
   * (its answer was lost: a STORE_UNAVAILABLE after the commit, a proxy timing out); without it, "rejected"
   * with `replayed` — one-time use holds either way.
   */
  async #replayed(
    c: StoredCredential,
    action: AuditAction,
    now: number,
    prefix: string,
    probe: ReplayProbe,
  ): Promise<VerifyResult> {
    const again = probe.request !== undefined && probe.request === c.acceptedRequest;
    await this.#store.record({
      at: now,
      credentialId: c.id,
      action,
      result: again ? "accepted" : "replayed",
      counter: c.last,
      detail: `${prefix}${again ? `the retry of request ${probe.request}` : "the code just accepted, again"}`,
      ...(c.user !== undefined ? { user: c.user } : {}),
    });
    if (again) return { result: "accepted", counter: c.last, credential: c.user && c.id };
    return c.locked ? { result: "locked" } : { result: "rejected", replayed: true };
  }

  /** The answer to a counted failure. */
  #counted(s: Counted): VerifyResult {
    return s.locked
      ? { result: "locked" }
      : { result: "rejected", triesLeft: Math.max(0, this.#rule.maxFailures - s.failures) };
  }

  /** Refuses the attempt when the throttle says its source must wait (nothing tried, nothing counted). */
  async #throttled(
    source: string | undefined,
    action: ThrottleRequest["action"],
    id: string | undefined,
    user: string | undefined,
  ): Promise<void> {
    if (source === undefined || !this.#throttle) return;
    const wait = await this.#throttle({ source, action, id, user });
    if (wait !== undefined && wait > 0)
      throw new CapkitError("RATE_LIMITED", `too many attempts from ${source}`, {
        hint: `nothing was tried; retry in ${Math.ceil(wait / 1000)} s`,
        details: { retryAfterMs: Math.ceil(wait) },
      });
  }

  /** The time a code of this kind is judged at: read only for the kinds whose codes depend on it. */
  #timeFor(c: StoredCredential): number {
    return c.params.kind === "totp" || c.params.kind === "ocra" ? this.#codeNow() : 0;
  }

  /** The conditional accept, at the version the code was judged on; its answer is read by `#accepted`. */
  #accept(
    e: Cached,
    version: number,
    action: "verify" | "resync",
    now: number,
    prefix: string,
    m: Match,
    probe: ReplayProbe,
  ): Promise<AcceptOutcome> {
    const c = e.c;
    return this.#store.accept(
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
      {
        version,
        user: c.user,
        drift: m.drift,
        probe,
        rule: this.#rule,
        refusedDetail: REFUSED[prefix] ?? `${prefix}${REFUSED[""]}`,
        activates: c.state === "pending" || c.replaces !== undefined,
      },
    );
  }

  /**
   * What the store's answer to `#accept` means here (apart so that the caller awaits the store itself: no
   * promise of its own per accept, on the verification's hot path). "again" when the store refused it without
   * counting (another server accepted a code or changed the credential): the caller judges again on a fresh
   * read. A refusal the store counted — the subject locked, the credential disabled — is the answer as it
   * stands.
   */
  #accepted(
    e: Cached,
    outcome: AcceptOutcome,
    now: number,
    m: Match,
    probe: ReplayProbe,
  ): VerifyResult | "again" {
    const c = e.c;
    if (outcome === "stale" || outcome === "changed") return "again";
    if (outcome !== "accepted") {
      c.failures = outcome.failures;
      c.locked = outcome.locked;
      return this.#counted(outcome);
    }
    if (m.counter > c.last) {
      c.last = m.counter;
      c.failures = 0;
      c.locked = false;
      c.acceptedAt = now;
      c.acceptedDigest = undefined;
      c.acceptedRequest = probe.request;
      e.accepted = probe;
      if (m.drift !== undefined) c.drift = m.drift;
    }
    // A pending credential is now active; the one it replaced was revoked in the same write (its audit trail
    // stays): src/stores/activation.ts.
    if (c.state === "pending") c.state = "active";
    if (c.replaces !== undefined) {
      this.#cache.delete(c.replaces);
      c.replaces = undefined;
    }
    return { result: "accepted", counter: m.counter, offset: m.offset, credential: c.user && c.id };
  }

  /**
   * A challenge from the CSPRNG for one credential and one function; never 0, single use, expiring. For an
   * unknown id the answer looks the same (the code sent back will be rejected).
   */
  async issueChallenge(
    id: string,
    fn: Exclude<CodeFunction, "identify">,
    options: { source?: string } = {},
  ): Promise<{ challengeId: string; challenge: string; expiresAt: number }> {
    checkId(id, "the credential id");
    checkChallengeFunction(fn);
    checkOptions(options, "the challenge options", ["source"]);
    checkSource(options.source);
    await this.#throttled(options.source, "challenge", id, undefined);
    const now = this.#now();
    const expiresAt = now + this.policy.challengeTtlMs;
    const e = this.#cache.get(id) ?? (await this.#cache.cached(id));
    const c = e.c;
    // For an unknown id, the decoy's kind makes the value: the same format as a known id's.
    const value = rulesOf(c.params.kind).challenge(c.params, fn);
    if (e.absent) {
      await this.#store.record(this.#entry(id, "challenge", "unknown", undefined, { detail: fn }));
      return { challengeId: randomBytes(16).toString("hex"), challenge: value, expiresAt };
    }
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
  async resync(
    id: string,
    code1: string,
    code2: string,
    options: { source?: string } = {},
  ): Promise<VerifyResult> {
    checkId(id, "the credential id");
    checkCode(code1, "the first code");
    checkCode(code2, "the second code");
    checkOptions(options, "the resync options", ["source"]);
    checkSource(options.source);
    await this.#throttled(options.source, "resync", id, undefined);
    const loaded = await this.#cache.load(id); // a rare operation: decided on a fresh read
    return this.#gate.run(loaded.subject, () => {
      const e = this.#cache.get(id) ?? loaded;
      const resync = rulesOf(e.c.params.kind).resync;
      if (!resync) {
        throw new CapkitError(
          "INPUT_INVALID",
          `${e.c.params.kind} credentials do not resynchronise (time-based or challenge-based)`,
        );
      }
      const a1 = digitsOf(code1);
      const a2 = digitsOf(code2);
      const probe: ReplayProbe = { fn: "resync", code: `${a1 ?? ""},${a2 ?? ""}` };
      return this.#decide(
        e,
        "resync",
        this.#now(),
        "",
        (x) => {
          if (a1 === undefined || a2 === undefined) return "not a number";
          const found = resync(x.engine, x.c, a1, a2, this.policy.resyncWindow);
          if (found === undefined) return "no two consecutive codes found";
          return { counter: found, offset: found - x.c.last - 1 };
        },
        probe,
      );
    });
  }

  /** Lifts a credential's lock and clears its count (an administrator's act, audited). */
  unlock(id: string): Promise<void> {
    return this.#lifecycle.unlock(id);
  }

  /** Lifts a user's lock and clears its count (an administrator's act, audited). */
  unlockUser(user: string): Promise<void> {
    return this.#lifecycle.unlockUser(user);
  }

  /** Disabled credentials answer "rejected" to every code (audited as disabled) until enabled again. */
  disable(id: string): Promise<void> {
    return this.#lifecycle.setState(id, "disabled");
  }

  /** Enables a disabled credential again (audited). */
  enable(id: string): Promise<void> {
    return this.#lifecycle.setState(id, "active");
  }

  /** The credential's state and keys are deleted; its audit trail stays. */
  revoke(id: string): Promise<void> {
    return this.#lifecycle.revoke(id);
  }

  /** A credential's state, with its lockout subject's count and lock (its user's, for a user's credential). */
  status(id: string): Promise<CredentialStatus> {
    return this.#lifecycle.status(id);
  }

  /** A user's count and lock, and its credentials; `CREDENTIAL_UNKNOWN` for a user nobody registered. */
  userStatus(user: string): Promise<UserStatus> {
    return this.#lifecycle.userStatus(user);
  }

  /** Credentials in id order, a page at a time: pass the returned `next` as `after` for the next page. */
  list(
    options: { after?: string; limit?: number; user?: string } = {},
  ): Promise<{ credentials: CredentialStatus[]; next?: string }> {
    return this.#lifecycle.list(options);
  }

  /**
   * The newest `limit` audit entries (default 100, at most 100,000), oldest first, about a credential or user
   * id, or about anything: what support reads. `auditTrail` pages through the whole trail.
   */
  async audit(id?: string, limit?: number): Promise<AuditEntry[]> {
    if (id !== undefined) checkId(id, "the credential or user id");
    return this.#store.audit(id, integerOr(limit, 100, 1, 100_000, "the number of entries (limit)"));
  }

  /** The audit trail in store order, a page at a time (`after`: the last seq of the previous page), filtered. */
  async auditTrail(q: Partial<AuditQuery> = {}): Promise<ChainedAuditEntry[]> {
    checkAuditQuery(q);
    return this.#store.auditTrail({
      ...q,
      limit: integerOr(q.limit, 1000, 1, 10_000, "the page size (limit)"),
    });
  }

  /** Signs a checkpoint of the audit trail (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.2); run it periodically (`maintainAudit`). */
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
  async pruneAudit(
    before: Date | number | { before?: Date | number; maxRows?: number; maxBytes?: number },
  ): Promise<number> {
    const bounds =
      typeof before === "object" && before !== null && !(before instanceof Date) ? before : { before };
    checkOptions(bounds, "pruneAudit's bounds", ["before", "maxRows", "maxBytes"]);
    if (bounds.before === undefined && bounds.maxRows === undefined && bounds.maxBytes === undefined)
      throw invalid("pruneAudit's bounds name a date (before), maxRows or maxBytes: nothing would be pruned");
    const at = bounds.before === undefined ? undefined : checkTime(bounds.before, "pruneAudit's date");
    if (bounds.maxRows !== undefined) integerIn(bounds.maxRows, 0, Number.MAX_SAFE_INTEGER, "maxRows");
    if (bounds.maxBytes !== undefined) integerIn(bounds.maxBytes, 0, Number.MAX_SAFE_INTEGER, "maxBytes");
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
    checkFields(retention, "the audit retention", new Set(["days", "maxRows", "maxBytes"]));
    integerIn(retention.days, 1, 36_500, "retention.days");
    integerIn(retention.maxRows, 1, Number.MAX_SAFE_INTEGER, "retention.maxRows");
    integerIn(retention.maxBytes, 1, Number.MAX_SAFE_INTEGER, "retention.maxBytes");
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
   * (src/rekey.ts, https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.1). Run it after giving every verifier the new key with the old one
   * as previous; afterwards remove the old key, and what was sealed under it is refused.
   */
  async rekey(options: Omit<RekeyOptions, "now"> = {}): Promise<RekeyReport> {
    checkOptions(options, "the rekey options", ["actor", "pageSize", "onProgress"]);
    if (options.actor !== undefined) checkSource(options.actor, "the actor");
    if (options.pageSize !== undefined) integerIn(options.pageSize, 1, 10_000, "pageSize");
    if (options.onProgress !== undefined && typeof options.onProgress !== "function")
      throw invalid("onProgress is a function");
    return rekeyCredentials(this.#store, this.#keys, { ...options, now: this.#now });
  }

  /**
   * The approvals' door (src/verifier-internals.ts): not part of the public API.
   *
   * @internal
   */
  [VERIFIER_INTERNALS](): VerifierInternals {
    return {
      credential: (id) => this.#store.get(id),
      verifyBound: async (id, b) => {
        const req: VerifyRequest = {
          id,
          code: b.code,
          function: b.function,
          challengeId: b.bindsTo,
          ...(b.amount !== undefined ? { amount: b.amount } : {}),
          ...(b.currency !== undefined ? { currency: b.currency } : {}),
        };
        const e = this.#cache.get(id) ?? (await this.#cache.cached(id));
        return this.#gate.run(e.subject, () => this.#verifyId(id, e, req, b.challenge));
      },
    };
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
  const byOffset = ACCEPTED_DETAILS.get(prefix); // the known prefixes only: no growth from odd input
  if (m.drift !== undefined || m.offset < 0 || m.offset >= 16 || !byOffset) return detailOf(prefix, m);
  byOffset[m.offset] ??= detailOf(prefix, m);
  return byOffset[m.offset]!;
}

function detailOf(prefix: string, m: Match): string {
  return `${prefix}ok, offset ${m.offset}${m.drift !== undefined ? `, drift ${m.drift}` : ""}`;
}

/** The audit detail of a right code refused (the subject locked, the credential disabled), by prefix. */
const REFUSED: Record<string, string> = Object.fromEntries(
  [...Object.values(PREFIX), ""].map((p) => [p, `${p}locked or disabled`]),
);

const ACCEPTED_DETAILS = new Map<string, string[]>([...Object.values(PREFIX), ""].map((p) => [p, []]));

function probeOf(req: VerifyRequest, fn: CodeFunction, code: string | undefined): ReplayProbe {
  return {
    fn,
    code: code ?? "",
    challengeId: req.challengeId,
    amount: req.amount,
    currency: req.currency,
    tds: req.tds,
    request: req.requestId,
  };
}

/** A challenge value of the format `fn` has for this credential's kind; none if the kind has no `fn`. */
function standInChallenge(c: StoredCredential, fn: Exclude<CodeFunction, "identify">): string | undefined {
  try {
    return rulesOf(c.params.kind).challenge(c.params, fn);
  } catch (e) {
    if (isCapkitError(e, "INPUT_INVALID")) return undefined;
    throw e;
  }
}

const FACTOR = /^[\w.:+-]{1,32}$/;

/** The code as typed, spaces removed; undefined when it is not 1–20 digits. */
function digitsOf(code: string): string | undefined {
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
