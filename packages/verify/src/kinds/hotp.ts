import { checkDigits, HmacKey, HotpGenerator, matchHotp, type OathAlgorithm } from "@capkit/oath";
import { integerIn, type KindRules, noChallenge } from "./kind.js";

export interface HotpEnrollRequest {
  readonly kind: "hotp";
  readonly secret: Uint8Array;
  readonly algorithm?: OathAlgorithm;
  readonly digits?: number;
  /** The next counter the token will use. */
  readonly counter?: number;
  readonly lookAhead?: number;
  readonly allowShortSecret?: boolean;
}

/** The HMAC key is checked at enrolment (length, algorithm); a stored credential is trusted to be valid. */
export const STORED_KEY = { allowShortSecret: true } as const;

/** Event-based OATH tokens (RFC 4226): a look-ahead window after the last accepted counter (§7.4). */
export const hotpKind: KindRules<"hotp", HotpEnrollRequest, HotpGenerator> = {
  kind: "hotp",
  defaultFunction: "identify",

  async enroll(req, { policy }) {
    const algorithm = req.algorithm ?? "SHA1";
    const digits = req.digits ?? 6;
    checkDigits(digits);
    new HmacKey(req.secret, algorithm, req.allowShortSecret ? { allowShortSecret: true } : {});
    const counter = integerIn(req.counter ?? 0, 0, Number.MAX_SAFE_INTEGER, "counter");
    const lookAhead =
      req.lookAhead === undefined ? policy.hotpLookAhead : integerIn(req.lookAhead, 0, 1000, "lookAhead");
    return {
      params: { kind: "hotp", algorithm, digits, lookAhead },
      last: counter - 1,
      secret: req.secret,
    };
  },

  async engine(p, secret) {
    return new HotpGenerator(new HmacKey(secret!, p.algorithm, STORED_KEY), p.digits);
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
