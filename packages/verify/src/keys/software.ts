import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { readFileSync } from "node:fs";
import {
  argumentError,
  CapkitError,
  expectBoolean,
  fromBase64,
  fromHex,
  isRecord,
  toBase64,
} from "@capkit/core";
import {
  CryptogramCalculator,
  type CryptogramMac,
  cryptogramSpec,
  deriveIccMasterKey,
  type MasterKeyDerivation,
} from "@capkit/emv-cap";
import { type Hmac, HmacKey, type OathAlgorithm } from "@capkit/oath";
import { auditKeyId, rawEd25519 } from "../audit/checkpoint.js";
import type { CapCardKey, KeyProvider, SealedUse } from "../key-provider.js";
import { checkOptions } from "../requests.js";
import { checkTestKeysAllowed, openedPan, sealBinding, sealedParts } from "./sealed.js";

/**
 * A {@link SoftwareKeyProvider}'s keys, as a key file or `CAPKIT_KEYS` holds them (JSON): one master key that
 * seals everything stored and from which the audit and receipt signing keys are derived, and the issuers' CAP
 * master keys by reference. Keep it out of the database and out of the repository (mode 0600, a secret
 * manager); `SoftwareKeyProvider.generateMaterial` makes a fresh one.
 */
export interface SoftwareKeyMaterial {
  /** 32-byte AES-256-GCM key sealing OATH secrets, test keys and PANs (hex). */
  readonly masterKey: string;
  /**
   * During a rotation: the master keys being replaced (hex). Values sealed under them still open, and
   * `Verifier.rekey` re-seals them under `masterKey`; once it has finished, remove them (they are then refused).
   */
  readonly previousMasterKeys?: readonly string[];
  /** Issuer master keys by reference (hex, 16 bytes) for CAP records with `key.kind: "reference"`. */
  readonly issuerKeys?: Readonly<Record<string, string>>;
  /** Accept CAP records carrying a test IMK in clear (simulated cards). Off in production. */
  readonly allowTestKeys?: boolean;
}

/** Sealed before key ids (0.1): AES-256-GCM, the credential id as AAD, under the one master key of the time. */
const LEGACY = "v1";
const SCHEME = "v2";

/**
 * Keys in this process's memory, loaded from a JSON file or the CAPKIT_KEYS environment variable, computing in
 * process: the OATH HMAC with its pads hashed once (`HmacKey`), the CAP cryptogram with the card's key schedule
 * prepared once (`CryptogramCalculator`). Sealed values are `v2:<key id>:<base64 of IV ‖ ciphertext ‖ tag>`,
 * AES-256-GCM with the use and the credential id as associated data. Secrets never appear in errors or logs:
 * messages name the credential or the reference, nothing else.
 *
 * @example
 * ```ts
 * // Once, at deployment: fresh material from the CSPRNG, kept in a secret manager or a 0600 file.
 * const material = SoftwareKeyProvider.generateMaterial();
 * // Each start: from the environment (CAPKIT_KEYS holds the JSON) or a file.
 * const keys = SoftwareKeyProvider.fromEnv(); // or SoftwareKeyProvider.fromFile("/etc/capkit/keys.json")
 * const verifier = new Verifier({ store, keys });
 * // Rotation: the new master key, the old one as previous until `verifier.rekey()` has run.
 * new SoftwareKeyProvider({ masterKey: next, previousMasterKeys: [material.masterKey] });
 * ```
 */
export class SoftwareKeyProvider implements KeyProvider {
  /** {@inheritDoc KeyProvider.currentKeyId} */
  readonly currentKeyId: string;
  /** Master keys by key id, the current one first. */
  readonly #masters: Map<string, Uint8Array>;
  readonly #issuer: Map<string, Uint8Array>;
  readonly #allowTest: boolean;
  /** Signing keys derived from the master keys, by purpose and key id (src/keys/software.ts `signingKey`). */
  readonly #signingKeys = new Map<string, SigningKey>();

  /**
   * @param material - the keys, in hex
   * @throws `KEY_INVALID` naming the key that is not of its length in hex (never showing it)
   */
  constructor(material: SoftwareKeyMaterial) {
    if (!isRecord(material)) throw argumentError("KEY_INVALID", "key material", "an object", material);
    const current = parseKey(material.masterKey, 32, "masterKey");
    this.currentKeyId = keyIdOf(current);
    this.#masters = new Map([[this.currentKeyId, current]]);
    const previous = material.previousMasterKeys === undefined ? [] : material.previousMasterKeys;
    if (!Array.isArray(previous)) throw new CapkitError("KEY_INVALID", "previousMasterKeys must be a list");
    previous.forEach((hex, i) => {
      const k = parseKey(hex, 32, `previousMasterKeys[${i}]`);
      this.#masters.set(keyIdOf(k), k);
    });
    const issuerKeys: unknown = material.issuerKeys === undefined ? {} : material.issuerKeys;
    if (!isRecord(issuerKeys))
      throw argumentError("KEY_INVALID", "issuerKeys", "an object of hex keys by reference", issuerKeys);
    if (material.allowTestKeys !== undefined && typeof material.allowTestKeys !== "boolean")
      throw argumentError("KEY_INVALID", "allowTestKeys", "true or false", material.allowTestKeys);
    this.#issuer = new Map(
      Object.entries(issuerKeys).map(([ref, hex]) => [ref, parseKey(hex, 16, `issuer key ${ref}`)]),
    );
    this.#allowTest = material.allowTestKeys ?? false;
  }

  /**
   * The provider of a key file (JSON {@link SoftwareKeyMaterial}).
   *
   * @throws `KEY_INVALID` when the file cannot be read or is not valid material (naming the file, never its content)
   */
  static fromFile(path: string): SoftwareKeyProvider {
    return new SoftwareKeyProvider(readMaterialFile(path) as SoftwareKeyMaterial);
  }

  /**
   * The provider of an environment variable holding the JSON {@link SoftwareKeyMaterial} (default `CAPKIT_KEYS`).
   *
   * @throws `KEY_INVALID` when it is not set or not valid material (never showing its value)
   */
  static fromEnv(name = "CAPKIT_KEYS"): SoftwareKeyProvider {
    if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name))
      throw argumentError("INPUT_INVALID", "the variable's name", "an environment variable's name", name);
    const text = Object.hasOwn(process.env, name) ? process.env[name] : undefined;
    if (!text)
      throw new CapkitError("KEY_INVALID", `${name} is not set`, {
        hint: 'set it to {"masterKey":"<64 hex digits>"}',
      });
    return new SoftwareKeyProvider(parseMaterial(text, name) as SoftwareKeyMaterial);
  }

  /** Fresh random material (CSPRNG), e.g. for a new deployment or a demo. */
  static generateMaterial(options: { allowTestKeys?: boolean } = {}): SoftwareKeyMaterial {
    checkOptions(options, "the material's options", ["allowTestKeys"]);
    expectBoolean(options.allowTestKeys, "allowTestKeys");
    return {
      masterKey: randomBytes(32).toString("hex").toUpperCase(),
      ...(options.allowTestKeys ? { allowTestKeys: true } : {}),
    };
  }

  /** {@inheritDoc KeyProvider.keyIdOf} */
  keyIdOf(sealed: string): string | undefined {
    const p = sealedParts(sealed);
    if (p?.scheme === SCHEME) return p.keyId;
    return p?.scheme === LEGACY ? LEGACY : undefined;
  }

  /** {@inheritDoc KeyProvider.seal} */
  async seal(credentialId: string, use: SealedUse, value: Uint8Array): Promise<string> {
    if (use === "issuer-key") checkTestKeysAllowed(this.#allowTest);
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.#masters.get(this.currentKeyId)!, iv);
    c.setAAD(sealBinding(use, credentialId));
    const ct = Buffer.concat([c.update(value), c.final()]);
    return `${SCHEME}:${this.currentKeyId}:${toBase64(Buffer.concat([iv, ct, c.getAuthTag()]))}`;
  }

  /** {@inheritDoc KeyProvider.reseal} */
  async reseal(credentialId: string, use: SealedUse, sealed: string): Promise<string> {
    const value = this.#open(credentialId, use, sealed);
    try {
      return await this.seal(credentialId, use, value);
    } finally {
      value.fill(0);
    }
  }

  /** {@inheritDoc KeyProvider.hmac} */
  async hmac(credentialId: string, sealed: string, algorithm: OathAlgorithm): Promise<Hmac> {
    const secret = this.#open(credentialId, "hmac", sealed);
    try {
      // The length was checked at enrolment (RFC 4226 R6, or an old token's short seed allowed there).
      return new HmacKey(secret, algorithm, { allowShortSecret: true });
    } finally {
      secret.fill(0);
    }
  }

  /** {@inheritDoc KeyProvider.cryptogram} */
  async cryptogram(credentialId: string, card: CapCardKey): Promise<CryptogramMac> {
    const spec = cryptogramSpec(card.cryptogramVersion);
    const pan = openedPan(card.pan, (sealed) => this.#open(credentialId, "pan", sealed));
    let imk: Uint8Array;
    let derivation: MasterKeyDerivation = "A";
    if (card.issuerKey.kind === "sealed-test-imk") {
      checkTestKeysAllowed(this.#allowTest);
      imk = this.#open(credentialId, "issuer-key", card.issuerKey.sealed);
      derivation = card.issuerKey.derivation;
    } else {
      const held = this.#issuer.get(card.issuerKey.id);
      if (!held)
        throw new CapkitError("KEY_INVALID", `no issuer key "${card.issuerKey.id}" in the key provider`);
      imk = held.slice();
    }
    const icc = deriveIccMasterKey(imk, pan, card.psn, derivation);
    try {
      return new CryptogramCalculator(spec, icc);
    } finally {
      imk.fill(0);
      icc.fill(0);
    }
  }

  /** {@inheritDoc KeyProvider.signAudit} */
  async signAudit(message: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return this.#sign("audit", message);
  }

  /** {@inheritDoc KeyProvider.auditPublicKeys} */
  async auditPublicKeys(): Promise<Record<string, string>> {
    return this.#publicKeys("audit");
  }

  /** {@inheritDoc KeyProvider.signReceipt} */
  async signReceipt(message: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return this.#sign("receipt", message);
  }

  /** {@inheritDoc KeyProvider.receiptPublicKeys} */
  async receiptPublicKeys(): Promise<Record<string, string>> {
    return this.#publicKeys("receipt");
  }

  #sign(purpose: SigningPurpose, message: Uint8Array): { keyId: string; signature: Uint8Array } {
    const { keyId, key } = this.#signingKey(this.currentKeyId, purpose);
    return { keyId, signature: new Uint8Array(sign(null, message, key)) };
  }

  #publicKeys(purpose: SigningPurpose): Record<string, string> {
    return Object.fromEntries(
      [...this.#masters.keys()].map((id) => {
        const { keyId, publicKey } = this.#signingKey(id, purpose);
        return [keyId, publicKey];
      }),
    );
  }

  /** A master key's signing key for `purpose`, derived once (a receipt is signed per approval). */
  #signingKey(masterId: string, purpose: SigningPurpose): SigningKey {
    const name = `${purpose}:${masterId}`;
    let k = this.#signingKeys.get(name);
    if (!k) {
      k = signingKey(this.#masters.get(masterId)!, purpose);
      this.#signingKeys.set(name, k);
    }
    return k;
  }

  /** The plain value; KEY_INVALID when no key of this provider opens it for this credential and use. */
  #open(credentialId: string, use: SealedUse, sealed: string): Uint8Array {
    const p = sealedParts(sealed);
    const scheme = p?.scheme;
    const key =
      scheme === SCHEME
        ? this.#masters.get(p!.keyId)
        : scheme === LEGACY
          ? this.#masters.get(this.currentKeyId)
          : undefined;
    if (!p || (scheme !== SCHEME && scheme !== LEGACY))
      throw new CapkitError("KEY_INVALID", `credential ${credentialId}: unknown sealed format`);
    if (!key)
      throw new CapkitError(
        "KEY_INVALID",
        `credential ${credentialId}: sealed under key ${p.keyId}, which this key provider does not hold`,
        {
          hint: "a rotated-out master key is refused; give the current key (and, during a rotation, the previous)",
        },
      );
    const raw = fromBase64(p.body);
    try {
      const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
      d.setAAD(scheme === LEGACY ? Buffer.from(credentialId, "utf8") : sealBinding(use, credentialId));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return new Uint8Array(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]));
    } catch {
      throw new CapkitError(
        "KEY_INVALID",
        `credential ${credentialId}: its sealed ${use === "pan" ? "card number" : "key"} does not open with this master key`,
      );
    }
  }
}

/** PKCS #8 DER prefix of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows it. */
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");

/** What a master key's Ed25519 signing keys sign: audit checkpoints, or receipts (and operation documents). */
type SigningPurpose = "audit" | "receipt";

/**
 * A signing key of a master key: an Ed25519 seed derived with HKDF-SHA-256 (RFC 5869), one per purpose (its
 * own `info`), so the key file stays one secret; its public key, given to whoever verifies offline, reveals
 * nothing of the master nor of the other purpose's key.
 */
interface SigningKey {
  readonly keyId: string;
  /** The Ed25519 private key as node:crypto holds it (not exportable from here: never serialised). */
  readonly key: KeyObject;
  readonly publicKey: string;
}

function signingKey(master: Uint8Array, purpose: SigningPurpose): SigningKey {
  const info = `capkit ${purpose} signing key/1`;
  const seed = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32));
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: "der", type: "pkcs8" });
  seed.fill(0);
  const publicKey = rawEd25519(createPublicKey(key).export({ format: "der", type: "spki" }));
  return { keyId: auditKeyId(publicKey), key, publicKey };
}

/** A key id: 8 hex digits of HMAC-SHA-256(key, "capkit key id") — names the key, reveals nothing of it. */
function keyIdOf(key: Uint8Array): string {
  return createHmac("sha256", key).update("capkit key id").digest("hex").slice(0, 8);
}

function parseKey(hex: unknown, length: number, what: string): Uint8Array {
  if (typeof hex !== "string" || hex.length !== 2 * length)
    throw new CapkitError("KEY_INVALID", `${what} must be ${length} bytes of hex`);
  return fromHex(hex, what);
}

/**
 * A key file's JSON, whichever provider it is for (a software key file, or the `pkcs11` block the CLI reads):
 * KEY_INVALID naming the file, never its content.
 */
export function readMaterialFile(path: string): unknown {
  // A number would be read as a file descriptor, a URL or bytes as something else than the path meant.
  if (typeof path !== "string" || path === "" || path.includes("\0"))
    throw argumentError("INPUT_INVALID", "the key file's path", "a file path", path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CapkitError(
      "KEY_INVALID",
      `cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  return parseMaterial(text, `key file ${path}`);
}

function parseMaterial(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CapkitError("KEY_INVALID", `${where} is not valid JSON`);
  }
}
