import { CapkitError, fromBase64, readUint } from "@capkit/core";
import { aesCbcDecrypt, derivePasswordKey, macMatches, randomBytes } from "./crypto.js";
import { CBC_ALGORITHMS, keyTypeOf, MAC_ALGORITHMS, NS, PBKDF2_URI, type PskcKey } from "./model.js";
import { child, childrenNamed, parseXml, textOf, type XmlElement, type XmlLimits } from "./xml.js";

export interface PskcImportOptions {
  /** The pre-shared key named by `<EncryptionKey><ds:KeyName>` (RFC 6030 §6.1). */
  readonly preSharedKey?: Uint8Array;
  /** The password for a PBKDF2-protected document (§6.2). */
  readonly password?: string;
  /** PBKDF2 iteration bounds: fewer is weak, more is a denial of service. Default 1,000 to 1,000,000. */
  readonly minIterations?: number;
  readonly maxIterations?: number;
  /** Older drafts MACed the plaintext; some vendor files still do (python-pskc). Off unless asked. */
  readonly allowMacOverPlaintext?: boolean;
  readonly limits?: XmlLimits & { readonly maxKeyPackages?: number };
}

export interface PskcImport {
  readonly keys: PskcKey[];
  readonly warnings: string[];
}

function invalid(message: string): CapkitError {
  return new CapkitError("PSKC_INVALID", `PSKC: ${message}`);
}

const P = NS.pskc;

/** Namespaces accepted; unqualified elements only inside PBKDF2-params, as the PKCS #5 schema has them. */
function allowNamespace(uri: string, parent: XmlElement | undefined): boolean {
  if (uri === "")
    return (
      parent !== undefined &&
      (parent.uri === "" || (parent.uri === NS.pkcs5 && parent.local === "PBKDF2-params"))
    );
  return (Object.values(NS) as string[]).includes(uri);
}

interface Protection {
  encryptionKey: Uint8Array | undefined;
  mac: { alg: "SHA1" | "SHA256"; key: Uint8Array } | undefined;
}

export function importPskc(xml: string, options: PskcImportOptions = {}): PskcImport {
  const root = parseXml(xml, allowNamespace, options.limits);
  if (root.uri !== P || root.local !== "KeyContainer") throw invalid("the root is not a pskc:KeyContainer");
  if (root.attributes.get("Version") !== "1.0") throw invalid('only KeyContainer Version="1.0" is supported');
  const warnings: string[] = [];
  const packages = childrenNamed(root, P, "KeyPackage");
  const maxPackages = options.limits?.maxKeyPackages ?? 10_000;
  if (packages.length > maxPackages) throw invalid(`more than ${maxPackages} KeyPackages`);
  const protection = readProtection(root, options);
  const keys = packages.map((kp, i) => readKeyPackage(kp, i, protection, options, warnings));
  return { keys, warnings };
}

function readProtection(root: XmlElement, options: PskcImportOptions): Protection {
  const ek = child(root, P, "EncryptionKey");
  let encryptionKey: Uint8Array | undefined;
  if (ek) {
    const derived = child(ek, NS.xenc11, "DerivedKey");
    if (derived) {
      if (options.password === undefined)
        throw invalid("this document is password-protected: give the password");
      encryptionKey = derivedKey(derived, options);
    } else if (child(ek, NS.ds, "KeyName")) {
      if (!options.preSharedKey) {
        throw invalid(
          `this document is encrypted with the pre-shared key "${textOf(child(ek, NS.ds, "KeyName"))}": give that key`,
        );
      }
      encryptionKey = options.preSharedKey;
    } else {
      throw invalid("EncryptionKey has neither ds:KeyName nor xenc11:DerivedKey");
    }
  }
  const mm = child(root, P, "MACMethod");
  if (!mm) return { encryptionKey, mac: undefined };
  const alg = MAC_ALGORITHMS[mm.attributes.get("Algorithm") as keyof typeof MAC_ALGORITHMS];
  if (!alg) throw invalid(`unsupported MACMethod ${mm.attributes.get("Algorithm")}`);
  const mk = child(mm, P, "MACKey");
  if (!mk) throw invalid("MACMethod without MACKey");
  if (!encryptionKey) throw invalid("the MACKey is encrypted but the document names no EncryptionKey");
  // The MACKey itself carries no MAC (RFC 6030 §6.1.1). A wrong key or a tampered MACKey must not answer
  // differently from a tampered value (a padding oracle): it becomes a key no ValueMAC matches.
  let key: Uint8Array;
  try {
    key = decryptCipherData(mk, encryptionKey);
  } catch (e) {
    if (!(e instanceof CapkitError) || e.code !== "PSKC_DECRYPT_FAILED") throw e;
    key = randomBytes(32);
  }
  return { encryptionKey, mac: { alg, key } };
}

function derivedKey(derived: XmlElement, options: PskcImportOptions): Uint8Array {
  const method = child(derived, NS.xenc11, "KeyDerivationMethod");
  if (method?.attributes.get("Algorithm") !== PBKDF2_URI)
    throw invalid("only PBKDF2 key derivation is supported");
  const params = child(method, NS.pkcs5, "PBKDF2-params");
  if (!params) throw invalid("PBKDF2-params missing");
  const salt = textOf(child(child(params, "", "Salt") ?? params, "", "Specified"));
  const iterations = Number(textOf(child(params, "", "IterationCount")));
  const keyLength = Number(textOf(child(params, "", "KeyLength")) ?? "16");
  if (!salt) throw invalid("PBKDF2 salt missing");
  const min = options.minIterations ?? 1000;
  const max = options.maxIterations ?? 1_000_000;
  if (!Number.isInteger(iterations) || iterations < min || iterations > max) {
    throw invalid(`PBKDF2 iteration count must be ${min} to ${max}`);
  }
  if (![16, 24, 32].includes(keyLength)) throw invalid("PBKDF2 KeyLength must be 16, 24 or 32");
  const prfAlg = child(params, "", "PRF")?.attributes.get("Algorithm") ?? "";
  const prf =
    prfAlg === "" || /hmac-?sha-?1$/i.test(prfAlg)
      ? "SHA1"
      : /sha-?256$/i.test(prfAlg)
        ? "SHA256"
        : /sha-?512$/i.test(prfAlg)
          ? "SHA512"
          : undefined;
  if (!prf) throw invalid(`unsupported PBKDF2 PRF ${prfAlg}`);
  return derivePasswordKey(options.password!, fromBase64(salt, "PBKDF2 salt"), iterations, keyLength, prf);
}

/** `<xenc:EncryptionMethod/> <xenc:CipherData><xenc:CipherValue>` → the raw CipherValue, algorithm checked. */
function cipherValue(el: XmlElement, key: Uint8Array): Uint8Array {
  const alg = child(el, NS.xenc, "EncryptionMethod")?.attributes.get("Algorithm") ?? "";
  const keyLength = CBC_ALGORITHMS[alg];
  if (!keyLength) throw invalid(`unsupported encryption algorithm ${alg || "(none)"}`);
  if (key.length !== keyLength) throw invalid(`${alg} needs a ${keyLength}-byte key, got ${key.length}`);
  const cv = textOf(child(child(el, NS.xenc, "CipherData") ?? el, NS.xenc, "CipherValue"));
  if (!cv) throw invalid("CipherValue missing");
  return fromBase64(cv, "CipherValue");
}

function decryptCipherData(el: XmlElement, key: Uint8Array): Uint8Array {
  return aesCbcDecrypt(key, cipherValue(el, key));
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
  if (!enc) throw invalid(`${what} has neither PlainValue nor EncryptedValue`);
  if (!protection.encryptionKey)
    throw invalid(`${what} is encrypted but the document names no EncryptionKey`);
  const raw = cipherValue(enc, protection.encryptionKey);
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

function integerValue(v: Uint8Array | string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") return readUint(v.length > 6 ? v.subarray(v.length - 6) : v);
  if (!/^-?[0-9]{1,15}$/.test(v)) throw invalid(`${what} is not an integer`);
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
  if (!key) throw invalid(`KeyPackage ${index + 1} has no Key`);
  const id = key.attributes.get("Id") ?? "";
  const algorithm = key.attributes.get("Algorithm") ?? "";
  if (!algorithm) throw invalid(`key ${id || index + 1} has no Algorithm`);
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
