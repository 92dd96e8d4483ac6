import { randomBytes } from "node:crypto";
import { CapkitError, fromBase64, fromHex, isRecord, toBase64 } from "@capkit/core";
import { ID_PATTERN, loginMessage } from "@capkit/provision";
import type { Verifier } from "../verifier.js";
import { belowFloor } from "./app-version.js";
import { verifyDeviceSignatureNative } from "./device-signature.js";
import type { InstanceStatus, ProvisioningStore } from "./model.js";
import type { ProvisioningPolicy } from "./policy.js";

/** A login from the app (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11): what the device sends besides its code. */
export interface DeviceLogin {
  /** The instance's credential, `SERIAL.N` (the app learnt both at activation). */
  readonly credential: string;
  /** The challenge from `issueLoginChallenge`: single use. */
  readonly challenge: string;
  /** The TOTP code, as the app computed it. */
  readonly code: string;
  /**
   * ECDSA P-256 r ‖ s (64 bytes, base64) over `capkit-login/1` with the serial, the instance, the challenge and
   * the code (`loginMessage` of `@capkit/provision`), by the device key bound at activation.
   */
  readonly signature: string;
}

/**
 * A login's answer. `accepted`: the code and the signature are right (the credential, and the TOTP step it
 * matched). `rejected`: a wrong code, signature or challenge, counted in the user's one lockout (`triesLeft`),
 * unless `replayed` (a code just accepted, again: not counted). `locked`: the user is locked out.
 */
export type DeviceLoginResult =
  /** The device and its code are right: the customer is in. */
  | { readonly result: "accepted"; readonly credential: string; readonly counter?: number }
  /** Wrong, and counted (`triesLeft` before the lockout), unless `replayed`. */
  | { readonly result: "rejected"; readonly triesLeft?: number; readonly replayed?: true }
  /** The user is locked out: nothing was judged. */
  | { readonly result: "locked" }
  /** Only after a valid signature: this device must be activated again; nothing was counted. */
  | { readonly result: "reactivation-required"; readonly reason: string };

/** Outstanding login challenges per instance: issuing one more drops the oldest (a flood stays bounded). */
const MAX_CHALLENGES = 8;
const CREDENTIAL = /^([A-Za-z0-9_-]{1,32})\.([1-9][0-9]?)$/;
/**
 * The P-256 base point (SEC 2 §2.4.2, uncompressed): the key an unknown instance's signature is checked
 * against, so that a login for an id nobody holds costs what a known one's costs.
 */
const DECOY_KEY = fromHex(
  "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
);

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

function credentialParts(credential: unknown): { serial: string; instance: number } {
  const m = typeof credential === "string" ? CREDENTIAL.exec(credential) : null;
  if (!m) throw invalid("credential is SERIAL.N (the serial, a dot, the instance number 1 to 99)");
  return { serial: m[1]!, instance: Number(m[2]) };
}

/**
 * Logins from the app: a code and the device's signature over a single-use challenge and that code. Every
 * login makes the same store operations whatever its outcome — the challenge taken, the instance read, the
 * signature checked (against a decoy key for an unknown instance), then one verifier call — and counts in the
 * verifier's one lockout: a bad signature or challenge as a failure of the instance's user (of the id itself
 * when nobody holds it), the code as any code of the user.
 */
export class DeviceLogins {
  readonly #verifier: Verifier;
  readonly #store: ProvisioningStore;
  readonly #policy: ProvisioningPolicy;
  readonly #now: () => number;
  readonly #reasonOf: (i: InstanceStatus) => Promise<string>;

  constructor(o: {
    verifier: Verifier;
    store: ProvisioningStore;
    policy: ProvisioningPolicy;
    now: () => number;
    reasonOf: (i: InstanceStatus) => Promise<string>;
  }) {
    this.#verifier = o.verifier;
    this.#store = o.store;
    this.#policy = o.policy;
    this.#now = o.now;
    this.#reasonOf = o.reasonOf;
  }

  async issue(credential: string): Promise<{ challenge: string; expiresAt: number }> {
    credentialParts(credential);
    const now = this.#now();
    const challenge = randomBytes(16).toString("hex");
    const expiresAt = now + this.#policy.loginChallengeSeconds * 1000;
    await this.#store.addLoginChallenge(
      { id: challenge, credentialId: credential, expiresAt },
      MAX_CHALLENGES,
      now,
    );
    return { challenge, expiresAt };
  }

  async verify(login: DeviceLogin): Promise<DeviceLoginResult> {
    if (!isRecord(login)) throw invalid("a login is an object");
    const { credential, challenge, code, signature } = login;
    const parts = credentialParts(credential);
    if (typeof challenge !== "string" || !ID_PATTERN.test(challenge))
      throw invalid("challenge is the 32 hex digits issueLoginChallenge gave");
    if (typeof code !== "string" || code.length < 1 || code.length > 24)
      throw invalid("code is the app's code, as text");
    const sig = signatureBytes(signature);

    const taken = await this.#store.takeLoginChallenge(challenge, credential, this.#now());
    const instance = await this.#store.instance(credential);
    const signed = verifyDeviceSignatureNative(
      instance ? fromBase64(instance.devicePublicKey) : DECOY_KEY,
      loginMessage({
        serial: instance?.serial ?? parts.serial,
        instance: instance?.instance ?? parts.instance,
        challenge,
        otp: code,
      }),
      sig,
    );
    if (!taken || !instance || !signed) {
      const r = await this.#verifier.checkFactor({
        user: instance?.user ?? credential,
        factor: "device-proof",
        ok: false,
      });
      return r.result === "locked"
        ? { result: "locked" }
        : { result: "rejected", ...(r.triesLeft !== undefined ? { triesLeft: r.triesLeft } : {}) };
    }
    // The device proved possession: it may be told why it must be activated again, counting nothing.
    const reason =
      instance.state === "ended"
        ? await this.#reasonOf(instance)
        : belowFloor(instance.appVersion, this.#policy.minAppVersion)
          ? "app-version"
          : undefined;
    if (reason !== undefined) {
      await this.#store.record({
        at: this.#now(),
        credentialId: credential,
        action: "verify",
        result: "reactivation-required",
        detail: reason,
        user: instance.user,
      });
      return { result: "reactivation-required", reason };
    }
    const v = await this.#verifier.verify({ id: credential, code });
    if (v.result === "accepted")
      return { result: "accepted", credential, ...(v.counter !== undefined ? { counter: v.counter } : {}) };
    if (v.result === "locked") return { result: "locked" };
    return {
      result: "rejected",
      ...(v.triesLeft !== undefined ? { triesLeft: v.triesLeft } : {}),
      ...(v.replayed ? { replayed: true as const } : {}),
    };
  }
}

/** The signature: canonical base64 of 64 bytes (r ‖ s), else INPUT_INVALID (nothing counted). */
function signatureBytes(signature: unknown): Uint8Array {
  let bytes: Uint8Array = new Uint8Array(0);
  try {
    if (typeof signature === "string") bytes = fromBase64(signature, "signature");
  } catch {
    // refused below
  }
  if (bytes.length !== 64 || toBase64(bytes) !== signature)
    throw invalid("signature is the device's 64-byte ECDSA signature, in base64");
  return bytes;
}
