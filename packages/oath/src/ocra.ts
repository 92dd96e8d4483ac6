import { asciiToBytes, CapkitError, concat, fromHex } from "@capkit/core";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { expectBytes, expectRecord, expectString, isRecord, wrong } from "./arguments.js";
import { type Hmac, HmacKey, type HmacKeyOptions, isHmac, type OathAlgorithm } from "./hmac.js";
import { codeFromMac, writeCounter } from "./hotp.js";
import { type OathTime, unixSeconds } from "./time.js";

/**
 * OCRA (RFC 6287): challenge/response and signature on HOTP. A suite such as
 * `OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1` names the HMAC, the digits and the DataInput fields (§6):
 * DataInput = suite ‖ 00 ‖ [C: 8 bytes] ‖ Q: 128 bytes ‖ [P: PIN hash] ‖ [S: session info] ‖ [T: 8 bytes].
 */
export interface OcraSuite {
  readonly text: string;
  readonly algorithm: OathAlgorithm;
  /** 0 = no truncation (the full HMAC in hex), else 4–10 digits. */
  readonly digits: number;
  readonly counter: boolean;
  readonly challenge: { readonly format: "A" | "N" | "H"; readonly maxLength: number };
  readonly pin?: OathAlgorithm;
  /** Session information length in bytes. */
  readonly session?: number;
  /** Time step in seconds. */
  readonly timeStep?: number;
}

function bad(message: string): CapkitError {
  return new CapkitError("OCRA_SUITE_INVALID", `OCRA suite: ${message}`);
}

const HASH_OF = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

/**
 * Parses an OCRA suite (RFC 6287 §6): `OCRA-1:HOTP-<hash>-<digits>:[C-]Q<A|N|H><len>[-P<hash>][-S<len>][-T<step>]`.
 *
 * @throws `OCRA_SUITE_INVALID`, saying which part is wrong.
 *
 * @example
 * ```ts
 * parseOcraSuite("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1"); // { algorithm: "SHA256", digits: 8, counter: true, … }
 * ```
 */
export function parseOcraSuite(text: string): OcraSuite {
  expectString(text, "the OCRA suite", "OCRA_SUITE_INVALID");
  const parts = text.split(":");
  if (parts.length !== 3 || parts[0] !== "OCRA-1")
    throw bad(`"${text}" is not OCRA-1:<CryptoFunction>:<DataInput>`);
  const cf = /^HOTP-(SHA1|SHA256|SHA512)-(0|[4-9]|10)$/.exec(parts[1]!);
  if (!cf) throw bad(`crypto function "${parts[1]}" is not HOTP-SHA1|SHA256|SHA512-<0,4..10>`);
  const fields = parts[2]!.split("-");
  let i = 0;
  let counter = false;
  if (fields[i] === "C") {
    counter = true;
    i++;
  }
  const q = /^Q([ANH])(0[4-9]|[1-5][0-9]|6[0-4])$/.exec(fields[i] ?? "");
  if (!q) throw bad("the DataInput needs a challenge field Q{A|N|H}{04..64}");
  i++;
  let pin: OathAlgorithm | undefined;
  let session: number | undefined;
  let timeStep: number | undefined;
  const p = /^PSHA(1|256|512)$/.exec(fields[i] ?? "");
  if (p) {
    pin = `SHA${p[1]}` as OathAlgorithm;
    i++;
  }
  const s = /^S([0-9]{3})$/.exec(fields[i] ?? "");
  if (s) {
    session = Number(s[1]);
    if (session < 1 || session > 512) throw bad("session information is 001 to 512 bytes");
    i++;
  }
  // Errata 3729: hours are [1-48]H; seconds and minutes [1-59].
  const t = /^T([0-9]{1,2})([SMH])$/.exec(fields[i] ?? "");
  if (t) {
    const n = Number(t[1]);
    const unit = t[2]!;
    if (n < 1 || (unit === "H" ? n > 48 : n > 59)) throw bad(`time step ${t[1]}${unit} is out of range`);
    timeStep = n * (unit === "S" ? 1 : unit === "M" ? 60 : 3600);
    i++;
  }
  if (i !== fields.length) throw bad(`unexpected DataInput field "${fields[i]}"`);
  return {
    text,
    algorithm: `SHA${cf[1]!.slice(3)}` as OathAlgorithm,
    digits: Number(cf[2]),
    counter,
    challenge: { format: q[1] as "A" | "N" | "H", maxLength: Number(q[2]) },
    ...(pin ? { pin } : {}),
    ...(session !== undefined ? { session } : {}),
    ...(timeStep !== undefined ? { timeStep } : {}),
  };
}

/** What one OCRA response is computed over (RFC 6287 §5.1), beside the suite and the key. */
export interface OcraInput {
  /** The question: digits (QN), text (QA) or hex (QH). Mutual and signature callers pass the concatenation. */
  readonly challenge: string;
  /** C suites: the counter, 0 to 2^53−1. */
  readonly counter?: number;
  /** P suites: the PIN, hashed here with the suite's PIN hash; or `pinHash` already hashed. */
  readonly pin?: string;
  readonly pinHash?: Uint8Array;
  /** S suites: the session information, exactly the suite's length. */
  readonly session?: Uint8Array;
  /** T suites: Unix seconds or a `Date` (milliseconds are refused); divided by the suite's time step. */
  readonly time?: OathTime;
}

function inputError(message: string): CapkitError {
  return new CapkitError("OCRA_INPUT_INVALID", message);
}

/**
 * Checks one challenge against the suite's format and maximum length (at least 4 characters, RFC 6287 §5.1).
 * `ocra()` accepts up to 128 bytes, because mutual mode concatenates two challenges (§7.3).
 */
export function checkOcraChallenge(suite: OcraSuite, challenge: string): void {
  expectString(challenge, "the challenge", "OCRA_INPUT_INVALID");
  const { format, maxLength } = suite.challenge;
  const pattern = format === "N" ? /^[0-9]+$/ : format === "H" ? /^[0-9A-Fa-f]+$/ : /^[\x20-\x7e]+$/;
  if (!pattern.test(challenge) || challenge.length < 4 || challenge.length > maxLength) {
    const kind = format === "N" ? "digits" : format === "H" ? "hex digits" : "printable ASCII characters";
    throw inputError(`the challenge must be 4 to ${maxLength} ${kind}`);
  }
}

/** Q as 128 bytes (§5.1): QN as the number in hex, QH as hex, right-padded with 0; QA as ASCII, zero-padded. */
function encodeQuestion(format: "A" | "N" | "H", q: string): Uint8Array {
  let bytes: Uint8Array;
  if (format === "A") {
    if (!/^[\x20-\x7e]*$/.test(q)) throw inputError("an alphanumeric challenge must be printable ASCII");
    bytes = asciiToBytes(q);
  } else {
    let hex: string;
    if (format === "N") {
      if (!/^[0-9]{1,256}$/.test(q)) throw inputError("a numeric challenge must be digits");
      hex = BigInt(q).toString(16);
    } else {
      if (!/^[0-9A-Fa-f]{1,256}$/.test(q)) throw inputError("a hex challenge must be hex digits");
      hex = q;
    }
    if (hex.length > 256) throw inputError("the challenge is longer than 128 bytes");
    bytes = fromHex(hex.padEnd(hex.length + (hex.length % 2), "0"));
  }
  if (bytes.length > 128) throw inputError("the challenge is longer than 128 bytes");
  const out = new Uint8Array(128);
  out.set(bytes);
  return out;
}

/**
 * The DataInput of RFC 6287 §6: suite ‖ 00 ‖ [C] ‖ Q ‖ [P] ‖ [S] ‖ [T], the message the key MACs.
 *
 * @throws `OCRA_INPUT_INVALID` (or `INPUT_INVALID` for a counter or time of the wrong type or unit) when a
 *   field the suite needs is missing or malformed.
 */
export function ocraDataInput(suite: OcraSuite, input: OcraInput): Uint8Array {
  const i = expectRecord<OcraInput>(input, "the OCRA input");
  const parts: Uint8Array[] = [asciiToBytes(suite.text), Uint8Array.of(0)];
  if (suite.counter) {
    if (i.counter === undefined) throw inputError(`suite ${suite.text} needs a counter`);
    parts.push(writeCounter(i.counter, new Uint8Array(8)));
  }
  parts.push(
    encodeQuestion(suite.challenge.format, expectString(i.challenge, "the challenge", "OCRA_INPUT_INVALID")),
  );
  if (suite.pin) {
    let h =
      i.pinHash === undefined ? undefined : expectBytes(i.pinHash, "the PIN hash", "OCRA_INPUT_INVALID");
    if (!h) {
      if (i.pin === undefined) throw inputError(`suite ${suite.text} needs a PIN`);
      h = HASH_OF[suite.pin](asciiToBytes(expectString(i.pin, "the PIN", "OCRA_INPUT_INVALID")));
    }
    if (h.length !== HASH_OF[suite.pin].outputLen)
      throw inputError("the PIN hash has the wrong length for the suite");
    parts.push(h);
  }
  if (suite.session !== undefined) {
    const session =
      i.session === undefined
        ? undefined
        : expectBytes(i.session, "the session information", "OCRA_INPUT_INVALID");
    if (!session || session.length !== suite.session) {
      throw inputError(`suite ${suite.text} needs ${suite.session} bytes of session information`);
    }
    parts.push(session);
  }
  if (suite.timeStep !== undefined) {
    if (i.time === undefined) throw inputError(`suite ${suite.text} needs the time`);
    parts.push(writeCounter(Math.floor(unixSeconds(i.time) / suite.timeStep), new Uint8Array(8)));
  }
  return concat(...parts);
}

/** The response shown for a DataInput's HMAC (RFC 6287 §5.2): the suite's digits, or the whole HMAC in hex. */
export function ocraResult(suite: OcraSuite, mac: Uint8Array): string {
  if (suite.digits === 0) return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  return codeFromMac(mac, suite.digits);
}

/**
 * Computes OCRA responses (RFC 6287) for one suite and key.
 *
 * @example
 * ```ts
 * const ocra = new Ocra("OCRA-1:HOTP-SHA1-6:QN08", secret);
 * ocra.response({ challenge: "00000000" }); // "237653" for the RFC 6287 Appendix C 20-byte key
 * ```
 */
export class Ocra {
  readonly suite: OcraSuite;
  readonly #key: Hmac;

  /**
   * @param suite - the suite text, or a parsed suite (read again from its `text`, so it cannot disagree)
   * @param secret - the key, as bytes (its length is checked as {@link HmacKey} does), or a keyed {@link Hmac}
   *   of the suite's algorithm that holds it elsewhere (a key store's)
   * @throws `OCRA_SUITE_INVALID` for a malformed suite, `OTP_SECRET_INVALID`/`OTP_SECRET_TOO_SHORT` for the key.
   */
  constructor(suite: OcraSuite | string, secret: Uint8Array | Hmac, options: HmacKeyOptions = {}) {
    if (typeof suite === "string") this.suite = parseOcraSuite(suite);
    else if (isRecord(suite) && typeof suite.text === "string") this.suite = parseOcraSuite(suite.text);
    else throw wrong("OCRA_SUITE_INVALID", "the OCRA suite", "a suite text or a parsed suite", suite);
    if (!isHmac(secret)) this.#key = new HmacKey(secret, this.suite.algorithm, options);
    else if (secret.algorithm !== this.suite.algorithm)
      throw wrong(
        "INPUT_INVALID",
        "the key",
        `an HMAC-${this.suite.algorithm} key`,
        secret,
        `HMAC-${secret.algorithm}`,
      );
    else this.#key = secret;
  }

  /** The response to one question (challenge and the suite's other fields), as the token shows it. */
  response(input: OcraInput): string {
    return ocraResult(this.suite, this.#key.mac(ocraDataInput(this.suite, input)));
  }

  /** Mutual mode (§7.3): the server answers Q = client ‖ server challenge; the client Q = server ‖ client. */
  serverResponse(
    clientChallenge: string,
    serverChallenge: string,
    rest: Omit<OcraInput, "challenge"> = {},
  ): string {
    checkOcraChallenge(this.suite, clientChallenge);
    checkOcraChallenge(this.suite, serverChallenge);
    return this.response({ ...rest, challenge: clientChallenge + serverChallenge });
  }

  clientResponse(
    serverChallenge: string,
    clientChallenge: string,
    rest: Omit<OcraInput, "challenge"> = {},
  ): string {
    checkOcraChallenge(this.suite, clientChallenge);
    checkOcraChallenge(this.suite, serverChallenge);
    return this.response({ ...rest, challenge: serverChallenge + clientChallenge });
  }
}
