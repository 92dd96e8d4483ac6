import { checkDigits, HmacKey, HotpGenerator, type OathAlgorithm } from "@capkit/oath";

/** What HOTP and TOTP enrolments share: the HMAC key and the code length (RFC 4226 §5.3, RFC 6238 §4). */
export interface OathTokenRequest {
  readonly secret: Uint8Array;
  readonly algorithm?: OathAlgorithm;
  readonly digits?: number;
  readonly allowShortSecret?: boolean;
}

/** Checks the key (length for its algorithm, RFC 4226 §4 R6) and the digits once, at enrolment. */
export function oathTokenParams(req: OathTokenRequest): { algorithm: OathAlgorithm; digits: number } {
  const algorithm = req.algorithm ?? "SHA1";
  const digits = req.digits ?? 6;
  checkDigits(digits);
  new HmacKey(req.secret, algorithm, req.allowShortSecret ? { allowShortSecret: true } : {});
  return { algorithm, digits };
}

/** A stored token's key was checked at enrolment (length, algorithm): it is trusted when the engine is built. */
export const STORED_KEY = { allowShortSecret: true } as const;

/** The keyed generator of a stored HOTP or TOTP token. */
export function oathTokenEngine(
  p: { readonly algorithm: OathAlgorithm; readonly digits: number },
  secret: Uint8Array | undefined,
): HotpGenerator {
  return new HotpGenerator(new HmacKey(secret!, p.algorithm, STORED_KEY), p.digits);
}
