import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { toBase64 } from "@capkit/core";
import { HmacKey, totp } from "@capkit/oath";
import {
  type ActivatedToken,
  type ActivationClientState,
  activationClientActivate,
  activationClientBind,
  activationClientFinish,
  activationClientReceive,
  activationClientStart,
  type DeviceKey,
  loginMessage,
} from "@capkit/provision";
import type { ActivationOffer, DeviceLogin } from "../src/provisioning.js";

/**
 * An app for the bank-side tests: the activation client of @capkit/provision with a device key from
 * node:crypto (ECDSA P-256, r ‖ s signatures as WebCrypto makes them) and the seed as an HMAC key in memory.
 * The real app (`SoftDigipass`, token-sim) keeps both non-extractable in WebCrypto and hashes its app password
 * with 600,000 PBKDF2 iterations: one end-to-end test drives it; the many activations here use this one.
 */
export class TestApp {
  readonly #private: KeyObject;
  readonly device: DeviceKey;
  /** Every message sent and received, in order (the wire). */
  readonly wire: string[] = [];
  token: ActivatedToken | undefined;
  /** A copy of the derived seed: only the at-rest scan looks for it in the database. */
  seedForTests: Uint8Array | undefined;
  #seed: HmacKey | undefined;
  #state: ActivationClientState | undefined;

  constructor(readonly appVersion = "5.2.0") {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#private = privateKey;
    const jwk = publicKey.export({ format: "jwk" });
    const raw = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, "base64url"),
      Buffer.from(jwk.y!, "base64url"),
    ]);
    this.device = {
      publicKey: new Uint8Array(raw),
      sign: async (m) => new Uint8Array(sign("sha256", m, { key: this.#private, dsaEncoding: "ieee-p1363" })),
    };
  }

  get credential(): string {
    return `${this.token!.serial}.${this.token!.instance}`;
  }

  /** a1, with the codes the customer typed. */
  begin(offer: ActivationOffer, codes: Record<string, string>): string {
    this.#state = activationClientStart({
      activationId: offer.activationId,
      regId: offer.regId,
      serverIdentity: offer.serverIdentity,
      codes,
    });
    return this.#send(this.#state.request);
  }

  /** b1 → a2 (throws ACTIVATION_REFUSED on a refusal or a wrong code). */
  async bind(b1: string, password?: string): Promise<string> {
    this.wire.push(b1);
    this.#state = await activationClientBind(this.#state!, b1, {
      device: this.device,
      appVersion: this.appVersion,
      ...(password !== undefined ? { password } : {}),
    });
    return this.#send(this.#state.request);
  }

  /** b2 → the seed, then a4 with the first code at `nowMs`. */
  async activate(b2: string, nowMs: number): Promise<string> {
    this.wire.push(b2);
    const got = activationClientReceive(this.#state!, b2);
    this.token = got.token;
    this.#seed = new HmacKey(got.seed, got.token.otp.algorithm);
    this.seedForTests = got.seed.slice();
    got.seed.fill(0);
    this.#state = await activationClientActivate(got.state, this.code(nowMs), this.device);
    return this.#send(this.#state.request);
  }

  finish(b4: string): void {
    this.wire.push(b4);
    this.#state = activationClientFinish(this.#state!, b4);
  }

  /** The request of the current phase, as sent (a retry resends it). */
  get request(): string {
    return this.#state!.request;
  }

  code(nowMs: number, stepsAhead = 0): string {
    const t = this.token!;
    return totp(this.#seed!, nowMs / 1000 + stepsAhead * t.otp.step, t.otp.digits, { step: t.otp.step });
  }

  /** A login: the code at `nowMs` and the device's signature over the challenge and it. */
  async login(challenge: string, nowMs: number, code = this.code(nowMs)): Promise<DeviceLogin> {
    const t = this.token!;
    const signature = await this.device.sign(
      loginMessage({ serial: t.serial, instance: t.instance, challenge, otp: code }),
    );
    return { credential: this.credential, challenge, code, signature: toBase64(signature) };
  }

  #send(text: string): string {
    this.wire.push(text);
    return text;
  }
}
