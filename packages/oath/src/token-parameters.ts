import { CapkitError } from "@capkit/core";
import {
  describe,
  expectBytes,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectRecord,
  expectString,
  wrong,
} from "./arguments.js";
import { HmacKey, type HmacKeyOptions, OATH_ALGORITHMS, type OathAlgorithm, parseAlgorithm } from "./hmac.js";
import { checkDigits, MAX_DIGITS, MIN_DIGITS } from "./hotp.js";
import { Ocra, parseOcraSuite } from "./ocra.js";
import { ALGORITHM_URIS, type PskcKey } from "./pskc/model.js";
import { MAX_TOTP_STEP } from "./totp.js";
import { buildOtpAuthUri, type OtpAuthKey, parseOtpAuthUri } from "./uri.js";

/**
 * What an OATH token is, whatever it was read from — an `otpauth://` URI or a PSKC key — with one meaning for
 * every reader: the simulated tokens (token-sim), `capkit otp` and `capkit verify enroll` all provision from
 * these, and `capkit otp export` writes them back.
 */
export interface TokenParameters {
  readonly kind: "hotp" | "totp" | "ocra";
  readonly secret: Uint8Array;
  /** The HMAC hash; for OCRA, the suite's. */
  readonly algorithm: OathAlgorithm;
  /** The code length, 6 to 10; for OCRA, the suite's (0 = the whole HMAC in hex). */
  readonly digits: number;
  /** TOTP: the step in seconds (30 by default). */
  readonly step?: number;
  /** TOTP: T0 in Unix seconds (0 by default). */
  readonly t0?: number;
  /** HOTP, and OCRA suites with a counter (`C`): the next counter. */
  readonly counter?: number;
  /** OCRA: the suite (RFC 6287 §6). */
  readonly suite?: string;
  /** The device's serial number (PSKC `DeviceInfo/SerialNo`). */
  readonly serial?: string;
  readonly issuer?: string;
  /** Whose token it is: the otpauth label's account name, PSKC's `UserId`. */
  readonly account?: string;
  /** The key's `Id` in its PSKC file. */
  readonly keyId?: string;
}

/** Options of the readers below. */
export interface TokenReadOptions {
  /** Accept secrets under 128 bits (old 80-bit hardware seeds), as {@link HmacKey} does. */
  readonly allowShortSecret?: boolean;
}

/**
 * The token an `otpauth://` URI describes (the URI's text, or what {@link parseOtpAuthUri} read from it).
 *
 * @throws `OTP_URI_INVALID` for a malformed URI, `OTP_SECRET_TOO_SHORT` for a secret under 128 bits without
 *   `allowShortSecret`.
 *
 * @example
 * ```ts
 * tokenFromOtpAuth("otpauth://totp/ACME:jo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA256");
 * // { kind: "totp", algorithm: "SHA256", digits: 6, step: 30, t0: 0, issuer: "ACME", account: "jo", secret }
 * ```
 */
export function tokenFromOtpAuth(uri: string | OtpAuthKey, options: TokenReadOptions = {}): TokenParameters {
  // A parsed URI is checked as a URI is: written out and read back (every field typed and in range).
  const k = parseOtpAuthUri(
    typeof uri === "string"
      ? uri
      : buildOtpAuthUri(expectRecord(uri, "the URI", "a string or a parsed URI", "OTP_URI_INVALID")),
  );
  const token: TokenParameters = {
    kind: k.type,
    secret: k.secret,
    algorithm: k.algorithm,
    digits: k.digits,
    ...(k.type === "totp" ? { step: k.period ?? 30, t0: 0 } : { counter: k.counter ?? 0 }),
    ...(k.issuer !== undefined ? { issuer: k.issuer } : {}),
    account: k.account,
  };
  checkSecret(token, readOptions(options));
  return token;
}

/**
 * The token a PSKC key describes (RFC 6030 and the HOTP/TOTP/OCRA profiles of its IANA registry), or an error
 * that names the key (its place in the file, `Id` and serial) and says why:
 *
 * - the kind from the key's `Algorithm` URI: HOTP, TOTP or OCRA — any other key is refused;
 * - HOTP/TOTP: the hash from `<Suite>` (`SHA1`, `SHA256`, `SHA512`; none = SHA-1), digits from
 *   `<ResponseFormat Length>` (6 to 10, `DECIMAL`; none = 6), HOTP's next counter from `<Counter>` (none = 0),
 *   TOTP's step from `<TimeInterval>` (none = 30) and T0 0 (a `<Time>` other than 0 has no one meaning and is
 *   refused);
 * - OCRA: the suite from `<Suite>` (required), its hash and digits; `<ResponseFormat Length>` must agree; the
 *   counter of a `C` suite from `<Counter>`;
 * - the secret is required and as long as {@link HmacKey} asks (see `allowShortSecret`).
 *
 * @example
 * ```ts
 * const { keys } = await importPskcAsync(xml, { preSharedKey });
 * const tokens = keys.map((k, i) => tokenFromPskcKey(k, {}, i)); // or tokensFromPskc(keys)
 * ```
 */
export function tokenFromPskcKey(
  key: PskcKey,
  options: TokenReadOptions = {},
  index?: number,
): TokenParameters {
  expectRecord(key, "the PSKC key", "a PSKC key");
  const where = whichKey(key, index);
  const o = readOptions(options);
  try {
    return readPskcKey(key, o);
  } catch (e) {
    if (!(e instanceof CapkitError)) throw e;
    throw new CapkitError(e.code, `${where}: ${e.message}`, {
      ...(e.hint ? { hint: e.hint } : {}),
      details: { ...e.details, key: where },
      cause: e,
    });
  }
}

/**
 * Every key of a PSKC file as a token, or an error naming the first key that cannot be one and why: a file is
 * taken whole or not at all.
 *
 * @throws `PSKC_INVALID` for a file without keys; else as {@link tokenFromPskcKey}.
 */
export function tokensFromPskc(keys: readonly PskcKey[], options: TokenReadOptions = {}): TokenParameters[] {
  if (!Array.isArray(keys)) throw wrong("INPUT_INVALID", "the PSKC keys", "an array", keys);
  if (keys.length === 0) throw new CapkitError("PSKC_INVALID", "the PSKC file holds no key");
  return keys.map((k, i) => tokenFromPskcKey(k, options, i));
}

/**
 * The PSKC key that carries `token` (the inverse of {@link tokenFromPskcKey}): its kind as the Algorithm URI,
 * the hash (HOTP/TOTP) or the OCRA suite as `<Suite>`, the digits as `<ResponseFormat>`, the counter or step.
 *
 * @throws `INPUT_INVALID` for a token of the wrong shape, or one PSKC cannot carry with one meaning (a T0
 *   other than 0).
 *
 * @example
 * ```ts
 * const token = tokenFromOtpAuth(uri); // or { kind: "totp", secret, algorithm: "SHA256", digits: 8, step: 30 }
 * const xml = exportPskc([pskcKeyOf(token, "1")]); // <pskc:Suite>SHA256</pskc:Suite>, as privacyIDEA reads it
 * ```
 */
export function pskcKeyOf(token: TokenParameters, id: string): PskcKey {
  const t = checkToken(token);
  expectString(id, "the key id");
  if ((t.t0 ?? 0) !== 0)
    throw new CapkitError(
      "INPUT_INVALID",
      "PSKC carries no T0 with one meaning: only tokens with T0 0 export",
    );
  const common = {
    id,
    type: t.kind,
    algorithm: ALGORITHM_URIS[t.kind],
    secret: t.secret,
    ...(t.serial !== undefined ? { serialNo: t.serial } : {}),
    ...(t.issuer !== undefined ? { issuer: t.issuer } : {}),
    ...(t.account !== undefined ? { userId: t.account } : {}),
  };
  if (t.kind === "ocra") {
    const suite = parseOcraSuite(t.suite!);
    return {
      ...common,
      suite: suite.text,
      ...(suite.digits > 0 ? { responseLength: suite.digits, responseEncoding: "DECIMAL" } : {}),
      ...(suite.counter ? { counter: t.counter ?? 0 } : {}),
    };
  }
  return {
    ...common,
    suite: t.algorithm,
    responseLength: t.digits,
    responseEncoding: "DECIMAL",
    ...(t.kind === "hotp" ? { counter: t.counter ?? 0 } : { timeInterval: t.step ?? 30 }),
  };
}

/** Checks a token built by hand (plain JavaScript included): every field of the right type and range. */
export function checkToken(token: TokenParameters): TokenParameters {
  expectRecord(token, "the token");
  const kind = expectOneOf(token.kind, "the token kind", ["hotp", "totp", "ocra"]);
  const secret = expectBytes(token.secret, "the secret", "OTP_SECRET_INVALID");
  if (secret.length === 0) throw new CapkitError("OTP_SECRET_INVALID", "the secret is empty");
  const algorithm = expectOneOf(token.algorithm, "the algorithm", OATH_ALGORITHMS);
  for (const f of ["serial", "issuer", "account", "keyId"] as const)
    if (token[f] !== undefined) expectString(token[f], `the ${f}`);
  if (kind === "ocra") {
    const suite = parseOcraSuite(expectString(token.suite, "the OCRA suite", "OCRA_SUITE_INVALID"));
    if (suite.algorithm !== algorithm || suite.digits !== token.digits)
      throw new CapkitError("INPUT_INVALID", "the algorithm and digits must be the OCRA suite's");
    if (token.counter !== undefined) expectInteger(token.counter, "the counter", 0, Number.MAX_SAFE_INTEGER);
    return token;
  }
  if (token.suite !== undefined)
    throw new CapkitError("INPUT_INVALID", `an OCRA suite belongs to OCRA tokens`);
  checkDigits(token.digits);
  if (kind === "totp") {
    if (token.counter !== undefined)
      throw new CapkitError("INPUT_INVALID", "a counter belongs to HOTP tokens");
    if (token.step !== undefined) expectInteger(token.step, "the step", 1, MAX_TOTP_STEP);
    if (token.t0 !== undefined) expectInteger(token.t0, "T0", 0, Number.MAX_SAFE_INTEGER);
  } else {
    if (token.step !== undefined || token.t0 !== undefined)
      throw new CapkitError("INPUT_INVALID", "a step and T0 belong to TOTP tokens");
    if (token.counter !== undefined) expectInteger(token.counter, "the counter", 0, Number.MAX_SAFE_INTEGER);
  }
  return token;
}

function readOptions(options: TokenReadOptions): HmacKeyOptions {
  const o = expectOptions<TokenReadOptions>(options, "the token options");
  return o.allowShortSecret ? { allowShortSecret: true } : {};
}

/** "key 2 (Id "k2", serial 987654321)": where a person finds the key in the file. */
function whichKey(key: PskcKey, index: number | undefined): string {
  const names = [
    typeof key.id === "string" && key.id ? `Id "${key.id.slice(0, 64)}"` : "",
    typeof key.serialNo === "string" ? `serial ${key.serialNo.slice(0, 64)}` : "",
  ].filter(Boolean);
  const place = index === undefined ? "PSKC key" : `key ${index + 1}`;
  return names.length ? `${place} (${names.join(", ")})` : place;
}

function refuse(message: string): CapkitError {
  return new CapkitError("PSKC_INVALID", message);
}

function readPskcKey(key: PskcKey, options: HmacKeyOptions): TokenParameters {
  const kind = key.type;
  if (kind !== "hotp" && kind !== "totp" && kind !== "ocra")
    throw refuse(
      typeof key.algorithm === "string"
        ? `its algorithm ${key.algorithm.slice(0, 100)} is not HOTP, TOTP or OCRA`
        : `its algorithm must be an HOTP, TOTP or OCRA URI; got ${describe(key.algorithm)}`,
    );
  if (key.secret === undefined) throw refuse("it has no secret");
  const names = {
    ...(key.serialNo !== undefined ? { serial: key.serialNo } : {}),
    ...(key.issuer !== undefined ? { issuer: key.issuer } : {}),
    ...(key.userId !== undefined ? { account: key.userId } : {}),
    ...(key.id ? { keyId: key.id } : {}),
  };
  if (kind === "ocra") {
    if (key.suite === undefined) throw refuse("an OCRA key needs its <Suite> (RFC 6030 OCRA profile)");
    const suite = parseOcraSuite(key.suite);
    if (key.responseLength !== undefined && suite.digits > 0 && key.responseLength !== suite.digits)
      throw refuse(
        `<ResponseFormat Length="${key.responseLength}"> disagrees with the suite's ${suite.digits} digits`,
      );
    const counter = suite.counter ? nextCounter(key) : undefined;
    new Ocra(suite, key.secret, options);
    return {
      kind,
      secret: key.secret,
      algorithm: suite.algorithm,
      digits: suite.digits,
      suite: suite.text,
      ...(counter !== undefined ? { counter } : {}),
      ...names,
    };
  }
  const algorithm = key.suite === undefined ? "SHA1" : hashOf(key.suite);
  if (key.responseEncoding !== undefined && key.responseEncoding !== "DECIMAL")
    throw refuse(
      `<ResponseFormat Encoding="${key.responseEncoding.slice(0, 20)}">: HOTP and TOTP codes are DECIMAL`,
    );
  const digits = key.responseLength ?? 6;
  if (digits < MIN_DIGITS || digits > MAX_DIGITS)
    throw refuse(`<ResponseFormat Length="${digits}">: codes are ${MIN_DIGITS} to ${MAX_DIGITS} digits`);
  new HmacKey(key.secret, algorithm, options);
  if (kind === "hotp")
    return { kind, secret: key.secret, algorithm, digits, counter: nextCounter(key), ...names };
  const step = key.timeInterval ?? 30;
  if (step < 1 || step > MAX_TOTP_STEP)
    throw refuse(`<TimeInterval> ${step}: a TOTP step is 1 to ${MAX_TOTP_STEP} seconds`);
  if ((key.time ?? 0) !== 0)
    throw refuse(`<Time> ${key.time}: only 0 is read (RFC 6030 gives it no one meaning: a time, or steps)`);
  return { kind, secret: key.secret, algorithm, digits, step, t0: 0, ...names };
}

function nextCounter(key: PskcKey): number {
  const counter = key.counter ?? 0;
  if (counter < 0) throw refuse(`<Counter> ${counter} is negative`);
  return counter;
}

/** An HOTP/TOTP `<Suite>`: the HMAC hash, however spelt (privacyIDEA writes `sha256`). */
function hashOf(suite: string): OathAlgorithm {
  try {
    return parseAlgorithm(suite);
  } catch {
    throw refuse(`<Suite> "${suite.slice(0, 40)}" is not SHA1, SHA256 or SHA512`);
  }
}

function checkSecret(token: TokenParameters, options: HmacKeyOptions): void {
  new HmacKey(token.secret, token.algorithm, options);
}
