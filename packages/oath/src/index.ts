/**
 * OATH one-time passwords in pure TypeScript, without I/O: HOTP (RFC 4226), TOTP (RFC 6238) and OCRA
 * (RFC 6287) codes and their matching, keys (in this process or behind WebCrypto), otpauth:// URIs and PSKC
 * (RFC 6030) files, and the token parameters both describe.
 *
 * @packageDocumentation
 */

// Keys: a secret keyed once for HMAC, its algorithm, and the limits a secret must meet.
export { base32Decode, base32Encode } from "./base32.js";
export {
  dynamicTruncate,
  type Hmac,
  HmacKey,
  type HmacKeyOptions,
  MIN_SECRET_BYTES,
  OATH_ALGORITHMS,
  type OathAlgorithm,
  parseAlgorithm,
} from "./hmac.js";

// HOTP and TOTP codes (RFC 4226, RFC 6238); times are Unix seconds or a Date.
export { checkDigits, HotpGenerator, hotp, MAX_DIGITS, MIN_DIGITS } from "./hotp.js";
// Matching a typed code against a window (forward-only HOTP, TOTP around now).
export {
  type HotpMatch,
  MAX_TOTP_WINDOW,
  matchHotp,
  matchTotp,
  type TotpMatch,
  type TotpWindow,
} from "./match.js";
// OCRA challenge-response (RFC 6287).
export { checkOcraChallenge, Ocra, type OcraInput, type OcraSuite, parseOcraSuite } from "./ocra.js";
export { exportPskc, type PskcProtection } from "./pskc/export.js";
export {
  importPskc,
  importPskcAsync,
  PBKDF2_MAX_ITERATIONS,
  PBKDF2_MAX_SYNC_ITERATIONS,
  PBKDF2_MIN_ITERATIONS,
  type PskcImport,
  type PskcImportOptions,
} from "./pskc/import.js";
// PSKC files (RFC 6030): import, export, and the key they carry.
export { ALGORITHM_URIS, type PskcKey, type PskcKeyType } from "./pskc/model.js";
export type { XmlLimits } from "./pskc/xml.js";
// Keys held elsewhere: WebCrypto (non-extractable) and any asynchronous MAC.
export {
  type AsyncMac,
  hotpAsync,
  type ImportHmacOptions,
  ocraAsync,
  totpAsync,
  WebCryptoHmac,
  type WebCryptoKey,
} from "./signer.js";
export { MILLISECONDS_FROM, type OathTime, unixSeconds } from "./time.js";
// A token's parameters, from an otpauth URI or a PSKC key, and back.
export {
  checkToken,
  pskcKeyOf,
  type TokenParameters,
  type TokenReadOptions,
  tokenFromOtpAuth,
  tokenFromPskcKey,
  tokensFromPskc,
} from "./token-parameters.js";
export { MAX_TOTP_STEP, type TotpParameters, totp, totpStep } from "./totp.js";
// otpauth:// URIs (Google Authenticator's key URI format).
export { buildOtpAuthUri, type OtpAuthKey, parseOtpAuthUri } from "./uri.js";
