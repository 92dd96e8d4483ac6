import { HmacKey, totp } from "@capkit/oath";
import { p256 } from "@noble/curves/nist.js";
import {
  type ActivationChecks,
  type ActivationClientState,
  type ActivationCredential,
  type ActivationServerState,
  activationClientActivate,
  activationClientBind,
  activationClientFinish,
  activationClientReceive,
  activationClientStart,
  activationPolicy,
  activationServerStep,
  type DeviceKey,
  type ServerStepResult,
  startActivation,
} from "../src/index.js";

/** A device key in software (the app uses WebCrypto; the protocol only sees this interface). */
export function softwareDevice(): DeviceKey & { secretKey: Uint8Array } {
  const { secretKey } = p256.keygen();
  return {
    secretKey,
    publicKey: p256.getPublicKey(secretKey, false),
    sign: async (m) => p256.sign(m, secretKey, { prehash: true, format: "compact" }),
  };
}

export const NOW = Date.UTC(2026, 11, 5, 9, 0, 0) / 1000;
export const PASSWORD = "112233";

/** The bank side as the Provisioner will run it: the stored state, replaced only by each step's result. */
export class Bank {
  state: ActivationServerState;
  readonly codes: Record<string, string>;
  credential: ActivationCredential | undefined;
  readonly outcomes: string[] = [];
  now = NOW;
  password = PASSWORD;

  constructor(features: ("sms" | "password" | "letter" | "web-session")[] = ["sms", "password"]) {
    const started = startActivation({
      policy: activationPolicy({ features }),
      serverIdentity: "sogesmart.example",
      serial: "SOFT0001",
      instance: 1,
      now: NOW,
      bankKeys: { "bank-2026": new Uint8Array(32).fill(7) },
    });
    this.state = started.state;
    this.codes = started.codes as Record<string, string>;
  }

  checks(): ActivationChecks {
    return {
      password: (p) => p === this.password,
      otp: (code) => {
        const c = this.credential;
        return (
          !!c &&
          code === totp(new HmacKey(c.seed, c.otp.algorithm), this.now, c.otp.digits, { step: c.otp.step })
        );
      },
    };
  }

  async handle(request: string): Promise<ServerStepResult> {
    const r = await activationServerStep({
      state: this.state,
      request,
      now: this.now,
      checks: this.checks(),
    });
    this.state = r.state;
    this.outcomes.push(r.outcome);
    if (r.credential) this.credential = r.credential;
    return r;
  }
}

export interface Run {
  readonly wire: string[];
  readonly client: ActivationClientState;
  readonly seed: Uint8Array;
}

/** One whole activation between a device and the bank, every message recorded. */
export async function runActivation(
  bank: Bank,
  device: DeviceKey,
  typed: { code?: string; password?: string; codes?: Record<string, string> } = {},
  tamper?: (index: number, text: string) => string,
): Promise<Run> {
  const wire: string[] = [];
  const send = (t: string) => {
    const out = tamper ? tamper(wire.length, t) : t;
    wire.push(out);
    return out;
  };
  let client = activationClientStart({
    activationId: bank.state.activationId,
    regId: bank.state.regId,
    serverIdentity: "sogesmart.example",
    codes: typed.codes ?? { sms: typed.code ?? bank.codes["sms"]! },
  });
  const b1 = await bank.handle(send(client.request));
  client = await activationClientBind(client, send(b1.reply), {
    device,
    appVersion: "5.2.0",
    ...(bank.state.features.includes("password") ? { password: typed.password ?? PASSWORD } : {}),
  });
  const b2 = await bank.handle(send(client.request));
  const got = activationClientReceive(client, send(b2.reply));
  client = got.state;
  const key = new HmacKey(got.seed, got.token.otp.algorithm);
  const otp = totp(key, bank.now, got.token.otp.digits, { step: got.token.otp.step });
  client = await activationClientActivate(client, otp, device);
  const b4 = await bank.handle(send(client.request));
  client = activationClientFinish(client, send(b4.reply));
  return { wire, client, seed: got.seed };
}
