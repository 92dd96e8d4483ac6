import { checkDigits, HmacKey, HotpGenerator, type OathAlgorithm } from "@capkit/oath";
import { type KindContext, sealedKey } from "./kind.js";

/** What HOTP and TOTP enrolments share: the HMAC key and the code length (RFC 4226 §5.3, RFC 6238 §4). */
export interface OathTokenRequest {
  /** The shared secret (bytes, not base32 text): sealed by the key provider, never stored in clear. */
  readonly secret: Uint8Array;
  /** The HMAC's hash: SHA1 (default), SHA256 or SHA512 (RFC 6238 §1.2). */
  readonly algorithm?: OathAlgorithm;
  /** The code's length, 6 to 10 (RFC 4226 §5.3; default 6). */
  readonly digits?: number;
  /**
   * Accept a secret shorter than RFC 4226 §4 R6 asks (128 bits; 160 recommended): an old token's seed. Off
   * by default.
   */
  readonly allowShortSecret?: boolean;
}

/** Checks the key (length for its algorithm, RFC 4226 §4 R6) and the digits once, at enrolment. */
export function oathTokenParams(req: OathTokenRequest): { algorithm: OathAlgorithm; digits: number } {
  // Only a missing field takes the default: null is a value, refused by the checks below like any other.
  const algorithm = req.algorithm === undefined ? "SHA1" : req.algorithm;
  const digits = req.digits === undefined ? 6 : req.digits;
  checkDigits(digits);
  new HmacKey(req.secret, algorithm, req.allowShortSecret ? { allowShortSecret: true } : {});
  return { algorithm, digits };
}

/** The keyed generator of a stored HOTP or TOTP token: the HMAC computes in the key provider. */
export async function oathTokenEngine(
  p: { readonly algorithm: OathAlgorithm; readonly digits: number },
  sealed: string | undefined,
  ctx: KindContext,
): Promise<HotpGenerator> {
  return new HotpGenerator(await ctx.keys.hmac(ctx.id, sealedKey(sealed, ctx.id), p.algorithm), p.digits);
}

/** An OATH secret sealed for its one use, an HMAC key. */
export function sealOathSecret(secret: Uint8Array, ctx: KindContext): Promise<string> {
  return ctx.keys.seal(ctx.id, "hmac", secret);
}
