import {
  argumentError,
  CapkitError,
  constantTimeEqual,
  expectInteger,
  expectOneOf,
  expectRecord,
  expectString,
  isCapkitError,
  isRecord,
  toBase64,
  toHex,
} from "@capkit/core";
import { type OathAlgorithm, totpAsync, WebCryptoHmac, type WebCryptoKey } from "@capkit/oath";
import {
  type ActivatedToken,
  type ActivationClientState,
  type ActivationFeature,
  type ApprovalDecision,
  activationClientActivate,
  activationClientBind,
  activationClientFinish,
  activationClientReceive,
  activationClientStart,
  approvalMessage,
  type DeviceKey,
  describeOperation,
  loginMessage,
  type OperationDocument,
  type OperationView,
  operationDigest,
  operationOpen,
  verifySignedOperation,
} from "@capkit/provision";
import { type Clock, expectClock, systemClock } from "./clock.js";

/**
 * The virtual Digipass inside a bank's app (SogeSmart's « token virtuel Digipass », Société Générale's « Pass
 * Sécurité »), on open standards: activated with `capkit-activation/1` (`@capkit/provision`), a device key
 * (WebCrypto ECDSA P-256, generated non-extractable) whose public key the bank binds at activation, the TOTP
 * seed held as a non-extractable WebCrypto HMAC key, an app password with 5 tries, login proofs (code +
 * device signature: possession) and approvals (accept or decline, signed over the digest of an operation
 * document the bank signed, rendered from that document only).
 *
 * Keys live in a pluggable store: `MemoryKeyStore` in Node tests; a browser stores the CryptoKeys as they are
 * in IndexedDB (structured clone keeps them non-extractable). A browser has no hardware isolation: PSD2 RTS
 * Art. 9(3)'s separated execution environment is not met by this simulator.
 */
export interface SoftDigipassStore {
  /** The record stored under `name`, as it was put (CryptoKeys included); undefined when there is none. */
  get(name: string): Promise<unknown>;
  /** Stores a record under `name`, replacing any. */
  put(name: string, value: unknown): Promise<void>;
  /** Forgets the record under `name`. */
  delete(name: string): Promise<void>;
}

/** Records kept in memory, as they are (CryptoKeys included). */
export class MemoryKeyStore implements SoftDigipassStore {
  readonly #records = new Map<string, unknown>();
  /** The record stored under `name`. */
  async get(name: string): Promise<unknown> {
    return this.#records.get(name);
  }
  /** Stores a record under `name`. */
  async put(name: string, value: unknown): Promise<void> {
    this.#records.set(name, value);
  }
  /** Forgets the record under `name`. */
  async delete(name: string): Promise<void> {
    this.#records.delete(name);
  }
}

/** The WebCrypto calls used here (token-sim compiles without the DOM library). */
interface Subtle {
  generateKey(
    a: { name: "ECDSA"; namedCurve: "P-256" },
    extractable: false,
    usages: string[],
  ): Promise<{ privateKey: WebCryptoKey; publicKey: WebCryptoKey }>;
  exportKey(format: "raw", key: WebCryptoKey): Promise<ArrayBuffer>;
  sign(a: { name: "ECDSA"; hash: "SHA-256" }, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  importKey(
    format: "raw",
    data: Uint8Array,
    a: "PBKDF2",
    extractable: false,
    usages: string[],
  ): Promise<WebCryptoKey>;
  deriveBits(
    a: { name: "PBKDF2"; hash: "SHA-256"; salt: Uint8Array; iterations: number },
    key: WebCryptoKey,
    bits: number,
  ): Promise<ArrayBuffer>;
}

function webCrypto(): { subtle: Subtle; getRandomValues(a: Uint8Array): Uint8Array } {
  const c = (globalThis as { crypto?: { subtle?: Subtle; getRandomValues(a: Uint8Array): Uint8Array } })
    .crypto;
  if (!c?.subtle)
    throw new CapkitError("CRYPTO_UNSUPPORTED", "this runtime has no WebCrypto (crypto.subtle)");
  return c as { subtle: Subtle; getRandomValues(a: Uint8Array): Uint8Array };
}

interface DeviceRecord {
  readonly privateKey: WebCryptoKey;
  readonly publicKey: Uint8Array;
}
interface TokenRecord {
  readonly hmac: WebCryptoKey;
  readonly serial: string;
  readonly instance: number;
  readonly algorithm: OathAlgorithm;
  readonly digits: number;
  readonly step: number;
  readonly bankKeys: Readonly<Record<string, Uint8Array>>;
}
interface PasswordRecord {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly failures: number;
}

/** Wrong app passwords in a row before the app locks and forgets its keys (reactivation needed). */
export const APP_PASSWORD_TRIES = 5;
/** PBKDF2-HMAC-SHA256 iterations for the app password (OWASP's 2023 figure for this hash). */
const PBKDF2_ITERATIONS = 600_000;
const PASSWORD = /^[0-9]{6,12}$/;

/** The bank's side of the wire: one request text in, the reply text out (an HTTP POST in an app). */
export type ActivationTransport = (request: string) => Promise<string>;

/** What an activation needs: the way to the bank, the activation's ids, and what the customer typed. */
export interface ActivateInput {
  /** Sends a request text to the bank and resolves to its reply. */
  readonly transport: ActivationTransport;
  /** The activation the bank started (in the activation letter or the SMS link). */
  readonly activationId: string;
  /** The registration id the bank gave with it. */
  readonly regId: string;
  /** The bank's identity in the key exchange (SPAKE2's B). */
  readonly serverIdentity: string;
  /** The codes the customer typed (the SMS code, a letter code…). */
  readonly codes: Readonly<Partial<Record<ActivationFeature, string>>>;
  /** The customer's banking password, when the activation asks for it (sent inside the protected channel). */
  readonly bankPassword?: string;
  /**
   * The new personal app password (« nouveau mot de passe personnel »), 6 to 12 digits, checked here with 5
   * tries. Omit it when the bank checks the customer's password itself, in its own lockout: the app then keeps
   * no password and needs no `unlock` (a password checked in a browser guards keys any script of the page can
   * use, and its hash can be attacked offline; at the bank it cannot).
   */
  readonly appPassword?: string;
  /** Resends of one request after a transport error, each with the same idempotency key. 2 by default. */
  readonly retries?: number;
}

/** Where the app keeps its keys, and what it says it is. */
export interface SoftDigipassOptions {
  /** Where the keys and records live ({@link MemoryKeyStore}, or IndexedDB in a browser). */
  readonly store: SoftDigipassStore;
  /** The app's version, sent to the bank at activation. */
  readonly appVersion: string;
  /** The clock codes and expiries run on (`systemClock`). */
  readonly clock?: Clock;
}

/** Not activated yet, activated, or locked (five wrong app passwords: activate again). */
export type SoftDigipassStatus = "new" | "active" | "locked";

/** A decision signed by the device, as the bank checks it. */
export interface SignedDecision {
  /** Accepted or declined. */
  readonly decision: ApprovalDecision;
  /** SHA-256 of the operation document, hex. */
  readonly operationDigest: string;
  /** ECDSA P-256 r ‖ s over `capkit-approval/1`, base64. */
  readonly signature: string;
}

/**
 * The virtual Digipass inside a bank's app: activation, app password, codes, login proofs and approvals.
 *
 * @example
 * ```ts
 * const app = await SoftDigipass.open({ store: new MemoryKeyStore(), appVersion: "1.0.0" });
 * await app.activate({ transport, activationId, regId, serverIdentity: "bank", codes: { sms: "123456" }, appPassword: "135790" });
 * await app.unlock("135790");
 * (await app.code()).code; // the current TOTP
 * ```
 */
export class SoftDigipass {
  readonly #store: SoftDigipassStore;
  readonly #clock: Clock;
  /** The app's version, sent at activation. */
  readonly appVersion: string;
  #unlocked = false;

  private constructor(options: SoftDigipassOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.appVersion = options.appVersion;
  }

  /** Opens the app on its store (keys from an earlier activation are found there). */
  static async open(options: SoftDigipassOptions): Promise<SoftDigipass> {
    const o = expectRecord<SoftDigipassOptions>(options, "the app options");
    const store: unknown = o.store;
    if (
      !isRecord(store) ||
      typeof store["get"] !== "function" ||
      typeof store["put"] !== "function" ||
      typeof store["delete"] !== "function"
    )
      throw argumentError("INPUT_INVALID", "the store", "a SoftDigipassStore (get, put, delete)", store);
    expectString(o.appVersion, "the app version");
    if (o.clock !== undefined) expectClock(o.clock);
    return new SoftDigipass(o);
  }

  /** Whether the app is activated, not yet, or locked. */
  async status(): Promise<SoftDigipassStatus> {
    if (await this.#store.get("locked")) return "locked";
    return (await this.#store.get("token")) ? "active" : "new";
  }

  /** The token's serial and instance, once active. */
  async token(): Promise<{ serial: string; instance: number } | undefined> {
    const t = (await this.#store.get("token")) as TokenRecord | undefined;
    return t && { serial: t.serial, instance: t.instance };
  }

  /** The device key, created on first use: ECDSA P-256, the private key non-extractable. */
  async deviceKey(): Promise<DeviceKey> {
    let rec = (await this.#store.get("device")) as DeviceRecord | undefined;
    const { subtle } = webCrypto();
    if (!rec) {
      const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
        "sign",
        "verify",
      ]);
      rec = {
        privateKey: pair.privateKey,
        publicKey: new Uint8Array(await subtle.exportKey("raw", pair.publicKey)),
      };
      await this.#store.put("device", rec);
    }
    const privateKey = rec.privateKey;
    return {
      publicKey: rec.publicKey,
      sign: async (m) => new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, m)),
    };
  }

  /**
   * Activates the app (capkit-activation/1, https://github.com/capkit/capkit/blob/main/docs/architecture.md §10): key
   * confirmation both ways, the device
   * key bound, the seed derived here and at the bank, imported as a non-extractable HMAC key and its bytes
   * zeroed, the first TOTP sent to end the bank's grace period, then the app password set. A transport error
   * resends the same request (the bank's idempotency key answers it once); a refusal throws
   * ACTIVATION_REFUSED (`details.retry`: whether the code may be typed again).
   */
  async activate(input: ActivateInput): Promise<{ serial: string; instance: number }> {
    checkActivateInput(input);
    if (input.appPassword !== undefined && !PASSWORD.test(input.appPassword))
      throw new CapkitError("PIN_INVALID", "the app password is 6 to 12 digits");
    const send = async (state: ActivationClientState): Promise<string> => {
      const attempts = 1 + (input.retries ?? 2);
      for (let i = 1; ; i++) {
        try {
          return await input.transport(state.request);
        } catch (e) {
          if (isCapkitError(e) || i >= attempts) throw e;
        }
      }
    };
    const device = await this.deviceKey();
    let state = activationClientStart({
      activationId: input.activationId,
      regId: input.regId,
      serverIdentity: input.serverIdentity,
      codes: input.codes,
    });
    state = await activationClientBind(state, await send(state), {
      device,
      appVersion: this.appVersion,
      ...(input.bankPassword !== undefined ? { password: input.bankPassword } : {}),
    });
    const received = activationClientReceive(state, await send(state));
    const t: ActivatedToken = received.token;
    let hmac: WebCryptoHmac;
    try {
      hmac = await WebCryptoHmac.importSecret(received.seed, t.otp.algorithm);
    } finally {
      received.seed.fill(0); // WebCrypto holds its own copy; ours is gone
    }
    const otp = await totpAsync(hmac, this.#clock.now() / 1000, t.otp.digits, { step: t.otp.step });
    state = await activationClientActivate(received.state, otp, device);
    activationClientFinish(state, await send(state));
    const record: TokenRecord = {
      hmac: hmac.key,
      serial: t.serial,
      instance: t.instance,
      algorithm: t.otp.algorithm,
      digits: t.otp.digits,
      step: t.otp.step,
      bankKeys: t.bankKeys,
    };
    await this.#store.put("token", record);
    if (input.appPassword === undefined) await this.#store.delete("password");
    else await this.#store.put("password", { ...(await hashPassword(input.appPassword)), failures: 0 });
    await this.#store.delete("locked");
    this.#unlocked = true;
    return { serial: t.serial, instance: t.instance };
  }

  /**
   * Types the app password. Five wrong in a row lock the app for good: its keys are deleted and only a new
   * activation brings it back (PIN_BLOCKED). A wrong one throws PIN_WRONG with `details.triesLeft`.
   */
  async unlock(password: string): Promise<void> {
    expectString(password, "the app password", "PIN_INVALID");
    await this.#active();
    const pw = (await this.#store.get("password")) as PasswordRecord | undefined;
    if (!pw) throw new CapkitError("PIN_INVALID", "this app keeps no password: the bank checks it");
    const candidate = await hashPassword(password, pw.salt);
    if (constantTimeEqual(candidate.hash, pw.hash)) {
      await this.#store.put("password", { ...pw, failures: 0 });
      this.#unlocked = true;
      return;
    }
    const failures = pw.failures + 1;
    if (failures >= APP_PASSWORD_TRIES) {
      await this.#store.put("locked", true);
      await this.#store.delete("token");
      await this.#store.delete("device");
      await this.#store.delete("password");
      throw new CapkitError("PIN_BLOCKED", "5 wrong passwords: the app is locked; activate it again");
    }
    await this.#store.put("password", { ...pw, failures });
    throw new CapkitError("PIN_WRONG", "wrong password", {
      details: { triesLeft: APP_PASSWORD_TRIES - failures },
    });
  }

  /** Forgets the unlock (the app went to the background, or the customer logged out). */
  lock(): void {
    this.#unlocked = false;
  }

  /** The current TOTP code and until when it is valid (Unix ms). */
  async code(): Promise<{ code: string; validUntil: number }> {
    const t = await this.#unlockedToken();
    const now = this.#clock.now();
    const code = await totpAsync(new WebCryptoHmac(t.hmac, t.algorithm), now / 1000, t.digits, {
      step: t.step,
    });
    return { code, validUntil: (Math.floor(now / 1000 / t.step) + 1) * t.step * 1000 };
  }

  /** A login from the app: the code and the device's signature over the bank's challenge and the code. */
  async loginProof(challenge: string): Promise<{ otp: string; signature: string }> {
    expectString(challenge, "the challenge");
    const t = await this.#unlockedToken();
    const { code } = await this.code();
    const device = await this.deviceKey();
    const signature = await device.sign(
      loginMessage({ serial: t.serial, instance: t.instance, challenge, otp: code }),
    );
    return { otp: code, signature: toBase64(signature) };
  }

  /**
   * What the approval screen shows: the operation rendered from the bank-signed document (checked against the
   * bank keys received at activation), never from a text sent beside it. Throws OPERATION_SIGNATURE_INVALID
   * for a document the bank did not sign, OPERATION_INVALID for an expired one.
   */
  async review(signed: unknown): Promise<{ operation: OperationDocument; view: OperationView }> {
    const t = await this.#active();
    const operation = verifySignedOperation(signed, t.bankKeys);
    // Whole Unix seconds, as operationOpen takes them (the clock ticks in milliseconds).
    if (!operationOpen(operation, Math.floor(this.#clock.now() / 1000)))
      throw new CapkitError("OPERATION_INVALID", "this operation has expired or is not yet open", {
        details: { field: "expiresAt" },
      });
    return { operation, view: describeOperation(operation) };
  }

  /** Accepts or declines a reviewed operation: the device signs `capkit-approval/1` over its digest. */
  async decide(signed: unknown, decision: ApprovalDecision): Promise<SignedDecision> {
    expectOneOf(decision, "the decision", ["accept", "decline"] as const);
    await this.#unlockedToken();
    const { operation } = await this.review(signed);
    const digest = operationDigest(operation);
    const signature = await (await this.deviceKey()).sign(approvalMessage(digest, decision));
    return {
      decision,
      operationDigest: toHex(digest).toLowerCase(),
      signature: toBase64(signature),
    };
  }

  async #active(): Promise<TokenRecord> {
    const t = (await this.#store.get("token")) as TokenRecord | undefined;
    if (!t) {
      if (await this.#store.get("locked"))
        throw new CapkitError("PIN_BLOCKED", "the app is locked; activate it again");
      throw new CapkitError("DEVICE_NOT_ACTIVATED", "the app is not activated yet");
    }
    return t;
  }

  async #unlockedToken(): Promise<TokenRecord> {
    const t = await this.#active();
    if (!this.#unlocked && (await this.#store.get("password")))
      throw new CapkitError("PIN_INVALID", "type the app password first");
    return t;
  }
}

/** PBKDF2-HMAC-SHA256 of the app password through WebCrypto, with a fresh 16-byte salt unless given. */
async function hashPassword(
  password: string,
  salt?: Uint8Array,
): Promise<{ salt: Uint8Array; hash: Uint8Array }> {
  const c = webCrypto();
  const s = salt ?? c.getRandomValues(new Uint8Array(16));
  const key = await c.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await c.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: s, iterations: PBKDF2_ITERATIONS },
    key,
    256,
  );
  return { salt: s, hash: new Uint8Array(bits) };
}

/** The door of `activate`: each field of the input, by type, before anything is sent or stored. */
function checkActivateInput(input: unknown): void {
  const i = expectRecord<Record<string, unknown>>(input, "the activation input");
  if (typeof i["transport"] !== "function")
    throw argumentError(
      "INPUT_INVALID",
      "the transport",
      "a function (request text → reply text)",
      i["transport"],
    );
  for (const k of ["activationId", "regId", "serverIdentity"]) expectString(i[k], k);
  expectRecord(i["codes"], "the codes", "an object of the codes the customer typed, by feature");
  if (i["bankPassword"] !== undefined) expectString(i["bankPassword"], "the bank password");
  if (i["appPassword"] !== undefined) expectString(i["appPassword"], "the app password", "PIN_INVALID");
  if (i["retries"] !== undefined) expectInteger(i["retries"], "retries", 0, 10);
}
