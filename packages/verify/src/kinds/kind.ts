import { randomInt } from "node:crypto";
import { CapkitError } from "@capkit/core";
import type { KeyProvider } from "../key-provider.js";
import type { CodeFunction, CredentialParams, StoredCredential } from "../model.js";
import type { Policy } from "../policy.js";

/** One code attempt, as the verifier's policy shell hands it to a kind (input already normalised). */
export interface Attempt {
  readonly fn: CodeFunction;
  /** Digits only. */
  readonly code: string;
  readonly now: number;
  /** The value of the server-issued challenge the code answers, taken (used up) by the shell. */
  readonly challenge: string | undefined;
  readonly amount?: string | undefined;
  readonly currency?: string | undefined;
  readonly tds?: readonly string[] | undefined;
}

/** A match: the counter value to record (HOTP counter, TOTP step, CAP ATC), its distance ahead, TOTP drift. */
export interface Match {
  readonly counter: number;
  readonly offset: number;
  readonly drift?: number;
}

/** What a kind makes of an enrolment request: the parameters to store and its key material, sealed. */
export interface Enrolment<P extends CredentialParams> {
  readonly params: P;
  readonly last: number;
  /** Key material sealed by the KeyProvider (bound to the credential id); never stored in clear. */
  readonly sealed: string | undefined;
}

/** What a kind is given to enrol or to build an engine: the credential's id and the key provider. */
export interface KindContext {
  readonly id: string;
  readonly keys: KeyProvider;
}

/**
 * The rules of one credential kind, all in one file (kinds/cap.ts, hotp.ts, totp.ts, ocra.ts): how it is
 * enrolled, how its keyed engine is built, what a matching code is, how it resynchronises and what challenge it
 * answers. The Verifier around it is only the policy shell: lockout, challenges, store, audit. Keys stay in the
 * KeyProvider: a kind seals what it enrols and asks the provider for a keyed engine (an HMAC, a cryptogram
 * MAC), never for a key.
 */
export interface KindRules<K extends CredentialParams["kind"], R, E> {
  readonly kind: K;
  /** The function a code answers when the request names none. */
  readonly defaultFunction: CodeFunction;
  enroll(
    req: R,
    ctx: KindContext & { policy: Policy },
  ): Promise<Enrolment<Extract<CredentialParams, { kind: K }>>>;
  /** The keyed engine, from the stored parameters and sealed key material (built once per version). */
  engine(
    params: Extract<CredentialParams, { kind: K }>,
    sealed: string | undefined,
    ctx: KindContext,
  ): Promise<E>;
  /** A matching code after `c.last`, or undefined. Computes every candidate: no early return on a hit. */
  match(
    engine: E,
    c: StoredCredential & { params: Extract<CredentialParams, { kind: K }> },
    a: Attempt,
    policy: Policy,
  ): Match | undefined;
  /** Two consecutive codes → the counter of the second; undefined if not found. Absent: no resync. */
  resync?(engine: E, c: StoredCredential, code1: string, code2: string, window: number): number | undefined;
  /** A fresh challenge value for `fn`; INPUT_INVALID when this credential has no such function. */
  challenge(params: Extract<CredentialParams, { kind: K }>, fn: Exclude<CodeFunction, "identify">): string;
}

/** The sealed key material of a stored credential, or KEY_INVALID (a row that lost it cannot be verified). */
export function sealedKey(sealed: string | undefined, id: string): string {
  if (sealed === undefined)
    throw new CapkitError("KEY_INVALID", `credential ${id}: its sealed key is missing`);
  return sealed;
}

export { integerIn } from "../requests.js";

export function noChallenge(kind: string, fn: string): never {
  throw new CapkitError("INPUT_INVALID", `a ${kind} credential has no ${fn} function`);
}

/** Uniform digits from the CSPRNG, first digit non-zero: never 0, never a short challenge. */
export function digitChallenge(digits: number): string {
  return String(randomInt(10 ** (digits - 1), 10 ** digits));
}
