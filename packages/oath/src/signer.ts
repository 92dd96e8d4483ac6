import { CapkitError } from "@capkit/core";
import { expectBoolean, expectOptions, isRecord, wrong } from "./arguments.js";
import { checkOathSecret, type HmacKeyOptions, type OathAlgorithm } from "./hmac.js";
import { checkDigits, codeFromMac, writeCounter } from "./hotp.js";
import { type OcraInput, type OcraSuite, ocraDataInput, ocraResult, parseOcraSuite } from "./ocra.js";
import type { OathTime } from "./time.js";
import { type TotpParameters, totpStep } from "./totp.js";

/**
 * HOTP, TOTP and OCRA over an HMAC computed elsewhere, asynchronously: a WebCrypto HMAC `CryptoKey` created
 * non-extractable (so the seed's bytes cannot be read back from the key, only used — in a browser the key can
 * live in IndexedDB as it is), or any other keyed MAC such as an HSM's. The codes are the sync path's
 * (`HmacKey`, `hotp`, `totp`, `Ocra`): same DataInput, same truncation.
 */
export interface AsyncMac {
  readonly algorithm: OathAlgorithm;
  /** HMAC of `message` under the key. */
  mac(message: Uint8Array): Promise<Uint8Array>;
}

/** An opaque WebCrypto key (`CryptoKey`): kept and passed back, never looked into. */
export type WebCryptoKey = object;

/** The slice of WebCrypto's SubtleCrypto used here (oath compiles without the DOM library). */
interface SubtleHmac {
  importKey(
    format: "raw",
    keyData: Uint8Array,
    algorithm: { name: "HMAC"; hash: string },
    extractable: boolean,
    usages: readonly "sign"[],
  ): Promise<WebCryptoKey>;
  sign(algorithm: "HMAC", key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
}

const WEBCRYPTO_HASH: Record<OathAlgorithm, string> = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };

/** `crypto.subtle` of the runtime (browsers, Node 20+, Deno, workers). */
function subtle(): SubtleHmac {
  const s = (globalThis as { crypto?: { subtle?: SubtleHmac } }).crypto?.subtle;
  if (!s) throw new CapkitError("CRYPTO_UNSUPPORTED", "this runtime has no WebCrypto (crypto.subtle)");
  return s;
}

export interface ImportHmacOptions extends HmacKeyOptions {
  /**
   * False by default: the CryptoKey can sign but its bytes cannot be exported. Only a test or a migration
   * tool should ask for true.
   */
  readonly extractable?: boolean;
}

/** An HMAC key held by WebCrypto. */
export class WebCryptoHmac implements AsyncMac {
  readonly algorithm: OathAlgorithm;
  /** The CryptoKey, to store (IndexedDB keeps it structured-cloned, still non-extractable). */
  readonly key: WebCryptoKey;

  constructor(key: WebCryptoKey, algorithm: OathAlgorithm) {
    this.key = key;
    this.algorithm = algorithm;
  }

  /**
   * Imports a seed as an HMAC CryptoKey, non-extractable unless asked. The caller zeroes its copy of the
   * seed afterwards (`seed.fill(0)`): WebCrypto has copied it.
   */
  static async importSecret(
    secret: Uint8Array,
    algorithm: OathAlgorithm = "SHA1",
    options: ImportHmacOptions = {},
  ): Promise<WebCryptoHmac> {
    const { extractable, ...keyOptions } = expectOptions<ImportHmacOptions>(options, "the key options");
    checkOathSecret(secret, algorithm, keyOptions);
    const key = await subtle().importKey(
      "raw",
      secret,
      { name: "HMAC", hash: WEBCRYPTO_HASH[algorithm] },
      expectBoolean(extractable, "extractable") ?? false,
      ["sign"],
    );
    return new WebCryptoHmac(key, algorithm);
  }

  async mac(message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle().sign("HMAC", this.key, message));
  }
}

function expectAsyncMac(key: unknown): AsyncMac {
  if (!isRecord(key) || typeof key["mac"] !== "function" || typeof key["algorithm"] !== "string")
    throw wrong(
      "INPUT_INVALID",
      "the key",
      "an AsyncMac (a WebCryptoHmac, or an object with algorithm and mac)",
      key,
    );
  return key as unknown as AsyncMac;
}

/** HOTP (RFC 4226 §5.3) over an async MAC. */
export async function hotpAsync(key: AsyncMac, counter: number, digits = 6): Promise<string> {
  expectAsyncMac(key);
  checkDigits(digits);
  return codeFromMac(await key.mac(writeCounter(counter, new Uint8Array(8))), digits);
}

/** TOTP (RFC 6238 §4) over an async MAC; `time` in Unix seconds or a Date, as {@link totp}. */
export async function totpAsync(
  key: AsyncMac,
  time: OathTime,
  digits = 6,
  params: TotpParameters = {},
): Promise<string> {
  return hotpAsync(key, totpStep(time, params), digits);
}

/** OCRA (RFC 6287) over an async MAC; the MAC's algorithm must be the suite's. */
export async function ocraAsync(key: AsyncMac, suite: OcraSuite | string, input: OcraInput): Promise<string> {
  expectAsyncMac(key);
  const s = parseOcraSuite(
    typeof suite === "string" ? suite : isRecord(suite) ? String(suite["text"]) : String(suite),
  );
  if (s.algorithm !== key.algorithm)
    throw new CapkitError(
      "OCRA_INPUT_INVALID",
      `suite ${s.text} needs an HMAC-${s.algorithm} key, not ${key.algorithm}`,
    );
  return ocraResult(s, await key.mac(ocraDataInput(s, input)));
}
