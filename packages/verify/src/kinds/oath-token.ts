import { checkDigits, HmacKey, HotpGenerator, type OathAlgorithm } from "@capkit/oath";
import { type KindContext, sealedKey } from "./kind.js";

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
