import { expectBoolean } from "@capkit/core";
import { type HotpGenerator, matchTotp } from "@capkit/oath";
import { integerOr } from "../requests.js";
import { type KindRules, noChallenge } from "./kind.js";
import { type OathTokenRequest, oathTokenEngine, oathTokenParams, sealOathSecret } from "./oath-token.js";

/** A time-based OATH token to enrol (TOTP, RFC 6238): its secret, step and origin. */
export interface TotpEnrollRequest extends OathTokenRequest {
  /** The credential kind. */
  readonly kind: "totp";
  /** The time step in seconds (RFC 6238 §4.1 X; 1–86,400, default 30). */
  readonly step?: number;
  /** The Unix time steps count from, in seconds (RFC 6238 §4.1 T0; default 0). */
  readonly t0?: number;
  /** Centre the ±window on the token's recorded drift instead of the server's clock (default: policy). */
  readonly followDrift?: boolean;
}

/**
 * Time-based OATH tokens (RFC 6238): the current step ± the policy's window, only steps after the last accepted
 * one (§5.2). Each acceptance records the token's drift — the matched step minus the server's — so support can
 * see "the token's clock is 60 s fast"; with `followDrift` the window is centred on that drift (§6: a
 * validation server may resynchronise on a token's measured drift).
 */
export const totpKind: KindRules<"totp", TotpEnrollRequest, HotpGenerator> = {
  kind: "totp",
  defaultFunction: "identify",

  async enroll(req, ctx) {
    const { policy } = ctx;
    const { algorithm, digits } = oathTokenParams(req);
    const step = integerOr(req.step, 30, 1, 86400, "step");
    const t0 = integerOr(req.t0, 0, 0, Number.MAX_SAFE_INTEGER, "t0");
    const followDrift = expectBoolean(req.followDrift, "followDrift") ?? policy.totpFollowDrift;
    return {
      params: {
        kind: "totp",
        algorithm,
        digits,
        step,
        t0,
        past: policy.totpPast,
        future: policy.totpFuture,
        ...(followDrift ? { followDrift: true } : {}),
      },
      last: -1,
      sealed: await sealOathSecret(req.secret, ctx),
    };
  },

  engine(p, sealed, ctx) {
    return oathTokenEngine(p, sealed, ctx);
  },

  match(gen, c, a) {
    if (a.fn !== "identify") return undefined;
    const p = c.params;
    const centre = p.followDrift && c.drift ? c.drift : 0;
    const m = matchTotp(gen, a.code, a.now / 1000 + centre * p.step, {
      step: p.step,
      t0: p.t0,
      past: p.past,
      future: p.future,
      notBefore: c.last + 1, // only steps after the last accepted one: a used step never shadows a new one
    });
    return m && { counter: m.step, offset: m.offset + centre, drift: m.offset + centre };
  },

  challenge(_p, fn) {
    return noChallenge("totp", fn);
  },
};
