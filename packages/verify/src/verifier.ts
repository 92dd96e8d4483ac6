import { randomBytes, randomInt } from "node:crypto";
import { CapkitError } from "@capkit/core";
import {
  CapCodeModel,
  type CapInputs,
  type CapIssuerRecord,
  parseCapIssuerRecord,
  readerProfile,
} from "@capkit/emv-cap";
import {
  checkDigits,
  HmacKey,
  HotpGenerator,
  matchHotp,
  matchTotp,
  type OathAlgorithm,
  Ocra,
  type OcraSuite,
  parseOcraSuite,
  totpStep,
} from "@capkit/oath";
import { type AtcBitMap, atcBitMap, atcConstraint, candidateAtcs } from "./cap-candidates.js";
import type { KeyProvider } from "./key-provider.js";
import type { AuditEntry, CodeFunction, CredentialParams, StateStore, StoredCredential } from "./model.js";
import { DEFAULT_POLICY, type Policy } from "./policy.js";

export type EnrollRequest = { readonly id: string } & (
  | {
      readonly kind: "cap";
      readonly record: CapIssuerRecord;
      readonly lastAtc?: number;
      readonly atcWindow?: number;
    }
  | {
      readonly kind: "hotp";
      readonly secret: Uint8Array;
      readonly algorithm?: OathAlgorithm;
      readonly digits?: number;
      /** The next counter the token will use. */
      readonly counter?: number;
      readonly lookAhead?: number;
      readonly allowShortSecret?: boolean;
    }
  | {
      readonly kind: "totp";
      readonly secret: Uint8Array;
      readonly algorithm?: OathAlgorithm;
      readonly digits?: number;
      readonly step?: number;
      readonly t0?: number;
      readonly allowShortSecret?: boolean;
    }
  | {
      readonly kind: "ocra";
      readonly secret: Uint8Array;
      readonly suite: string;
      readonly allowShortSecret?: boolean;
    }
);

export interface VerifyRequest {
  readonly id: string;
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
}

export interface CredentialStatus {
  readonly id: string;
  readonly kind: CredentialParams["kind"];
  readonly last: number;
  readonly failures: number;
  readonly locked: boolean;
  readonly createdAt: number;
}

export interface VerifierOptions {
  readonly store: StateStore;
  readonly keys: KeyProvider;
  readonly policy?: Partial<Policy>;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

type Engine =
  | {
      readonly kind: "cap";
      readonly model: CapCodeModel;
      readonly atcBits: AtcBitMap;
      readonly identify: Map<string, (atc: number) => number>;
    }
  | { readonly kind: "hotp" | "totp"; readonly gen: HotpGenerator }
  | { readonly kind: "ocra"; readonly ocra: Ocra; readonly suite: OcraSuite };

const MAX_CACHED = 10_000;

/**
 * One verifier for Sésame/CAP codes and SGpass/OATH codes (design §6). It decides accept/reject from the
 * credential, the policy and the state store; the caller learns only "accepted", "rejected" or "locked" —
 * why a code failed goes to the audit trail, never back to a possible attacker.
 */
export class Verifier {
  readonly policy: Policy;
  readonly #store: StateStore;
  readonly #keys: KeyProvider;
  readonly #now: () => number;
  /** Keyed engines per credential (credentials never change after enrolment; only their state does). */
  readonly #engines = new Map<string, Engine>();

  constructor(options: VerifierOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    this.#now = options.now ?? Date.now;
  }

  async enroll(req: EnrollRequest): Promise<void> {
    if (typeof req.id !== "string" || !/^[\w.@:+-]{1,128}$/.test(req.id)) {
      throw new CapkitError("CREDENTIAL_INVALID", "a credential id is 1–128 letters, digits or . @ : + - _");
    }
    let params: CredentialParams;
    let sealed: string | undefined;
    let last = -1;
    const keyOptions = "allowShortSecret" in req && req.allowShortSecret ? { allowShortSecret: true } : {};
    switch (req.kind) {
      case "cap": {
        const record = parseCapIssuerRecord(req.record);
        readerProfile(record.profile);
        await this.#keys.iccMasterKey(record); // the key must be there before the card is accepted for use
        params = { kind: "cap", record, atcWindow: req.atcWindow ?? this.policy.capAtcWindow };
        last = req.lastAtc ?? -1;
        break;
      }
      case "hotp": {
        const algorithm = req.algorithm ?? "SHA1";
        const digits = req.digits ?? 6;
        checkDigits(digits);
        new HmacKey(req.secret, algorithm, keyOptions);
        params = { kind: "hotp", algorithm, digits, lookAhead: req.lookAhead ?? this.policy.hotpLookAhead };
        last = (req.counter ?? 0) - 1;
        break;
      }
      case "totp": {
        const algorithm = req.algorithm ?? "SHA1";
        const digits = req.digits ?? 6;
        checkDigits(digits);
        new HmacKey(req.secret, algorithm, keyOptions);
        params = {
          kind: "totp",
          algorithm,
          digits,
          step: req.step ?? 30,
          t0: req.t0 ?? 0,
          past: this.policy.totpPast,
          future: this.policy.totpFuture,
        };
        break;
      }
      case "ocra": {
        const suite = parseOcraSuite(req.suite);
        if (suite.pin || suite.session !== undefined) {
          throw new CapkitError(
            "CREDENTIAL_INVALID",
            "OCRA suites with a PIN or session data are not supported by the verifier",
          );
        }
        new Ocra(suite, req.secret, keyOptions);
        params = { kind: "ocra", suite: suite.text };
        break;
      }
      default:
        throw new CapkitError("CREDENTIAL_INVALID", "unknown credential kind");
    }
    if (req.kind !== "cap") sealed = await this.#keys.seal(req.id, req.secret);
    const now = this.#now();
    await this.#store.enroll(
      { id: req.id, params, sealed, last, failures: 0, locked: false, createdAt: now },
      { at: now, credentialId: req.id, action: "enroll", result: "ok", detail: req.kind },
    );
  }

  async #credential(id: string): Promise<StoredCredential> {
    const c = await this.#store.get(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return c;
  }

  async #engine(c: StoredCredential): Promise<Engine> {
    const cached = this.#engines.get(c.id);
    if (cached) return cached;
    const p = c.params;
    let engine: Engine;
    if (p.kind === "cap") {
      engine = {
        kind: "cap",
        model: new CapCodeModel(p.record, await this.#keys.iccMasterKey(p.record)),
        atcBits: atcBitMap(p.record.ipb, p.record.iaf),
        identify: new Map(),
      };
    } else {
      const secret = await this.#keys.unseal(c.id, c.sealed ?? "");
      const opts = { allowShortSecret: true }; // checked at enrolment
      if (p.kind === "ocra") {
        const ocra = new Ocra(p.suite, secret, opts);
        engine = { kind: "ocra", ocra, suite: ocra.suite };
      } else {
        engine = { kind: p.kind, gen: new HotpGenerator(new HmacKey(secret, p.algorithm, opts), p.digits) };
      }
      secret.fill(0);
    }
    if (this.#engines.size >= MAX_CACHED) this.#engines.delete(this.#engines.keys().next().value!);
    this.#engines.set(c.id, engine);
    return engine;
  }

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const c = await this.#credential(req.id);
    const now = this.#now();
    const fn: CodeFunction = req.function ?? (c.params.kind === "ocra" ? "ocra" : "identify");
    if (c.locked) return this.#reject(c.id, now, fn, "locked");
    const code = typeof req.code === "string" ? req.code.replace(/\s+/g, "") : "";
    if (!/^[0-9]{1,20}$/.test(code)) return this.#reject(c.id, now, fn, "not a number");

    // A server-issued challenge is consumed by any attempt, right or wrong: one guess per challenge.
    let challenge: string | undefined;
    if (fn === "respond" || fn === "sign" || fn === "ocra") {
      if (!req.challengeId) return this.#reject(c.id, now, fn, "no challenge");
      const ch = await this.#store.takeChallenge(req.challengeId, c.id, fn, now);
      if (!ch) return this.#reject(c.id, now, fn, "challenge unknown, used, expired or for another function");
      challenge = ch.value;
    } else if (req.challengeId !== undefined) {
      return this.#reject(c.id, now, fn, "a challenge given to a function without one");
    }

    const engine = await this.#engine(c);
    const match = this.#match(engine, c, fn, code, now, challenge, req);
    if (match === undefined) return this.#reject(c.id, now, fn, "no match");
    const outcome = await this.#store.accept(
      c.id,
      match.counter,
      verifyEntry(c.id, now, fn, "accepted", "ok", match.counter),
    );
    if (outcome === "accepted") return { result: "accepted", counter: match.counter, offset: match.offset };
    return this.#reject(c.id, now, fn, outcome === "stale" ? "replay or stale counter" : "locked");
  }

  /** Counts a failure; the caller learns only "rejected" or "locked", the audit trail learns why. */
  async #reject(id: string, now: number, fn: CodeFunction, why: string): Promise<VerifyResult> {
    const s = await this.#store.fail(id, this.policy.maxFailures, verifyEntry(id, now, fn, "rejected", why));
    return { result: s.locked ? "locked" : "rejected" };
  }

  #match(
    engine: Engine,
    c: StoredCredential,
    fn: CodeFunction,
    code: string,
    now: number,
    challenge: string | undefined,
    req: VerifyRequest,
  ): { counter: number; offset: number } | undefined {
    const p = c.params;
    if (engine.kind === "hotp" && p.kind === "hotp") {
      if (fn !== "identify") return undefined;
      const m = matchHotp(engine.gen, code, c.last + 1, p.lookAhead);
      return m && { counter: m.counter, offset: m.offset };
    }
    if (engine.kind === "totp" && p.kind === "totp") {
      if (fn !== "identify") return undefined;
      const m = matchTotp(engine.gen, code, now / 1000, {
        step: p.step,
        t0: p.t0,
        past: p.past,
        future: p.future,
        notBefore: c.last + 1, // only steps after the last accepted one: a used step never shadows a new one
      });
      return m && { counter: m.step, offset: m.offset };
    }
    if (engine.kind === "ocra" && challenge !== undefined) {
      const s = engine.suite;
      // Counter suites look ahead like HOTP; time suites accept the current step ±1; plain Q suites count uses.
      const counters = s.counter ? range(c.last + 1, c.last + 1 + this.policy.hotpLookAhead) : [c.last + 1];
      const times = s.timeStep ? [-1, 0, 1].map((d) => now / 1000 + d * s.timeStep!) : [undefined];
      let found: { counter: number; offset: number } | undefined;
      for (const counter of counters) {
        for (const time of times) {
          const r = engine.ocra.response({
            challenge,
            ...(s.counter ? { counter } : {}),
            ...(time !== undefined ? { time } : {}),
          });
          const hit = r.length === code.length && r === code;
          // The value recorded on acceptance: the time step for time-only suites, else the counter. Only
          // values after the last accepted one are candidates, so a used one never shadows a new match.
          const value = s.timeStep && !s.counter ? totpStep(time!, { step: s.timeStep }) : counter;
          if (hit && !found && value > c.last) found = { counter: value, offset: counter - c.last - 1 };
        }
      }
      return found;
    }
    if (engine.kind === "cap" && p.kind === "cap") {
      const inputs = capInputs(fn, challenge, req);
      if (!inputs) return undefined;
      const value = Number(code);
      if (!Number.isSafeInteger(value)) return undefined;
      const codeAt = this.#capFunction(engine, inputs);
      if (!codeAt) return undefined;
      const candidates = candidateAtcs(c.last, p.atcWindow, atcConstraint(engine.atcBits, value));
      let found = -1;
      for (const atc of candidates) {
        const hit = codeAt(atc) === value; // every candidate is computed: no early return
        found = found < 0 && hit ? atc : found;
      }
      return found < 0 ? undefined : { counter: found, offset: found - c.last - 1 };
    }
    return undefined;
  }

  #capFunction(
    engine: Extract<Engine, { kind: "cap" }>,
    inputs: CapInputs,
  ): ((atc: number) => number) | undefined {
    const key = inputs.mode === "identify" && !inputs.tds ? "identify" : undefined;
    const cached = key ? engine.identify.get(key) : undefined;
    if (cached) return cached;
    let f: (atc: number) => number;
    try {
      f = engine.model.forInputs(inputs);
    } catch (e) {
      if (e instanceof CapkitError) return undefined; // inputs this card cannot sign: a rejected code
      throw e;
    }
    if (key) engine.identify.set(key, f);
    return f;
  }

  /** A challenge from the CSPRNG for one credential and one function; never 0, single use, expiring. */
  async issueChallenge(
    id: string,
    fn: Exclude<CodeFunction, "identify">,
  ): Promise<{ challengeId: string; challenge: string; expiresAt: number }> {
    const c = await this.#credential(id);
    const p = c.params;
    if ((p.kind === "ocra") !== (fn === "ocra") || p.kind === "hotp" || p.kind === "totp") {
      throw new CapkitError("INPUT_INVALID", `credential ${id} (${p.kind}) has no ${fn} function`);
    }
    const value =
      p.kind === "ocra"
        ? ocraChallenge(parseOcraSuite(p.suite))
        : digitChallenge(readerProfile(p.record.profile).challengeMaxDigits);
    const now = this.#now();
    const challenge = {
      id: randomBytes(16).toString("hex"),
      credentialId: id,
      function: fn,
      value,
      expiresAt: now + this.policy.challengeTtlMs,
    };
    await this.#store.addChallenge(challenge, {
      at: now,
      credentialId: id,
      action: "challenge",
      result: "issued",
      detail: fn,
    });
    return { challengeId: challenge.id, challenge: value, expiresAt: challenge.expiresAt };
  }

  /**
   * Resynchronises a HOTP token or CAP card that ran ahead of the window: two consecutive codes (identify)
   * must match two consecutive counters within the resync window; then the second is the last accepted.
   */
  async resync(id: string, code1: string, code2: string): Promise<VerifyResult> {
    const c = await this.#credential(id);
    const now = this.#now();
    const p = c.params;
    const a1 = code1.replace(/\s+/g, "");
    const a2 = code2.replace(/\s+/g, "");
    const entry = (result: string, detail: string, counter?: number): AuditEntry => ({
      at: now,
      credentialId: id,
      action: "resync",
      result,
      detail,
      ...(counter === undefined ? {} : { counter }),
    });
    const fail = async (why: string): Promise<VerifyResult> => {
      const s = await this.#store.fail(id, this.policy.maxFailures, entry("rejected", why));
      return { result: s.locked ? "locked" : "rejected" };
    };
    if (c.locked) return fail("locked");
    if (!/^[0-9]{1,20}$/.test(a1) || !/^[0-9]{1,20}$/.test(a2)) return fail("not a number");
    const engine = await this.#engine(c);
    let found: number | undefined;
    if (engine.kind === "hotp" && p.kind === "hotp") {
      const first = matchHotp(engine.gen, a1, c.last + 1, this.policy.resyncWindow);
      if (first && matchHotp(engine.gen, a2, first.counter + 1, 0)) found = first.counter + 1;
    } else if (engine.kind === "cap" && p.kind === "cap") {
      const f = this.#capFunction(engine, { mode: "identify" })!;
      const v1 = Number(a1);
      const v2 = Number(a2);
      for (const atc of candidateAtcs(c.last, this.policy.resyncWindow, atcConstraint(engine.atcBits, v1))) {
        if (atc < 0xffff && f(atc) === v1 && f(atc + 1) === v2) {
          found = atc + 1;
          break;
        }
      }
    } else {
      throw new CapkitError(
        "INPUT_INVALID",
        `${p.kind} credentials do not resynchronise (time-based or challenge-based)`,
      );
    }
    if (found === undefined) return fail("no two consecutive codes found");
    const outcome = await this.#store.accept(id, found, entry("accepted", "ok", found));
    if (outcome === "accepted") return { result: "accepted", counter: found, offset: found - c.last - 1 };
    return fail(outcome === "stale" ? "stale" : "locked");
  }

  async unlock(id: string): Promise<void> {
    const ok = await this.#store.unlock(id, {
      at: this.#now(),
      credentialId: id,
      action: "unlock",
      result: "ok",
    });
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  async status(id: string): Promise<CredentialStatus> {
    const c = await this.#credential(id);
    return {
      id: c.id,
      kind: c.params.kind,
      last: c.last,
      failures: c.failures,
      locked: c.locked,
      createdAt: c.createdAt,
    };
  }

  audit(id?: string, limit?: number): Promise<AuditEntry[]> {
    return this.#store.audit(id, limit);
  }
}

function verifyEntry(
  id: string,
  now: number,
  fn: CodeFunction,
  result: string,
  detail: string,
  counter?: number,
): AuditEntry {
  return {
    at: now,
    credentialId: id,
    action: "verify",
    result,
    detail: `${fn}: ${detail}`,
    ...(counter === undefined ? {} : { counter }),
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function capInputs(
  fn: CodeFunction,
  challenge: string | undefined,
  req: VerifyRequest,
): CapInputs | undefined {
  if (fn === "identify") return req.tds ? { mode: "identify", tds: req.tds } : { mode: "identify" };
  if (fn === "respond" && challenge) return { mode: "respond", challenge };
  if (fn === "sign" && challenge && req.amount !== undefined) {
    return {
      mode: "sign",
      challenge,
      amount: req.amount,
      ...(req.currency ? { currency: req.currency } : {}),
    };
  }
  return undefined;
}

/** Uniform digits from the CSPRNG, first digit non-zero: never 0, never a short challenge. */
function digitChallenge(digits: number): string {
  return String(randomInt(10 ** (digits - 1), 10 ** digits));
}

function ocraChallenge(suite: OcraSuite): string {
  const n = Math.max(4, Math.min(suite.challenge.maxLength, 8));
  if (suite.challenge.format === "N") return digitChallenge(n);
  const alphabet = suite.challenge.format === "H" ? "0123456789ABCDEF" : "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
}
