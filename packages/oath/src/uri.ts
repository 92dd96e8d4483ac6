import { CapkitError } from "@capkit/core";
import { expectBytes, expectInteger, expectOneOf, expectRecord, expectString } from "./arguments.js";
import { base32Decode, base32Encode } from "./base32.js";
import { OATH_ALGORITHMS, type OathAlgorithm, parseAlgorithm } from "./hmac.js";
import { checkDigits, MAX_DIGITS, MIN_DIGITS } from "./hotp.js";
import { MAX_TOTP_STEP } from "./totp.js";

/**
 * `otpauth://` Key URIs (Google Authenticator's Key URI Format, the de-facto standard):
 * `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`
 * (`hotp` takes `counter`). Malformed input is a typed error, never a guess.
 *
 * privacyIDEA writes `counter=1` in every URI it makes, TOTP ones included (its `create_google_authenticator_url`):
 * on a TOTP URI that is refused here (`counter` belongs to HOTP), and on an HOTP URI it is not the server's
 * counter. Move tokens out of privacyIDEA with its PSKC export, which carries the counter (README: privacyIDEA).
 */
export interface OtpAuthKey {
  readonly type: "hotp" | "totp";
  readonly secret: Uint8Array;
  /** The account name: the label after `Issuer:`. */
  readonly account: string;
  readonly issuer?: string;
  readonly algorithm: OathAlgorithm;
  /** 6 to 10. */
  readonly digits: number;
  /** TOTP step in seconds (TOTP only). */
  readonly period?: number;
  /** HOTP: the next counter (HOTP only). */
  readonly counter?: number;
}

function bad(message: string): CapkitError {
  return new CapkitError("OTP_URI_INVALID", `otpauth URI: ${message}`);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(`${what} is not valid percent-encoding`);
  }
}

function wholeNumber(value: string, what: string, min: number, max: number): number {
  if (!/^[0-9]{1,16}$/.test(value)) throw bad(`${what} must be a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw bad(`${what} must be from ${min} to ${max}`);
  return n;
}

/**
 * Reads an `otpauth://` Key URI. Strict: a parameter given twice, an issuer that disagrees with the label's, a
 * `counter` on a TOTP URI or a `period` on an HOTP one is refused.
 *
 * @throws `OTP_URI_INVALID`, saying what is wrong.
 *
 * @example
 * ```ts
 * parseOtpAuthUri("otpauth://totp/ACME:jo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME");
 * // { type: "totp", account: "jo", issuer: "ACME", algorithm: "SHA1", digits: 6, period: 30, secret }
 * ```
 */
export function parseOtpAuthUri(uri: string): OtpAuthKey {
  expectString(uri, "the otpauth URI", "OTP_URI_INVALID");
  const m = /^otpauth:\/\/(hotp|totp)\/([^?#]*)(?:\?([^#]*))?$/i.exec(uri.trim());
  if (!m) throw bad("must look like otpauth://totp/Issuer:account?secret=…");
  const type = m[1]!.toLowerCase() as "hotp" | "totp";
  const label = decode(m[2]!, "the label");
  const params = new Map<string, string>();
  for (const pair of (m[3] ?? "").split("&").filter(Boolean)) {
    const eq = pair.indexOf("=");
    const k = decode(eq < 0 ? pair : pair.slice(0, eq), "a parameter name").toLowerCase();
    const v = decode(eq < 0 ? "" : pair.slice(eq + 1).replace(/\+/g, "%20"), `parameter ${k}`);
    if (params.has(k)) throw bad(`parameter ${k} given twice`);
    params.set(k, v);
  }
  const colon = label.indexOf(":");
  const labelIssuer = colon >= 0 ? label.slice(0, colon).trim() : undefined;
  const account = (colon >= 0 ? label.slice(colon + 1) : label).trim();
  if (!account) throw bad("the label has no account name");
  const paramIssuer = params.get("issuer");
  if (labelIssuer !== undefined && paramIssuer !== undefined && labelIssuer !== paramIssuer) {
    throw bad("the issuer in the label and the issuer parameter differ");
  }
  const issuer = paramIssuer ?? labelIssuer;
  const secretText = params.get("secret");
  if (!secretText) throw bad("the secret parameter is missing");
  let secret: Uint8Array;
  try {
    secret = base32Decode(secretText);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const algorithm = params.has("algorithm") ? safe(() => parseAlgorithm(params.get("algorithm")!)) : "SHA1";
  const digits = params.has("digits") ? wholeNumber(params.get("digits")!, "digits", 6, 10) : 6;
  safe(() => checkDigits(digits));
  const base = { type, secret, account, algorithm, digits, ...(issuer ? { issuer } : {}) };
  if (type === "totp") {
    if (params.has("counter"))
      throw bad(
        "counter belongs to hotp URIs (privacyIDEA writes counter=1 on every URI: take its PSKC export)",
      );
    const period = params.has("period") ? wholeNumber(params.get("period")!, "period", 1, 86400) : 30;
    return { ...base, period };
  }
  if (params.has("period")) throw bad("period belongs to totp URIs");
  if (!params.has("counter")) throw bad("hotp URIs need a counter");
  return { ...base, counter: wholeNumber(params.get("counter")!, "counter", 0, Number.MAX_SAFE_INTEGER) };
}

function safe<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/**
 * Writes an `otpauth://` Key URI for an authenticator app. Issuer and account may hold any character but ':',
 * the label separator. Every field is checked first: a string secret (base32 text) is refused, never encoded
 * as if it were bytes.
 *
 * @throws `OTP_SECRET_INVALID` for a secret that is not non-empty bytes, `OTP_URI_INVALID` for any other
 *   field of the wrong type or out of range.
 *
 * @example
 * ```ts
 * buildOtpAuthUri({ type: "totp", secret, account: "jo", issuer: "ACME", algorithm: "SHA1", digits: 6, period: 30 });
 * // "otpauth://totp/ACME:jo?secret=…&issuer=ACME&algorithm=SHA1&digits=6&period=30"
 * ```
 */
export function buildOtpAuthUri(key: OtpAuthKey): string {
  const k = expectRecord<Partial<OtpAuthKey>>(key, "the key", "an object", "OTP_URI_INVALID");
  const type = expectOneOf(k.type, "the type", ["hotp", "totp"], "OTP_URI_INVALID");
  const secret = expectBytes(k.secret, "the secret", "OTP_SECRET_INVALID");
  if (secret.length === 0) throw new CapkitError("OTP_SECRET_INVALID", "the secret is empty");
  const account = expectString(k.account, "the account name", "OTP_URI_INVALID");
  if (!account || account.includes(":")) throw bad("the account name must be non-empty and without ':'");
  const issuer = k.issuer === undefined ? undefined : expectString(k.issuer, "the issuer", "OTP_URI_INVALID");
  if (issuer?.includes(":")) throw bad("the issuer must not contain ':'");
  const algorithm = expectOneOf(k.algorithm, "the algorithm", OATH_ALGORITHMS, "OTP_URI_INVALID");
  const digits = expectInteger(k.digits, "digits", MIN_DIGITS, MAX_DIGITS, "OTP_URI_INVALID");
  let last: string;
  if (type === "totp") {
    if (k.counter !== undefined) throw bad("counter belongs to hotp keys");
    last = `period=${k.period === undefined ? 30 : expectInteger(k.period, "the period", 1, MAX_TOTP_STEP, "OTP_URI_INVALID")}`;
  } else {
    if (k.period !== undefined) throw bad("period belongs to totp keys");
    if (k.counter === undefined) throw bad("hotp URIs need a counter");
    last = `counter=${expectInteger(k.counter, "the counter", 0, Number.MAX_SAFE_INTEGER, "OTP_URI_INVALID")}`;
  }
  const label = issuer
    ? `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`
    : encodeURIComponent(account);
  const q = [`secret=${base32Encode(secret)}`];
  if (issuer) q.push(`issuer=${encodeURIComponent(issuer)}`);
  q.push(`algorithm=${algorithm}`, `digits=${digits}`, last);
  return `otpauth://${type}/${label}?${q.join("&")}`;
}
