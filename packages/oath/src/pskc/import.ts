import { CapkitError, fromBase64, readUint } from "@capkit/core";
import { expectBoolean, expectBytes, expectInteger, expectOptions, expectString } from "../arguments.js";
import {
  aesCbcDecrypt,
  derivePasswordKey,
  derivePasswordKeyAsync,
  macMatches,
  type Pbkdf2Parameters,
  randomBytes,
} from "./crypto.js";
import { CBC_ALGORITHMS, keyTypeOf, MAC_ALGORITHMS, NS, PBKDF2_URI, type PskcKey } from "./model.js";
import { fromPrivacyIdeaExport } from "./privacyidea.js";
import { child, childrenNamed, parseXml, textOf, type XmlElement, type XmlLimits } from "./xml.js";

/** Options of {@link importPskc} and {@link importPskcAsync}. */
export interface PskcImportOptions {
  /** The pre-shared key named by `<EncryptionKey><ds:KeyName>` (RFC 6030 §6.1). */
  readonly preSharedKey?: Uint8Array;
  /** The password for a PBKDF2-protected document (§6.2). */
  readonly password?: string;
  /**
   * PBKDF2 iteration bounds: fewer is weak, more is a denial of service. Default 1,000 to 1,000,000 for
   * {@link importPskcAsync}; {@link importPskc}, which derives on the calling thread, stops at 10,000 unless
   * given a higher `maxIterations`.
   */
  readonly minIterations?: number;
  readonly maxIterations?: number;
  /** Older drafts MACed the plaintext; some vendor files still do (python-pskc). Off unless asked. */
  readonly allowMacOverPlaintext?: boolean;
  readonly limits?: XmlLimits & { readonly maxKeyPackages?: number };
}

/** The keys of a PSKC document, secrets decrypted, and what was odd about it. */
export interface PskcImport {
  readonly keys: PskcKey[];
  /** Things a person should know (a non-conformant file read anyway, a pre-RFC MAC): never about secrets. */
  readonly warnings: string[];
}

/** The fewest PBKDF2 iterations accepted by default (below it a password file is too cheap to attack). */
export const PBKDF2_MIN_ITERATIONS = 1000;
/** The most PBKDF2 iterations {@link importPskcAsync} derives by default (≈ 0.5 s in WebCrypto here). */
export const PBKDF2_MAX_ITERATIONS = 1_000_000;
/** The most {@link importPskc} derives on the calling thread by default (≈ 50 ms of HMAC-SHA-512 here). */
export const PBKDF2_MAX_SYNC_ITERATIONS = 10_000;
/** Salt lengths accepted, in bytes: RFC 8018 §4.1 asks for at least 8. */
const SALT_BYTES = { min: 8, max: 64 } as const;

/** A PSKC error, at the line of the element it is about when there is one. */
function invalid(message: string, at?: XmlElement): CapkitError {
  return new CapkitError(
    "PSKC_INVALID",
    `PSKC${at ? ` line ${at.line}` : ""}: ${message}`,
    at ? { details: { line: at.line } } : {},
  );
}

const P = NS.pskc;

/** Namespaces accepted; unqualified elements only inside PBKDF2-params, as the PKCS #5 schema has them. */
function allowNamespace(uri: string, parent: XmlElement | undefined): boolean {
  if (uri === "")
    return (
      parent !== undefined &&
      (parent.uri === "" || (parent.uri === NS.pkcs5 && parent.local.toLowerCase() === "pbkdf2-params"))
    );
  return (Object.values(NS) as string[]).includes(uri);
}

interface Protection {
  encryptionKey: Uint8Array | undefined;
  mac: { alg: "SHA1" | "SHA256"; key: Uint8Array } | undefined;
}

/** Where the document's encryption key comes from, every limit already checked. */
type KeySource =
  | { readonly kind: "none" }
  | { readonly kind: "pre-shared-key"; readonly key: Uint8Array }
  | { readonly kind: "password"; readonly password: string; readonly pbkdf2: Pbkdf2Parameters };

/** A document read and checked as far as it can be without its key. */
interface Plan {
  readonly root: XmlElement;
  readonly packages: XmlElement[];
  readonly source: KeySource;
  readonly warnings: string[];
}

/**
 * Reads a PSKC document (RFC 6030) on the calling thread. Plain and pre-shared-key documents need no key
 * derivation and are read at once; a password document's PBKDF2 runs here too, so its iteration count is
 * capped at {@link PBKDF2_MAX_SYNC_ITERATIONS} by default — untrusted password files go through
 * {@link importPskcAsync}, which derives off the event loop.
 *
 * Every limit (XML size and shape, PBKDF2 iterations, key length, PRF and salt, encryption and MAC methods) is
 * checked before any derivation or decryption; every ValueMAC before its value is decrypted. privacyIDEA's
 * export (lower-case element names, the hash in `<suite hashalgo>`) is read, with a warning that it is not
 * conformant.
 *
 * @throws `PSKC_XML_REJECTED` (unsafe or malformed XML), `PSKC_INVALID` (the document, naming its line),
 *   `PSKC_MAC_INVALID` (one error for any tampering, wrong key or wrong password), `INPUT_INVALID` (options).
 *
 * @example
 * ```ts
 * const { keys, warnings } = importPskc(xml, { preSharedKey });
 * ```
 */
export function importPskc(xml: string, options: PskcImportOptions = {}): PskcImport {
  const plan = readPlan(xml, options, PBKDF2_MAX_SYNC_ITERATIONS);
  const key =
    plan.source.kind === "password"
      ? derivePasswordKey(plan.source.password, plan.source.pbkdf2)
      : plan.source.kind === "pre-shared-key"
        ? plan.source.key
        : undefined;
  return readKeys(plan, key, options);
}

/**
 * Reads a PSKC document (RFC 6030) like {@link importPskc}, with a password document's PBKDF2 (up to
 * 1,000,000 iterations by default) off the event loop: WebCrypto where the platform has it, else in slices
 * that yield. What a server or a page calls on a file it did not write.
 *
 * @example
 * ```ts
 * const { keys } = await importPskcAsync(xml, { password });
 * const tokens = tokensFromPskc(keys); // every key mapped, or the file refused naming the key
 * ```
 */
export async function importPskcAsync(xml: string, options: PskcImportOptions = {}): Promise<PskcImport> {
  const plan = readPlan(xml, options, PBKDF2_MAX_ITERATIONS);
  const key =
    plan.source.kind === "password"
      ? await derivePasswordKeyAsync(plan.source.password, plan.source.pbkdf2)
      : plan.source.kind === "pre-shared-key"
        ? plan.source.key
        : undefined;
  return readKeys(plan, key, options);
}

function readPlan(xml: string, options: PskcImportOptions, defaultMaxIterations: number): Plan {
  const o = checkOptions(options);
  const warnings: string[] = [];
  let root = parseXml(xml, allowNamespace, o.limits);
  const privacyIdea = fromPrivacyIdeaExport(root);
  if (privacyIdea) {
    root = privacyIdea.root;
    warnings.push(...privacyIdea.warnings);
  }
  if (root.uri !== P || root.local !== "KeyContainer")
    throw invalid("the root is not a pskc:KeyContainer", root);
  if (root.attributes.get("Version") !== "1.0")
    throw invalid('only KeyContainer Version="1.0" is supported', root);
  const packages = childrenNamed(root, P, "KeyPackage");
  const maxPackages = o.limits?.maxKeyPackages ?? 10_000;
  if (packages.length > maxPackages) throw invalid(`more than ${maxPackages} KeyPackages`);
  const keyLength = checkEncryptedValues(root);
  const source = keySource(root, o, keyLength, defaultMaxIterations);
  return { root, packages, source, warnings };
}

function checkOptions(options: PskcImportOptions): PskcImportOptions {
  const o = expectOptions<PskcImportOptions>(options, "the PSKC import options");
  if (o.preSharedKey !== undefined) expectBytes(o.preSharedKey, "the pre-shared key");
  if (o.password !== undefined) expectString(o.password, "the password");
  if (o.minIterations !== undefined) expectInteger(o.minIterations, "minIterations", 1, 2 ** 31);
  if (o.maxIterations !== undefined) expectInteger(o.maxIterations, "maxIterations", 1, 2 ** 31);
  expectBoolean(o.allowMacOverPlaintext, "allowMacOverPlaintext");
  if (o.limits !== undefined) expectOptions(o.limits, "the PSKC limits");
  return o;
}

/**
 * Every encrypted value of the document, checked before any key exists: its method allowed (RFC 6030 §6.1:
 * AES-CBC), its CipherValue present, a ValueMAC beside it and a MACMethod in the document (§6.1.1). Returns
 * the AES key length they all need (one key encrypts them all), or undefined when nothing is encrypted.
 */
function checkEncryptedValues(root: XmlElement): number | undefined {
  const encrypted: XmlElement[] = [];
  const mm = child(root, P, "MACMethod");
  const mk = mm && child(mm, P, "MACKey");
  if (mm && !mk) throw invalid("MACMethod without MACKey", mm);
  if (mk) encrypted.push(mk);
  const walk = (el: XmlElement, parent: XmlElement | undefined) => {
    if (el.uri === P && el.local === "EncryptedValue") {
      if (!parent || !child(parent, P, "ValueMAC") || !mm)
        throw new CapkitError(
          "PSKC_MAC_INVALID",
          `PSKC line ${el.line}: a CBC-encrypted value needs a ValueMAC (RFC 6030 §6.1.1)`,
          { details: { line: el.line } },
        );
      encrypted.push(el);
    }
    for (const c of el.children) walk(c, el);
  };
  for (const kp of childrenNamed(root, P, "KeyPackage")) walk(kp, root);
  let length: number | undefined;
  for (const el of encrypted) {
    const alg = child(el, NS.xenc, "EncryptionMethod")?.attributes.get("Algorithm") ?? "";
    const keyLength = CBC_ALGORITHMS[alg];
    if (!keyLength) throw invalid(`unsupported encryption algorithm ${alg || "(none)"}`, el);
    if (length !== undefined && keyLength !== length)
      throw invalid("the document's encrypted values need keys of different lengths", el);
    length = keyLength;
    if (!textOf(child(child(el, NS.xenc, "CipherData") ?? el, NS.xenc, "CipherValue")))
      throw invalid("CipherValue missing", el);
  }
  if (mm && !MAC_ALGORITHMS[mm.attributes.get("Algorithm") as keyof typeof MAC_ALGORITHMS])
    throw invalid(`unsupported MACMethod ${mm.attributes.get("Algorithm")}`, mm);
  return length;
}

function keySource(
  root: XmlElement,
  options: PskcImportOptions,
  keyLength: number | undefined,
  defaultMaxIterations: number,
): KeySource {
  const ek = child(root, P, "EncryptionKey");
  if (!ek) {
    if (keyLength !== undefined)
      throw invalid("values are encrypted but the document names no EncryptionKey", root);
    return { kind: "none" };
  }
  const derived = child(ek, NS.xenc11, "DerivedKey");
  if (derived) {
    if (options.password === undefined)
      throw invalid("this document is password-protected: give the password", ek);
    const pbkdf2 = pbkdf2Parameters(derived, options, keyLength, defaultMaxIterations);
    return { kind: "password", password: options.password, pbkdf2 };
  }
  if (child(ek, NS.ds, "KeyName")) {
    if (!options.preSharedKey) {
      throw invalid(
        `this document is encrypted with the pre-shared key "${textOf(child(ek, NS.ds, "KeyName"))}": give that key`,
        ek,
      );
    }
    if (keyLength !== undefined && options.preSharedKey.length !== keyLength)
      throw invalid(
        `the values need a ${keyLength}-byte key; the pre-shared key has ${options.preSharedKey.length}`,
        ek,
      );
    return { kind: "pre-shared-key", key: options.preSharedKey };
  }
  throw invalid("EncryptionKey has neither ds:KeyName nor xenc11:DerivedKey", ek);
}

/** PRF algorithm URIs, by the hash they name (XML Encryption 1.1 §5.4.2 takes HMAC URIs of XML-DSig). */
function prfOf(uri: string): Pbkdf2Parameters["prf"] | undefined {
  if (uri === "" || /hmac-?sha-?1$/i.test(uri)) return "SHA1";
  if (/sha-?256$/i.test(uri)) return "SHA256";
  if (/sha-?512$/i.test(uri)) return "SHA512";
  return undefined;
}

/**
 * The PBKDF2 parameters (RFC 8018 Appendix A.2, in XML per XML Encryption 1.1 §5.4.2), every limit checked
 * before anything is derived: iterations within bounds, a key length the document's encryption method takes,
 * an allowed PRF, a salt of 8 to 64 bytes. A file that will be refused is refused without deriving.
 */
function pbkdf2Parameters(
  derived: XmlElement,
  options: PskcImportOptions,
  keyLength: number | undefined,
  defaultMaxIterations: number,
): Pbkdf2Parameters {
  const method = child(derived, NS.xenc11, "KeyDerivationMethod");
  if (method?.attributes.get("Algorithm") !== PBKDF2_URI)
    throw invalid("only PBKDF2 key derivation is supported", method ?? derived);
  const params = child(method, NS.pkcs5, "PBKDF2-params");
  if (!params) throw invalid("PBKDF2-params missing", method);
  const min = options.minIterations ?? PBKDF2_MIN_ITERATIONS;
  const max = options.maxIterations ?? defaultMaxIterations;
  // XML Schema's positiveInteger is decimal digits: "1e6" or "0x10" are not a count.
  const countText = textOf(child(params, "", "IterationCount")) ?? "";
  const iterations = /^[0-9]{1,10}$/.test(countText) ? Number(countText) : Number.NaN;
  if (!Number.isInteger(iterations) || iterations < min || iterations > max) {
    const async =
      options.maxIterations === undefined && max < PBKDF2_MAX_ITERATIONS
        ? ` here (importPskcAsync derives up to ${PBKDF2_MAX_ITERATIONS} off the event loop)`
        : "";
    throw invalid(`PBKDF2 iteration count must be ${min} to ${max}${async}`, params);
  }
  const lengthText = textOf(child(params, "", "KeyLength"));
  const length =
    lengthText === undefined ? (keyLength ?? 16) : /^[0-9]{1,3}$/.test(lengthText) ? Number(lengthText) : 0;
  if (![16, 24, 32].includes(length)) throw invalid("PBKDF2 KeyLength must be 16, 24 or 32", params);
  if (keyLength !== undefined && length !== keyLength)
    throw invalid(`PBKDF2 KeyLength ${length} does not fit the values' ${keyLength}-byte AES key`, params);
  const prfUri = child(params, "", "PRF")?.attributes.get("Algorithm") ?? "";
  const prf = prfOf(prfUri);
  if (!prf) throw invalid(`unsupported PBKDF2 PRF ${prfUri}`, params);
  const saltText = textOf(child(child(params, "", "Salt") ?? params, "", "Specified"));
  if (!saltText) throw invalid("PBKDF2 salt missing", params);
  const salt = fromBase64(saltText, "PBKDF2 salt");
  if (salt.length < SALT_BYTES.min || salt.length > SALT_BYTES.max)
    throw invalid(`the PBKDF2 salt must be ${SALT_BYTES.min} to ${SALT_BYTES.max} bytes`, params);
  return { salt, iterations, keyLength: length, prf };
}

function readKeys(plan: Plan, encryptionKey: Uint8Array | undefined, options: PskcImportOptions): PskcImport {
  const protection: Protection = { encryptionKey, mac: macKey(plan.root, encryptionKey) };
  const warnings = [...plan.warnings];
  const keys = plan.packages.map((kp, i) => readKeyPackage(kp, i, protection, options, warnings));
  return { keys, warnings };
}

/** The MAC key (RFC 6030 §6.1.1), decrypted with the document's key; its method was checked in the plan. */
function macKey(root: XmlElement, encryptionKey: Uint8Array | undefined): Protection["mac"] {
  const mm = child(root, P, "MACMethod");
  if (!mm) return undefined;
  const alg = MAC_ALGORITHMS[mm.attributes.get("Algorithm") as keyof typeof MAC_ALGORITHMS]!;
  const mk = child(mm, P, "MACKey")!;
  if (!encryptionKey) throw invalid("the MACKey is encrypted but the document names no EncryptionKey", mk);
  // The MACKey itself carries no MAC (RFC 6030 §6.1.1). A wrong key or a tampered MACKey must not answer
  // differently from a tampered value (a padding oracle): it becomes a key no ValueMAC matches.
  let key: Uint8Array;
  try {
    key = aesCbcDecrypt(encryptionKey, cipherValue(mk));
  } catch (e) {
    if (!(e instanceof CapkitError) || e.code !== "PSKC_DECRYPT_FAILED") throw e;
    key = randomBytes(32);
  }
  return { alg, key };
}

/** `<xenc:CipherData><xenc:CipherValue>` → the raw CipherValue (its method checked in the plan). */
function cipherValue(el: XmlElement): Uint8Array {
  const cv = textOf(child(child(el, NS.xenc, "CipherData") ?? el, NS.xenc, "CipherValue"));
  return fromBase64(cv ?? "", "CipherValue");
}

/** A PSKC data value: PlainValue, or EncryptedValue with its ValueMAC (§4.3). */
function dataValue(
  el: XmlElement | undefined,
  what: string,
  protection: Protection,
  options: PskcImportOptions,
  warnings: string[],
): Uint8Array | string | undefined {
  if (!el) return undefined;
  const plain = child(el, P, "PlainValue");
  if (plain) return textOf(plain) ?? "";
  const enc = child(el, P, "EncryptedValue");
  if (!enc) throw invalid(`${what} has neither PlainValue nor EncryptedValue`, el);
  if (!protection.encryptionKey)
    throw invalid(`${what} is encrypted but the document names no EncryptionKey`, el);
  const raw = cipherValue(enc);
  const macText = textOf(child(el, P, "ValueMAC"));
  if (!protection.mac || !macText)
    throw new CapkitError(
      "PSKC_MAC_INVALID",
      `${what}: a CBC-encrypted value needs a ValueMAC (RFC 6030 §6.1.1)`,
    );
  // The MAC over IV ‖ ciphertext is checked before anything is decrypted (RFC 6030 §6.1.1), and every mismatch
  // is one and the same error: a tampered ciphertext never reaches the padding check (no padding oracle).
  const macInvalid = () =>
    new CapkitError(
      "PSKC_MAC_INVALID",
      `${what}: ValueMAC does not match (file altered, or wrong key or password)`,
    );
  if (macMatches(protection.mac.alg, protection.mac.key, raw, macText)) {
    return aesCbcDecrypt(protection.encryptionKey, raw);
  }
  if (!options.allowMacOverPlaintext) throw macInvalid();
  // Pre-RFC files MAC the plaintext, so it must be decrypted first; any failure there is the same mismatch.
  let plainValue: Uint8Array;
  try {
    plainValue = aesCbcDecrypt(protection.encryptionKey, raw);
  } catch {
    throw macInvalid();
  }
  if (macMatches(protection.mac.alg, protection.mac.key, plainValue, macText)) {
    warnings.push(`${what}: ValueMAC covers the plaintext (pre-RFC draft format)`);
    return plainValue;
  }
  throw macInvalid();
}

function integerValue(v: Uint8Array | string | undefined, what: string, at?: XmlElement): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") return readUint(v.length > 6 ? v.subarray(v.length - 6) : v);
  if (!/^-?[0-9]{1,15}$/.test(v)) throw invalid(`${what} is not an integer`, at);
  return Number(v);
}

function readKeyPackage(
  kp: XmlElement,
  index: number,
  protection: Protection,
  options: PskcImportOptions,
  warnings: string[],
): PskcKey {
  const key = child(kp, P, "Key");
  if (!key) throw invalid(`KeyPackage ${index + 1} has no Key`, kp);
  const id = key.attributes.get("Id") ?? "";
  const algorithm = key.attributes.get("Algorithm") ?? "";
  if (!algorithm) throw invalid(`key ${id || index + 1} has no Algorithm`, key);
  const where = `key ${id || index + 1}`;
  const device = child(kp, P, "DeviceInfo");
  const params = child(key, P, "AlgorithmParameters");
  const response = params && child(params, P, "ResponseFormat");
  const data = child(key, P, "Data");
  const secretRaw =
    data && dataValue(child(data, P, "Secret"), `${where} secret`, protection, options, warnings);
  const num = (name: string) =>
    data &&
    integerValue(
      dataValue(child(data, P, name), `${where} ${name}`, protection, options, warnings),
      `${where} ${name}`,
      child(data, P, name),
    );
  const length = response?.attributes.get("Length");
  const fields = {
    issuer: textOf(child(key, P, "Issuer")),
    friendlyName: textOf(child(key, P, "FriendlyName")),
    userId: textOf(child(key, P, "UserId")) ?? textOf(device && child(device, P, "UserId")),
    manufacturer: textOf(device && child(device, P, "Manufacturer")),
    serialNo: textOf(device && child(device, P, "SerialNo")),
    model: textOf(device && child(device, P, "Model")),
    secret:
      secretRaw === undefined
        ? undefined
        : typeof secretRaw === "string"
          ? fromBase64(secretRaw, `${where} secret`)
          : secretRaw,
    counter: num("Counter"),
    time: num("Time"),
    timeInterval: num("TimeInterval"),
    timeDrift: num("TimeDrift"),
    responseLength: length === undefined ? undefined : integerValue(length, `${where} response length`),
    responseEncoding: response?.attributes.get("Encoding"),
    suite: textOf(params && child(params, P, "Suite")),
  };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return { id, algorithm, type: keyTypeOf(algorithm), ...defined };
}
