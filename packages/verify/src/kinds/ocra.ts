import { randomInt } from "node:crypto";
import { CapkitError } from "@capkit/core";
import { Ocra, type OcraSuite, parseOcraSuite, totpStep } from "@capkit/oath";
import { digitChallenge, type KindRules, noChallenge, sealedKey } from "./kind.js";
import { sealOathSecret } from "./oath-token.js";

/**
 * A challenge-response OATH token to enrol (OCRA, RFC 6287: a keypad SGpass): its secret and suite. Suites
 * with a PIN or session data are refused (the verifier holds neither).
 */
export interface OcraEnrollRequest {
  /** The credential kind. */
  readonly kind: "ocra";
  /** The shared secret (bytes): sealed by the key provider, never stored in clear. */
  readonly secret: Uint8Array;
  /** The OCRA suite (RFC 6287 §6), e.g. `OCRA-1:HOTP-SHA1-6:QN08`. */
  readonly suite: string;
  /** Accept a secret shorter than RFC 4226 §4 R6 asks (an old token's seed). Off by default. */
  readonly allowShortSecret?: boolean;
}

/**
 * OCRA challenge/response tokens (RFC 6287, keypad SGpass): every code answers a server-issued challenge.
 * Counter suites look ahead like HOTP, time suites accept the steps around the current one like TOTP — both
 * windows frozen at enrolment from the policy; plain Q suites count uses.
 */
export const ocraKind: KindRules<"ocra", OcraEnrollRequest, Ocra> = {
  kind: "ocra",
  defaultFunction: "ocra",

  async enroll(req, ctx) {
    const suite = parseOcraSuite(req.suite);
    if (suite.pin || suite.session !== undefined) {
      throw new CapkitError(
        "CREDENTIAL_INVALID",
        "OCRA suites with a PIN or session data are not supported by the verifier",
      );
    }
    new Ocra(suite, req.secret, req.allowShortSecret ? { allowShortSecret: true } : {});
    const { policy } = ctx;
    return {
      params: {
        kind: "ocra",
        suite: suite.text,
        // The windows frozen now, as HOTP's and TOTP's are: a later change of the policy does not move them.
        ...(suite.counter ? { lookAhead: policy.hotpLookAhead } : {}),
        ...(suite.timeStep ? { past: policy.totpPast, future: policy.totpFuture } : {}),
      },
      last: -1,
      sealed: await sealOathSecret(req.secret, ctx),
    };
  },

  async engine(p, sealed, { id, keys }) {
    const suite = parseOcraSuite(p.suite);
    return new Ocra(suite, await keys.hmac(id, sealedKey(sealed, id), suite.algorithm));
  },

  match(ocra, c, a, policy) {
    if (a.fn !== "ocra" || a.challenge === undefined) return undefined;
    const s = ocra.suite;
    const p = c.params;
    // Credentials enrolled before the windows were frozen: the policy's look-ahead and ±1 step, as then.
    const lookAhead = p.lookAhead ?? policy.hotpLookAhead;
    const counters = s.counter ? range(c.last + 1, c.last + 1 + lookAhead) : [c.last + 1];
    const times = s.timeStep
      ? range(-(p.past ?? 1), p.future ?? 1).map((d) => a.now / 1000 + d * s.timeStep!)
      : [undefined];
    let found: { counter: number; offset: number } | undefined;
    for (const counter of counters) {
      for (const time of times) {
        const r = ocra.response({
          challenge: a.challenge,
          ...(s.counter ? { counter } : {}),
          ...(time !== undefined ? { time } : {}),
        });
        const hit = r.length === a.code.length && r === a.code;
        // The value recorded on acceptance: the time step for time-only suites, else the counter. Only values
        // after the last accepted one are candidates, so a used one never shadows a new match.
        const value = s.timeStep && !s.counter ? totpStep(time!, { step: s.timeStep }) : counter;
        if (hit && !found && value > c.last) found = { counter: value, offset: counter - c.last - 1 };
      }
    }
    return found;
  },

  challenge(p, fn) {
    if (fn !== "ocra") noChallenge("ocra", fn);
    return ocraChallenge(parseOcraSuite(p.suite));
  },
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function ocraChallenge(suite: OcraSuite): string {
  const n = Math.max(4, Math.min(suite.challenge.maxLength, 8));
  if (suite.challenge.format === "N") return digitChallenge(n);
  const alphabet = suite.challenge.format === "H" ? "0123456789ABCDEF" : "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
}
