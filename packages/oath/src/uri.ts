import { CapkitError } from "@capkit/core";
import { base32Decode, base32Encode } from "./base32.js";
import { type OathAlgorithm, parseAlgorithm } from "./hmac.js";
import { checkDigits } from "./hotp.js";

/**
 * `otpauth://` Key URIs (Google Authenticator's Key URI Format, the de-facto standard):
 * `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`
 * (`hotp` takes `counter`). Malformed input is a typed error, never a guess.
 */
export interface OtpAuthKey {
  readonly type: "hotp" | "totp";
  readonly secret: Uint8Array;
  readonly account: string;
  readonly issuer?: string;
  readonly algorithm: OathAlgorithm;
  readonly digits: number;
  /** TOTP step in seconds. */
  readonly period?: number;
  /** HOTP next counter. */
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

export function parseOtpAuthUri(uri: string): OtpAuthKey {
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
    if (params.has("counter")) throw bad("counter belongs to hotp URIs");
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

/** Issuer and account may hold any character; ':' is reserved as the label separator. */
export function buildOtpAuthUri(key: OtpAuthKey): string {
  checkDigits(key.digits);
  if (!key.account || key.account.includes(":"))
    throw bad("the account name must be non-empty and without ':'");
  if (key.issuer?.includes(":")) throw bad("the issuer must not contain ':'");
  const label = key.issuer
    ? `${encodeURIComponent(key.issuer)}:${encodeURIComponent(key.account)}`
    : encodeURIComponent(key.account);
  const q = [`secret=${base32Encode(key.secret)}`];
  if (key.issuer) q.push(`issuer=${encodeURIComponent(key.issuer)}`);
  q.push(`algorithm=${key.algorithm}`, `digits=${key.digits}`);
  if (key.type === "totp") q.push(`period=${key.period ?? 30}`);
  else {
    if (key.counter === undefined) throw bad("hotp URIs need a counter");
    q.push(`counter=${key.counter}`);
  }
  return `otpauth://${key.type}/${label}?${q.join("&")}`;
}
