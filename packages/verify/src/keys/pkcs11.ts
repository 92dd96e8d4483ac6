import { createHmac, randomBytes } from "node:crypto";
import {
  argumentError,
  CapkitError,
  concat,
  expectBoolean,
  expectRecord,
  fromBase64,
  toBase64,
} from "@capkit/core";
import {
  CryptogramCalculator,
  type CryptogramMac,
  cryptogramSpec,
  iccMasterKeyData,
  type MasterKeyDerivation,
  withOddParity,
} from "@capkit/emv-cap";
import { dynamicTruncate, type Hmac, type OathAlgorithm } from "@capkit/oath";
import type * as P from "pkcs11js";
import { auditKeyId } from "../audit/checkpoint.js";
import type { CapCardKey, KeyProvider, SealedUse } from "../key-provider.js";
import { loadDriver } from "../stores/driver.js";
import { checkTestKeysAllowed, openedPan, sealBinding, sealedParts } from "./sealed.js";

/** Which token {@link Pkcs11KeyProvider.open} opens, and how. */
export interface Pkcs11Options {
  /** The token's PKCS#11 module, e.g. Debian's SoftHSM2 `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly module: string;
  /** The token's label. */
  readonly token: string;
  /** The user PIN (CKU_USER). Never logged. */
  readonly pin: string;
  /** What capkit's key labels start with (default `capkit`): `<label>/g<N>/wrap|mac|data`, `<label>/issuer/<ref>`. */
  readonly label?: string;
  /** Accept simulated cards' test issuer keys (wrapped into the token like OATH secrets). Off in production. */
  readonly allowTestKeys?: boolean;
}

const SCHEME = "p11";
/** PKCS#11 3.0 mechanisms pkcs11js (2.40) has no constant for: Ed25519 key pairs and signatures. */
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** How a token may return CKA_EC_POINT: a DER OCTET STRING header (tag 04, length 32) before the raw key. */
const DER_OCTET_STRING_32 = Buffer.from("0420", "hex");
/** DER of the Ed25519 OID 1.3.101.112 (RFC 8410): the curve of an EC_EDWARDS key pair. */
const ED25519_OID = Buffer.from("06032b6570", "hex");
/** The Ed25519 key pairs of a generation: audit checkpoints (`gN/audit`), receipts and operation documents (`gN/receipt`). */
const SIGNING_PURPOSES = ["audit", "receipt"] as const;
type SigningPurpose = (typeof SIGNING_PURPOSES)[number];
/** HMAC keys are stored at least this long: every HMAC-SHA-1/256/512 minimum SoftHSM2 enforces (20/32/64 bytes). */
const HMAC_KEY_BYTES = 64;
const HMAC_MECHANISM = {
  SHA1: "CKM_SHA_1_HMAC",
  SHA256: "CKM_SHA256_HMAC",
  SHA512: "CKM_SHA512_HMAC",
} as const;
const HMAC_LENGTH = { SHA1: 20, SHA256: 32, SHA512: 64 } as const;

/**
 * The door of {@link Pkcs11KeyProvider.open}: each option of its type, checked before the module is loaded (a
 * number for a path would load nothing, a PIN of the wrong type would lock nothing but mislead). Messages name
 * the option and the type given, never a value: the PIN is a secret.
 */
function checkOptions(options: unknown): asserts options is Pkcs11Options {
  const o = expectRecord<Record<string, unknown>>(options, "the PKCS#11 options");
  const text = (v: unknown, what: string, expected: string, max: number) => {
    if (typeof v !== "string" || v === "" || v.length > max || v.includes("\0"))
      throw argumentError("INPUT_INVALID", what, expected, v);
  };
  text(o["module"], "the module", "the path of the token's PKCS#11 library", 4096);
  text(o["token"], "the token's label", "a string of 1 to 32 characters", 32);
  text(o["pin"], "the PIN", "a string", 255);
  if (o["label"] !== undefined) text(o["label"], "the key label", "a string of 1 to 64 characters", 64);
  expectBoolean(o["allowTestKeys"], "allowTestKeys");
}

/** One loaded and initialised module per path, shared by the providers of a process (C_Initialize is once). */
const libraries = new Map<string, { lib: P.PKCS11; users: number }>();

/**
 * Keys kept in a PKCS#11 token (tested against SoftHSM2; https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.1). The token holds, per key
 * generation N, an AES-256 wrapping key (`<label>/gN/wrap`), an HMAC key binding wrapped keys to their credential
 * (`gN/mac`), an AES-256 key for card numbers (`gN/data`) and Ed25519 key pairs signing audit checkpoints
 * (`gN/audit`) and receipts (`gN/receipt`), plus the issuers' master keys (`<label>/issuer/<ref>`, 2-key 3DES, derive only) — every secret
 * one sensitive and not extractable.
 *
 * - OATH secrets are stored wrapped by the token (CKM_AES_KEY_WRAP_PAD, RFC 5649), with an HMAC-SHA-256 tag over
 *   the use, the credential id and the wrapped bytes, and unwrapped into session objects that are sensitive and
 *   not extractable, usable only to sign: every HOTP/TOTP/OCRA HMAC is computed by the token (C_Sign).
 * - A CAP card's ICC master key is derived by the token from the issuer master key (EMV Book 2 A1.4: each half a
 *   3DES encryption of Y or Y ⊕ FF…FF, done as CKM_DES3_CBC_ENCRYPT_DATA of one block with a zero IV). Its AC MAC —
 *   ISO 9797-1 algorithm 3, single DES under the left half — is computed in this process: PKCS#11 has no such
 *   mechanism, SoftHSM2 on OpenSSL 3 refuses single DES, and what a payment HSM does instead is in the
 *   architecture document.
 * - Card numbers are sealed with AES-GCM in the token (the use and the credential id as associated data).
 *
 * Every call is synchronous (pkcs11js): on a network HSM each one holds the event loop for a round trip.
 *
 * @example
 * ```ts
 * import { Verifier } from "@capkit/verify";
 * import { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
 *
 * const keys = Pkcs11KeyProvider.open({
 *   module: "/usr/lib/softhsm/libsofthsm2.so", // the HSM vendor's PKCS#11 library
 *   token: "capkit",
 *   pin: process.env.HSM_PIN!, // never logged
 * });
 * keys.rotate(); // once, on a new token: its first key generation (later: a new one, then `rekey`)
 * keys.importIssuerKey("bank-imk-1", imk); // a CAP issuer master key, derive-only in the token from then on
 * const verifier = new Verifier({ store, keys });
 * // …
 * keys.close();
 * ```
 */
export class Pkcs11KeyProvider implements KeyProvider {
  readonly #lib: P.PKCS11;
  readonly #p: typeof P;
  readonly #module: string;
  readonly #session: Buffer;
  readonly #label: string;
  readonly #allowTest: boolean;
  /** Handles of the token's persistent keys by label (issuer keys, each generation's wrap, mac and data). */
  readonly #handles = new Map<string, Buffer>();
  /** The signing keys' ids by purpose and generation. */
  readonly #keyIds = new Map<string, string>();
  /** Session objects of engines no longer referenced: destroyed when the engine is collected. */
  readonly #released: FinalizationRegistry<Buffer>;
  #closed = false;

  private constructor(p: typeof P, lib: P.PKCS11, module: string, session: Buffer, options: Pkcs11Options) {
    this.#p = p;
    this.#lib = lib;
    this.#module = module;
    this.#session = session;
    this.#label = options.label ?? "capkit";
    this.#allowTest = options.allowTestKeys ?? false;
    this.#released = new FinalizationRegistry((handle) => {
      if (!this.#closed) this.#try(() => lib.C_DestroyObject(session, handle));
    });
  }

  /**
   * Opens a session on the token and logs in.
   *
   * @throws `INPUT_INVALID` naming an option of the wrong type (before the module is loaded); `KEY_UNAVAILABLE`
   *   when the module, the token or the PIN fails, or pkcs11js is not installed
   */
  static open(options: Pkcs11Options): Pkcs11KeyProvider {
    checkOptions(options);
    const p = loadDriver<typeof P>("pkcs11js", "Pkcs11KeyProvider", "KEY_UNAVAILABLE");
    let entry = libraries.get(options.module);
    if (!entry) {
      const lib = new p.PKCS11();
      try {
        lib.load(options.module);
        lib.C_Initialize();
      } catch (e) {
        throw unavailable(e, `cannot load the PKCS#11 module ${options.module}`);
      }
      entry = { lib, users: 0 };
      libraries.set(options.module, entry);
    }
    const { lib } = entry;
    entry.users++;
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === options.token);
      if (!slot) throw new CapkitError("KEY_UNAVAILABLE", `no PKCS#11 token labelled "${options.token}"`);
      const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
      try {
        lib.C_Login(session, p.CKU_USER, options.pin);
      } catch (e) {
        if ((e as Error).message !== "CKR_USER_ALREADY_LOGGED_IN") {
          lib.C_CloseSession(session);
          throw e;
        }
      }
      return new Pkcs11KeyProvider(p, lib, options.module, session, options);
    } catch (e) {
      release(options.module);
      if (e instanceof CapkitError) throw e;
      throw unavailable(e, `cannot log in to the PKCS#11 token "${options.token}"`);
    }
  }

  /** The current key generation (`g<N>`, the highest in the token); KEY_INVALID when there is none yet. */
  get currentKeyId(): string {
    const n = this.#generations().at(-1);
    if (n === undefined)
      throw new CapkitError("KEY_INVALID", `the token has no ${this.#label} keys`, {
        hint: "create them once: Pkcs11KeyProvider.rotate() (capkit verify keys pkcs11-rotate)",
      });
    return `g${n}`;
  }

  /**
   * Generates the next key generation in the token (wrap, mac, data: sensitive, not extractable) and makes it the
   * current one; the first call sets a token up. Values sealed under earlier generations still open until
   * `retire` (`Verifier.rekey` re-seals them in between). Returns the new key id.
   */
  rotate(): string {
    const n = (this.#generations().at(-1) ?? 0) + 1;
    const p = this.#p;
    const aes = (use: string, flags: P.Template) =>
      this.#call(() =>
        this.#lib.C_GenerateKey(this.#session, { mechanism: p.CKM_AES_KEY_GEN }, [
          ...this.#persistent(`${this.#label}/g${n}/${use}`),
          { type: p.CKA_VALUE_LEN, value: 32 },
          ...flags,
        ]),
      );
    aes("wrap", [
      { type: p.CKA_WRAP, value: true },
      { type: p.CKA_UNWRAP, value: true },
    ]);
    aes("data", [
      { type: p.CKA_ENCRYPT, value: true },
      { type: p.CKA_DECRYPT, value: true },
    ]);
    this.#call(() =>
      this.#lib.C_GenerateKey(this.#session, { mechanism: p.CKM_GENERIC_SECRET_KEY_GEN }, [
        ...this.#persistent(`${this.#label}/g${n}/mac`),
        { type: p.CKA_KEY_TYPE, value: p.CKK_GENERIC_SECRET },
        { type: p.CKA_VALUE_LEN, value: 32 },
        { type: p.CKA_SIGN, value: true },
        { type: p.CKA_VERIFY, value: true },
      ]),
    );
    for (const purpose of SIGNING_PURPOSES)
      this.#call(() =>
        this.#lib.C_GenerateKeyPair(
          this.#session,
          { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
          [
            { type: p.CKA_LABEL, value: `${this.#label}/g${n}/${purpose}` },
            { type: p.CKA_TOKEN, value: true },
            { type: p.CKA_VERIFY, value: true },
            { type: p.CKA_EC_PARAMS, value: ED25519_OID },
          ],
          [...this.#persistent(`${this.#label}/g${n}/${purpose}`), { type: p.CKA_SIGN, value: true }],
        ),
      );
    return `g${n}`;
  }

  /** Signs an audit checkpoint with the current generation's Ed25519 audit key pair, in the token (CKM_EDDSA). */
  async signAudit(message: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return this.#signWith("audit", message);
  }

  /** Every generation's audit public key, retired ones included (their checkpoints stay verifiable). */
  async auditPublicKeys(): Promise<Record<string, string>> {
    return this.#publicKeys("audit");
  }

  /** Signs a receipt or operation document with the current generation's Ed25519 receipt key pair, in the token. */
  async signReceipt(message: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return this.#signWith("receipt", message);
  }

  /** Every generation's receipt public key, retired ones included (their receipts stay verifiable). */
  async receiptPublicKeys(): Promise<Record<string, string>> {
    return this.#publicKeys("receipt");
  }

  /** Ed25519 (CKM_EDDSA) by the current generation's key pair for `purpose`, in the token. */
  #signWith(purpose: SigningPurpose, message: Uint8Array): { keyId: string; signature: Uint8Array } {
    const n = generationOf(this.currentKeyId)!;
    const key = this.#signingKey(purpose, n, this.#p.CKO_PRIVATE_KEY);
    const signature = this.#sign(CKM_EDDSA, key, Buffer.from(message), Buffer.alloc(64));
    return { keyId: this.#signingKeyId(purpose, n), signature: new Uint8Array(signature) };
  }

  #publicKeys(purpose: SigningPurpose): Record<string, string> {
    const p = this.#p;
    const pattern = new RegExp(`^${escapeRegExp(this.#label)}/g([0-9]{1,6})/${purpose}$`);
    const out: Record<string, string> = {};
    for (const h of this.#findAll([
      { type: p.CKA_CLASS, value: p.CKO_PUBLIC_KEY },
      { type: p.CKA_TOKEN, value: true },
    ])) {
      const [label] = this.#call(() =>
        this.#lib.C_GetAttributeValue(this.#session, h, [{ type: p.CKA_LABEL }]),
      );
      const m = pattern.exec((label?.value as Buffer | undefined)?.toString("utf8") ?? "");
      if (!m) continue;
      const publicKey = this.#signingPublicKey(purpose, Number(m[1]));
      out[auditKeyId(publicKey)] = publicKey;
    }
    return out;
  }

  /** A generation's signing key id (read from the token once: it names the key in every signature). */
  #signingKeyId(purpose: SigningPurpose, n: number): string {
    const name = `${purpose}#g${n}`;
    let id = this.#keyIds.get(name);
    if (id === undefined) {
      id = auditKeyId(this.#signingPublicKey(purpose, n));
      this.#keyIds.set(name, id);
    }
    return id;
  }

  /** A generation's public key for `purpose`, raw (hex): CKA_EC_POINT is the DER OCTET STRING of the 32 bytes. */
  #signingPublicKey(purpose: SigningPurpose, n: number): string {
    const p = this.#p;
    const h = this.#signingKey(purpose, n, p.CKO_PUBLIC_KEY);
    const [point] = this.#call(() =>
      this.#lib.C_GetAttributeValue(this.#session, h, [{ type: p.CKA_EC_POINT }]),
    );
    const der = point!.value as Buffer;
    const wrapped = der.length === 34 && der.subarray(0, 2).equals(DER_OCTET_STRING_32);
    return (wrapped ? der.subarray(2) : der).toString("hex");
  }

  #signingKey(purpose: SigningPurpose, n: number, cls: number): Buffer {
    const label = `${this.#label}/g${n}/${purpose}`;
    const cacheKey = `${label}#${cls}`;
    let h = this.#handles.get(cacheKey);
    if (!h) {
      const p = this.#p;
      h = this.#findAll([
        { type: p.CKA_CLASS, value: cls },
        { type: p.CKA_TOKEN, value: true },
        { type: p.CKA_LABEL, value: label },
      ])[0];
      if (!h)
        throw new CapkitError("KEY_INVALID", `the token lacks ${label}`, {
          hint:
            purpose === "receipt"
              ? "a generation made before receipts has no receipt key: make a new one (capkit verify keys rotate), then rekey"
              : "the token's keys were made elsewhere: check the label",
        });
      this.#handles.set(cacheKey, h);
    }
    return h;
  }

  /** Destroys a generation's keys: whatever is still sealed under it can no longer be opened (after a rekey). */
  retire(keyId: string): void {
    const n = generationOf(keyId);
    if (n === undefined || `g${n}` === this.currentKeyId)
      throw new CapkitError("INPUT_INVALID", "only a previous key generation can be retired");
    for (const use of ["wrap", "mac", "data"]) {
      const label = `${this.#label}/g${n}/${use}`;
      const h = this.#find(label);
      this.#handles.delete(label);
      if (h) this.#call(() => this.#lib.C_DestroyObject(this.#session, h));
    }
    // The public keys stay: checkpoints and receipts signed under this generation must remain verifiable.
    const p = this.#p;
    for (const purpose of SIGNING_PURPOSES) {
      const signing = this.#findAll([
        { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
        { type: p.CKA_LABEL, value: `${this.#label}/g${n}/${purpose}` },
      ])[0];
      this.#handles.delete(`${this.#label}/g${n}/${purpose}#${p.CKO_PRIVATE_KEY}`);
      if (signing) this.#call(() => this.#lib.C_DestroyObject(this.#session, signing));
    }
  }

  /**
   * Puts an issuer master key (16 bytes, 2-key 3DES) into the token under `ref`: sensitive, not extractable,
   * usable only to derive cards' keys. A bank imports it once from its key ceremony; CAP records then name it.
   */
  importIssuerKey(ref: string, value: Uint8Array): void {
    if (value.length !== 16) throw new CapkitError("KEY_INVALID", "an issuer master key is 16 bytes");
    if (this.#find(`${this.#label}/issuer/${ref}`))
      throw new CapkitError("KEY_INVALID", `the token already holds issuer key "${ref}"`);
    const p = this.#p;
    this.#call(() =>
      this.#lib.C_CreateObject(this.#session, [
        { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
        { type: p.CKA_KEY_TYPE, value: p.CKK_DES2 },
        { type: p.CKA_VALUE, value: Buffer.from(value) },
        ...this.#persistent(`${this.#label}/issuer/${ref}`),
        { type: p.CKA_DERIVE, value: true },
      ]),
    );
  }

  /** The generation a sealed value is under (`g<N>`); undefined for a value this provider did not seal. */
  keyIdOf(sealed: string): string | undefined {
    const p = sealedParts(sealed);
    return p?.scheme === SCHEME ? p.keyId : undefined;
  }

  /**
   * Seals `value` for storage under the current generation: an OATH secret or test key wrapped by the token
   * (RFC 5649) with a tag binding it to the credential and use; a card number encrypted by the token (AES-GCM).
   */
  async seal(credentialId: string, use: SealedUse, value: Uint8Array): Promise<string> {
    const n = generationOf(this.currentKeyId)!;
    if (use === "pan") return this.#encrypt(n, credentialId, value);
    if (use === "issuer-key") checkTestKeysAllowed(this.#allowTest);
    const temp = this.#keyObject(use, value);
    let sealed: string;
    try {
      sealed = this.#wrap(n, credentialId, use, temp);
    } finally {
      this.#destroy(temp);
    }
    if (use === "hmac") this.#checkHmacKey(credentialId, sealed, value);
    return sealed;
  }

  /**
   * The token must compute the HMAC of the key as given: a token may unwrap a key of a length that is not a
   * multiple of 8 longer than it was (SoftHSM2 2.6 does, RFC 5649 padding left on), which changes the HMAC of a
   * key longer than the hash block. Checked once at enrolment against node:crypto; such a key is refused.
   */
  #checkHmacKey(credentialId: string, sealed: string, value: Uint8Array): void {
    const key = this.#unwrap(credentialId, "hmac", sealed, false);
    try {
      const probe = Buffer.from("capkit HMAC key check");
      const token = this.#sign(this.#p.CKM_SHA256_HMAC, key, probe, Buffer.alloc(32));
      if (!token.equals(createHmac("sha256", value).update(probe).digest()))
        throw new CapkitError(
          "KEY_INVALID",
          `credential ${credentialId}: this token does not keep a ${value.length}-byte HMAC key exactly`,
          { hint: "SoftHSM2 keeps keys over 64 bytes only when their length is a multiple of 8" },
        );
    } finally {
      this.#destroy(key);
    }
  }

  /** The same value sealed under the current generation (rotation); KEY_INVALID when no generation in the token opens it. */
  async reseal(credentialId: string, use: SealedUse, sealed: string): Promise<string> {
    const n = generationOf(this.currentKeyId)!;
    if (use === "pan") {
      const value = this.#decrypt(credentialId, sealed);
      try {
        return this.#encrypt(n, credentialId, value);
      } finally {
        value.fill(0);
      }
    }
    // Unwrapped extractable only to be wrapped again under the new generation, then destroyed.
    const temp = this.#unwrap(credentialId, use, sealed, true);
    try {
      return this.#wrap(n, credentialId, use, temp);
    } finally {
      this.#destroy(temp);
    }
  }

  /**
   * The keyed HMAC of a sealed OATH secret: unwrapped into a sensitive, non-extractable session key, every HMAC
   * computed by the token (C_Sign).
   */
  async hmac(credentialId: string, sealed: string, algorithm: OathAlgorithm): Promise<Hmac> {
    const key = this.#unwrap(credentialId, "hmac", sealed, false);
    const mechanism = this.#p[HMAC_MECHANISM[algorithm]];
    const engine = new TokenHmac((data, out) => this.#sign(mechanism, key, data, out), algorithm);
    this.#released.register(engine, key);
    return engine;
  }

  /**
   * A CAP card's cryptogram engine: the ICC master key derived in the token from the issuer's (EMV Book 2
   * A1.4), the AC MAC (ISO 9797-1 algorithm 3) computed in this process.
   */
  async cryptogram(credentialId: string, card: CapCardKey): Promise<CryptogramMac> {
    const spec = cryptogramSpec(card.cryptogramVersion);
    const pan = openedPan(card.pan, (sealed) => this.#decrypt(credentialId, sealed));
    let base: Buffer;
    let derivation: MasterKeyDerivation = "A";
    const test = card.issuerKey.kind === "sealed-test-imk";
    if (card.issuerKey.kind === "sealed-test-imk") {
      checkTestKeysAllowed(this.#allowTest);
      base = this.#unwrap(credentialId, "issuer-key", card.issuerKey.sealed, false);
      derivation = card.issuerKey.derivation;
    } else base = this.#issuerKey(card.issuerKey.id);
    let icc: Uint8Array | undefined;
    try {
      const [left, right] = iccMasterKeyData(pan, card.psn, derivation);
      icc = withOddParity(concat(this.#deriveBlock(base, left), this.#deriveBlock(base, right)));
      return new CryptogramCalculator(spec, icc);
    } finally {
      icc?.fill(0);
      if (test) this.#destroy(base);
    }
  }

  /** Logs out and closes the session (and the module when no other provider of this process uses it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#try(() => this.#lib.C_CloseSession(this.#session));
    release(this.#module);
  }

  /** One signing call of the token: KEY_UNAVAILABLE when the token fails (nothing is accepted on it). */
  #sign(mechanism: number, key: Buffer, data: Buffer, out: Buffer): Buffer {
    return this.#call(() => {
      this.#lib.C_SignInit(this.#session, { mechanism }, key);
      return this.#lib.C_Sign(this.#session, data, out);
    });
  }

  /** The ICC master key half of one Y block: 3DES under the base key, derived in the token and read out. */
  #deriveBlock(base: Buffer, block: Uint8Array): Uint8Array {
    const p = this.#p;
    const half = this.#call(() =>
      this.#lib.C_DeriveKey(
        this.#session,
        {
          mechanism: p.CKM_DES3_CBC_ENCRYPT_DATA,
          parameter: {
            type: p.CK_PARAMS_DES_CBC_ENCRYPT_DATA,
            iv: Buffer.alloc(8),
            data: Buffer.from(block),
          },
        } as P.Mechanism,
        base,
        [
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_GENERIC_SECRET },
          { type: p.CKA_VALUE_LEN, value: 8 },
          { type: p.CKA_TOKEN, value: false },
          { type: p.CKA_SENSITIVE, value: false },
          { type: p.CKA_EXTRACTABLE, value: true },
        ],
      ),
    );
    try {
      const [v] = this.#call(() =>
        this.#lib.C_GetAttributeValue(this.#session, half, [{ type: p.CKA_VALUE }]),
      );
      return new Uint8Array(v!.value as Buffer);
    } finally {
      this.#destroy(half);
    }
  }

  #issuerKey(ref: string): Buffer {
    const label = `${this.#label}/issuer/${ref}`;
    let h = this.#handles.get(label);
    if (!h) {
      h = this.#find(label);
      if (!h) throw new CapkitError("KEY_INVALID", `no issuer key "${ref}" in the PKCS#11 token`);
      this.#handles.set(label, h);
    }
    return h;
  }

  /** A session object holding `value` (sensitive) for wrapping: an HMAC key zero-padded, or a 3DES key. */
  #keyObject(use: "hmac" | "issuer-key", value: Uint8Array): Buffer {
    const p = this.#p;
    let bytes: Buffer;
    if (use === "hmac") {
      // RFC 2104 §2: a key shorter than the block (64 bytes for SHA-1/256, 128 for SHA-512) is zero-padded to it,
      // so a key padded with zeros up to 64 bytes gives the same HMAC — and meets the token's minimum key sizes.
      bytes = Buffer.alloc(Math.max(HMAC_KEY_BYTES, value.length));
      bytes.set(value);
    } else {
      if (value.length !== 16) throw new CapkitError("KEY_INVALID", "an issuer master key is 16 bytes");
      bytes = Buffer.from(value);
    }
    try {
      return this.#call(() =>
        this.#lib.C_CreateObject(this.#session, [
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
          { type: p.CKA_KEY_TYPE, value: use === "hmac" ? p.CKK_GENERIC_SECRET : p.CKK_DES2 },
          { type: p.CKA_VALUE, value: bytes },
          { type: p.CKA_TOKEN, value: false },
          { type: p.CKA_SENSITIVE, value: true },
          { type: p.CKA_EXTRACTABLE, value: true },
        ]),
      );
    } finally {
      bytes.fill(0);
    }
  }

  /** `p11:gN:<wrapped>.<tag>`: the key wrapped under generation N (RFC 5649), sealed to its use and credential. */
  #wrap(n: number, credentialId: string, use: SealedUse, key: Buffer): string {
    const p = this.#p;
    const wrapped = this.#call(() =>
      this.#lib.C_WrapKey(
        this.#session,
        { mechanism: p.CKM_AES_KEY_WRAP_PAD },
        this.#generationKey(n, "wrap"),
        key,
        Buffer.alloc(512),
      ),
    );
    return this.#envelope(n, credentialId, use, wrapped);
  }

  /**
   * A wrapped key back in the token as a session object: sensitive, and extractable only when it is to be
   * wrapped again (rotation). The envelope's tag is checked first, so a value copied from another credential or
   * use is refused before anything is unwrapped.
   */
  #unwrap(credentialId: string, use: "hmac" | "issuer-key", sealed: string, extractable: boolean): Buffer {
    const { n, payload } = this.#opened(credentialId, use, sealed);
    const p = this.#p;
    return this.#call(() =>
      this.#lib.C_UnwrapKey(
        this.#session,
        { mechanism: p.CKM_AES_KEY_WRAP_PAD },
        this.#generationKey(n, "wrap"),
        payload,
        [
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
          { type: p.CKA_KEY_TYPE, value: use === "hmac" ? p.CKK_GENERIC_SECRET : p.CKK_DES2 },
          { type: p.CKA_TOKEN, value: false },
          { type: p.CKA_SENSITIVE, value: true },
          { type: p.CKA_EXTRACTABLE, value: extractable },
          { type: use === "hmac" ? p.CKA_SIGN : p.CKA_DERIVE, value: true },
        ],
      ),
    );
  }

  /** `p11:gN:<IV ‖ AES-256-GCM ciphertext>.<tag>`: a card number encrypted by the token. */
  #encrypt(n: number, credentialId: string, value: Uint8Array): string {
    const p = this.#p;
    const iv = randomBytes(12);
    const out = this.#call(() => {
      this.#lib.C_EncryptInit(
        this.#session,
        { mechanism: p.CKM_AES_GCM, parameter: gcm(p, iv, sealBinding("pan", credentialId)) },
        this.#generationKey(n, "data"),
      );
      return this.#lib.C_Encrypt(this.#session, Buffer.from(value), Buffer.alloc(value.length + 16));
    });
    return this.#envelope(n, credentialId, "pan", Buffer.concat([iv, out]));
  }

  #decrypt(credentialId: string, sealed: string): Uint8Array {
    const { n, payload } = this.#opened(credentialId, "pan", sealed);
    const p = this.#p;
    return new Uint8Array(
      this.#call(() => {
        this.#lib.C_DecryptInit(
          this.#session,
          {
            mechanism: p.CKM_AES_GCM,
            parameter: gcm(p, payload.subarray(0, 12), sealBinding("pan", credentialId)),
          },
          this.#generationKey(n, "data"),
        );
        return this.#lib.C_Decrypt(this.#session, payload.subarray(12), Buffer.alloc(payload.length));
      }),
    );
  }

  /**
   * `p11:gN:<payload>.<tag>`, the tag an HMAC-SHA-256 by generation N's MAC key over the use, the credential id
   * and the payload: checked by the token before the payload is used (its own refusal is a clean "not this
   * credential's", where a failed unwrap or GCM tag is a general error in SoftHSM2).
   */
  #envelope(n: number, credentialId: string, use: SealedUse, payload: Buffer): string {
    const p = this.#p;
    const tag = this.#sign(
      p.CKM_SHA256_HMAC,
      this.#generationKey(n, "mac"),
      Buffer.concat([sealBinding(use, credentialId), payload]),
      Buffer.alloc(32),
    );
    return `${SCHEME}:g${n}:${toBase64(payload)}.${toBase64(tag)}`;
  }

  #opened(credentialId: string, use: SealedUse, sealed: string): { n: number; payload: Buffer } {
    const parts = sealedParts(sealed);
    const [payloadText, tagText, extra] = parts?.scheme === SCHEME ? parts.body.split(".") : [];
    if (!parts || !payloadText || !tagText || extra !== undefined)
      throw new CapkitError("KEY_INVALID", `credential ${credentialId}: unknown sealed format`);
    const n = this.#heldGeneration(credentialId, parts.keyId);
    const p = this.#p;
    const payload = Buffer.from(fromBase64(payloadText));
    const ok = this.#call(() => {
      this.#lib.C_VerifyInit(this.#session, { mechanism: p.CKM_SHA256_HMAC }, this.#generationKey(n, "mac"));
      return this.#lib.C_Verify(
        this.#session,
        Buffer.concat([sealBinding(use, credentialId), payload]),
        Buffer.from(fromBase64(tagText)),
      );
    }, true);
    if (!ok)
      throw new CapkitError(
        "KEY_INVALID",
        `credential ${credentialId}: its sealed value does not open in this token (another credential's, or altered)`,
      );
    return { n, payload };
  }

  #heldGeneration(credentialId: string, keyId: string): number {
    const n = generationOf(keyId);
    const held = (g: number) =>
      this.#handles.has(`${this.#label}/g${g}/mac`) || this.#generations().includes(g);
    if (n === undefined || !held(n))
      throw new CapkitError(
        "KEY_INVALID",
        `credential ${credentialId}: sealed under key ${keyId}, which the token no longer holds`,
        {
          hint: "a retired key generation is refused; values under it must be re-sealed before it is retired",
        },
      );
    return n;
  }

  /** A generation's key, its handle kept (token objects keep their handle while the session lasts). */
  #generationKey(n: number, use: "wrap" | "mac" | "data"): Buffer {
    const label = `${this.#label}/g${n}/${use}`;
    let h = this.#handles.get(label);
    if (!h) {
      h = this.#find(label);
      if (!h) throw new CapkitError("KEY_INVALID", `the token lacks ${label}`);
      this.#handles.set(label, h);
    }
    return h;
  }

  /** The key generations in the token, in order (token objects only: engines' session keys are not searched). */
  #generations(): number[] {
    const p = this.#p;
    const found = new Set<number>();
    const pattern = new RegExp(`^${escapeRegExp(this.#label)}/g([0-9]{1,6})/wrap$`);
    for (const h of this.#findAll([
      { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
      { type: p.CKA_TOKEN, value: true },
    ])) {
      const [label] = this.#call(() =>
        this.#lib.C_GetAttributeValue(this.#session, h, [{ type: p.CKA_LABEL }]),
      );
      const m = pattern.exec((label?.value as Buffer | undefined)?.toString("utf8") ?? "");
      if (m) found.add(Number(m[1]));
    }
    return [...found].sort((a, b) => a - b);
  }

  #find(label: string): Buffer | undefined {
    const p = this.#p;
    return this.#findAll([
      { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
      { type: p.CKA_TOKEN, value: true },
      { type: p.CKA_LABEL, value: label },
    ])[0];
  }

  #findAll(template: P.Template): Buffer[] {
    return this.#call(() => {
      this.#lib.C_FindObjectsInit(this.#session, template);
      try {
        return this.#lib.C_FindObjects(this.#session, 1000);
      } finally {
        this.#lib.C_FindObjectsFinal(this.#session);
      }
    });
  }

  /** A persistent key's attributes: on the token, private, sensitive, never extractable. */
  #persistent(label: string): P.Template {
    const p = this.#p;
    return [
      { type: p.CKA_LABEL, value: label },
      { type: p.CKA_TOKEN, value: true },
      { type: p.CKA_PRIVATE, value: true },
      { type: p.CKA_SENSITIVE, value: true },
      { type: p.CKA_EXTRACTABLE, value: false },
    ];
  }

  #destroy(h: Buffer): void {
    this.#try(() => this.#lib.C_DestroyObject(this.#session, h));
  }

  #try(f: () => void): void {
    try {
      f();
    } catch {
      // Clean-up of a session object: the session's end destroys it anyway.
    }
  }

  /**
   * A token call. Its refusal of a tag is `undefined` with `refusal`; anything else from the token is
   * KEY_UNAVAILABLE — never an acceptance.
   */
  #call<T>(f: () => T, refusal?: true): T {
    if (this.#closed) throw new CapkitError("KEY_UNAVAILABLE", "the PKCS#11 key provider is closed");
    try {
      return f();
    } catch (e) {
      if (e instanceof CapkitError) throw e;
      const code = (e as Error).message;
      if (refusal && REFUSALS.has(code)) return undefined as T;
      // A key destroyed by another process (a retired generation): look the handles up again next time.
      if (code === "CKR_OBJECT_HANDLE_INVALID" || code === "CKR_KEY_HANDLE_INVALID") this.#handles.clear();
      throw unavailable(e, "the PKCS#11 token failed");
    }
  }
}

/** A token's answers that mean "this tag is not valid here", not "the token is down". */
const REFUSALS = new Set(["CKR_SIGNATURE_INVALID", "CKR_SIGNATURE_LEN_RANGE"]);

/** An OATH HMAC computed by the token (C_Sign with a session key that cannot leave it). */
class TokenHmac implements Hmac {
  readonly algorithm: OathAlgorithm;
  readonly outputLength: number;
  /** C_SignInit + C_Sign with the engine's key, in the provider's session. */
  readonly #sign: (data: Buffer, out: Buffer) => Buffer;
  readonly #counter = Buffer.alloc(8);
  readonly #out: Buffer;

  constructor(sign: (data: Buffer, out: Buffer) => Buffer, algorithm: OathAlgorithm) {
    this.#sign = sign;
    this.algorithm = algorithm;
    this.outputLength = HMAC_LENGTH[algorithm];
    this.#out = Buffer.alloc(this.outputLength);
  }

  mac(message: Uint8Array, out: Uint8Array = new Uint8Array(this.outputLength)): Uint8Array {
    out.set(this.#sign(Buffer.from(message), this.#out));
    return out;
  }

  truncatedCounter(high: number, low: number): number {
    this.#counter.writeUInt32BE(high >>> 0, 0);
    this.#counter.writeUInt32BE(low >>> 0, 4);
    return dynamicTruncate(this.#sign(this.#counter, this.#out));
  }
}

function gcm(p: typeof P, iv: Buffer, aad: Buffer): P.AesGCM {
  return { type: p.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 };
}

function generationOf(keyId: string): number | undefined {
  const m = /^g([0-9]{1,6})$/.exec(keyId);
  return m ? Number(m[1]) : undefined;
}

function release(module: string): void {
  const entry = libraries.get(module);
  if (!entry || --entry.users > 0) return;
  libraries.delete(module);
  try {
    entry.lib.C_Finalize();
    entry.lib.close();
  } catch {
    // The module is being unloaded: nothing to tell the caller.
  }
}

function unavailable(e: unknown, what: string): CapkitError {
  return new CapkitError("KEY_UNAVAILABLE", `${what}: ${(e as Error).message ?? e}`, {
    hint: "nothing was accepted; check the token and retry",
    cause: e,
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
