import { type HotpGenerator, matchHotp } from "@capkit/oath";
import { integerOr } from "../requests.js";
import { integerIn, type KindRules, noChallenge } from "./kind.js";
import { type OathTokenRequest, oathTokenEngine, oathTokenParams, sealOathSecret } from "./oath-token.js";

/** An event-based OATH token to enrol (HOTP, RFC 4226): its secret, and the counter it is at. */
export interface HotpEnrollRequest extends OathTokenRequest {
  /** The credential kind. */
  readonly kind: "hotp";
  /** The next counter the token will use (default 0). */
  readonly counter?: number;
  /** Codes accepted up to this many counter values ahead (RFC 4226 §7.4; 0–1000, default the policy's). */
  readonly lookAhead?: number;
}

/** Event-based OATH tokens (RFC 4226): a look-ahead window after the last accepted counter (§7.4). */
export const hotpKind: KindRules<"hotp", HotpEnrollRequest, HotpGenerator> = {
  kind: "hotp",
  defaultFunction: "identify",

  async enroll(req, ctx) {
    const { policy } = ctx;
    const { algorithm, digits } = oathTokenParams(req);
    const counter = integerOr(req.counter, 0, 0, Number.MAX_SAFE_INTEGER, "counter");
    const lookAhead =
      req.lookAhead === undefined ? policy.hotpLookAhead : integerIn(req.lookAhead, 0, 1000, "lookAhead");
    return {
      params: { kind: "hotp", algorithm, digits, lookAhead },
      last: counter - 1,
      sealed: await sealOathSecret(req.secret, ctx),
    };
  },

  engine(p, sealed, ctx) {
    return oathTokenEngine(p, sealed, ctx);
  },

  match(gen, c, a) {
    if (a.fn !== "identify") return undefined;
    const m = matchHotp(gen, a.code, c.last + 1, c.params.lookAhead);
    return m && { counter: m.counter, offset: m.offset };
  },

  resync(gen, c, code1, code2, window) {
    const first = matchHotp(gen, code1, c.last + 1, window);
    return first && matchHotp(gen, code2, first.counter + 1, 0) ? first.counter + 1 : undefined;
  },

  challenge(_p, fn) {
    return noChallenge("hotp", fn);
  },
};
