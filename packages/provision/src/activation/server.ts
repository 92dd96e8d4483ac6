import { CapkitError, constantTimeEqual, fromHex, toBase64, toHex } from "@capkit/core";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { DEVICE_PUBLIC_KEY_BYTES, validDevicePublicKey, verifyDeviceSignature } from "../device-proof.js";
import { SPAKE2_CONFIRMATION_BYTES, SPAKE2_SHARE_BYTES, spake2Finish, spake2Start } from "../spake2.js";
import {
  activateMessage,
  activationW,
  boxKey,
  deriveSeed,
  deviceBindingMessage,
  type OtpParameters,
  open,
  pakeAad,
  seal,
  transcriptHash,
} from "./key-schedule.js";
import {
  type A1,
  type A2,
  type A4,
  ACTIVATION_VERSION,
  type ActivationMessage,
  encodeActivationMessage,
  headerOf,
  memberBytes,
  parseActivationMessage,
} from "./messages.js";
import type { ActivationFeature, ActivationPolicy } from "./policy.js";

/**
 * The bank's side of `capkit-activation/1` as a pure state machine: the stored state and one message in, the
 * state to store and the reply out. Nothing here does I/O; the caller (`@capkit/verify`'s Provisioner)
 * persists each returned state with ONE conditional write — `rev` must still be the `rev` it read — and only
 * then sends the reply. So a PAKE run's try is counted before the client can learn anything from the answer,
 * two requests racing on one activation cannot both be answered, and a crash between the write and the
 * reply is repaired by the client's retry with the same idempotency key, which gets the stored reply.
 *
 *   awaiting-a1 ─a1 (tries+1)→ awaiting-a2 ─a2 ok→ awaiting-a4 ─a4 ok→ active
 *        ↑                          │ a2 refused (failures+1)              │ a4 refused
 *        └──────────────────────────┘ (dead when tries = maxTries)         └→ dead
 *
 * A new a1 while awaiting a2 abandons the previous run (its try stays spent). Expiry is the clock's: an
 * expired activation answers ACTIVATION_EXPIRED whatever its phase.
 */
export type ActivationPhase = "awaiting-a1" | "awaiting-a2" | "awaiting-a4" | "active" | "dead";

/** The secret part of the state: the caller seals it at rest (KeyProvider) and wipes it when finished. */
export interface ActivationSecrets {
  /** The SPAKE2 secret w (hex); empty once the code is consumed or dead. */
  readonly w: string;
  /** The current run's keys (hex): Ke, the transcript hash, and the client confirmation expected. */
  readonly run?: { readonly ke: string; readonly th: string; readonly confirmA?: string };
}

export interface ActivationServerState {
  readonly v: typeof ACTIVATION_VERSION;
  readonly activationId: string;
  readonly regId: string;
  readonly serverIdentity: string;
  readonly serial: string;
  readonly instance: number;
  readonly otp: OtpParameters;
  readonly features: readonly ActivationFeature[];
  readonly maxTries: number;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly phase: ActivationPhase;
  /** PAKE runs answered: one online guess each. */
  readonly tries: number;
  /** Runs refused after the PAKE (wrong confirmation, second feature, device proof, tampered box). */
  readonly failures: number;
  /** Bumped by every state change: the caller's compare-and-set version. */
  readonly rev: number;
  /** The last request answered (its idempotency key and digest) and the reply, for retries. */
  readonly last?: { readonly key: string; readonly request: string; readonly reply: string };
  /** Bound at a2: the device public key (base64) and the app's version. */
  readonly device?: { readonly publicKey: string; readonly appVersion: string };
  /** The bank's Ed25519 public keys (base64 by key id), delivered to the app inside b2. */
  readonly bankKeys: Readonly<Record<string, string>>;
  readonly secrets: ActivationSecrets;
}

export interface StartActivationInput {
  readonly policy: ActivationPolicy;
  /** The bank's SPAKE2 identity (B), e.g. its host name. */
  readonly serverIdentity: string;
  /** The token serial and this device's instance number (multi-device: 1, 2, …). */
  readonly serial: string;
  readonly instance: number;
  /** Unix seconds. */
  readonly now: number;
  readonly otp?: OtpParameters;
  /** Public keys the app will trust for signed operations (and receipts). */
  readonly bankKeys?: Readonly<Record<string, Uint8Array>>;
}

export interface StartedActivation {
  readonly state: ActivationServerState;
  /** The codes to deliver, each through its own channel (policy.channels); never logged, never stored. */
  readonly codes: Readonly<Partial<Record<ActivationFeature, string>>>;
}

const DEFAULT_OTP: OtpParameters = { algorithm: "SHA1", digits: 6, step: 30 };
const SERIAL = /^[A-Za-z0-9_-]{1,32}$/;
const hex = (b: Uint8Array) => toHex(b).toLowerCase();

/** 128 random bits as 32 hex digits: activation ids, registration ids, idempotency keys. */
export function randomId(): string {
  return hex(randomBytes(16));
}

/** `digits` decimal digits, uniform (rejection sampling over 32-bit draws). */
export function randomDigits(digits: number): string {
  let out = "";
  while (out.length < digits) {
    const b = randomBytes(4);
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (v < 4_000_000_000) out += String(v % 100_000_000).padStart(8, "0"); // 4e9 is a multiple of 1e8
  }
  return out.slice(0, digits);
}

function checkOtp(otp: OtpParameters): OtpParameters {
  if (
    !["SHA1", "SHA256", "SHA512"].includes(otp.algorithm) ||
    ![6, 7, 8].includes(otp.digits) ||
    ![30, 60].includes(otp.step)
  )
    throw new CapkitError("INPUT_INVALID", "OTP parameters: SHA1/SHA256/SHA512, 6 to 8 digits, 30 or 60 s");
  return { algorithm: otp.algorithm, digits: otp.digits, step: otp.step };
}

/**
 * Creates an activation: its ids, the codes of its bank-generated features (8 digits for sms and letter, 32
 * hex digits for the web-session QR), and w derived from them. The codes are returned once, to be sent out
 * of band; only w is kept (in `secrets`).
 */
export function startActivation(input: StartActivationInput): StartedActivation {
  if (!SERIAL.test(input.serial))
    throw new CapkitError("INPUT_INVALID", "a serial is 1 to 32 letters, digits, _ or -");
  if (!Number.isInteger(input.instance) || input.instance < 1 || input.instance > 99)
    throw new CapkitError("INPUT_INVALID", "an instance number is 1 to 99");
  if (
    typeof input.serverIdentity !== "string" ||
    input.serverIdentity.length < 1 ||
    input.serverIdentity.length > 255
  )
    throw new CapkitError("INPUT_INVALID", "the server identity is 1 to 255 characters");
  const codes: Partial<Record<ActivationFeature, string>> = {};
  for (const f of input.policy.features) {
    if (f === "sms" || f === "letter") codes[f] = randomDigits(8);
    if (f === "web-session") codes[f] = randomId();
  }
  const regId = randomId();
  const bankKeys: Record<string, string> = {};
  for (const [id, key] of Object.entries(input.bankKeys ?? {})) bankKeys[id] = toBase64(key);
  const state: ActivationServerState = {
    v: ACTIVATION_VERSION,
    activationId: randomId(),
    regId,
    serverIdentity: input.serverIdentity,
    serial: input.serial,
    instance: input.instance,
    otp: checkOtp(input.otp ?? DEFAULT_OTP),
    features: input.policy.features,
    maxTries: input.policy.maxTries,
    createdAt: input.now,
    expiresAt: input.now + input.policy.ttl,
    phase: "awaiting-a1",
    tries: 0,
    failures: 0,
    rev: 0,
    bankKeys,
    secrets: { w: activationW(regId, codes).toString(16).padStart(64, "0") },
  };
  return { state, codes };
}

/** What the bank checks outside the pure core, each at its step. */
export interface ActivationChecks {
  /** The customer's banking password (feature `password`) against the bank's hash; true if right. */
  readonly password?: (candidate: string) => boolean | Promise<boolean>;
  /** The first OTP against the pending credential (the verifier's one-time-use check); true if accepted. */
  readonly otp?: (code: string) => boolean | Promise<boolean>;
}

/** What happened, for the caller's audit trail and user-level failure count. */
export type ActivationOutcome =
  | "answered" // a1: pB and cB sent, one try spent
  | "retried" // the same request again (idempotency key): the stored reply, nothing changed
  | "bound" // a2 accepted: enrol `credential` as pending
  | "activated" // a4 accepted: the pending credential becomes active
  | "confirmation-failed" // a2: wrong cA (the client did not know the code)
  | "second-feature-failed" // a2: wrong password (count it as the user's failure)
  | "device-proof-failed" // a2/a4: a device signature or key did not verify
  | "tampered" // a box did not open or held the wrong members
  | "otp-failed"; // a4: the first OTP was refused

/** Enrol this as the pending credential at `bound` (the seed is secret: seal it, never log it). */
export interface ActivationCredential {
  readonly serial: string;
  readonly instance: number;
  readonly seed: Uint8Array;
  readonly otp: OtpParameters;
  /** SEC1 uncompressed P-256 device public key: logins and approvals are checked against it. */
  readonly devicePublicKey: Uint8Array;
  readonly appVersion: string;
}

export interface ServerStepInput {
  readonly state: ActivationServerState;
  /** The request's text as received. */
  readonly request: string;
  /** Unix seconds. */
  readonly now: number;
  readonly checks?: ActivationChecks;
}

export interface ServerStepResult {
  /** Store this (conditional on the input state's `rev`) before sending `reply`; unchanged when `changed` is false. */
  readonly state: ActivationServerState;
  readonly changed: boolean;
  readonly reply: string;
  readonly outcome: ActivationOutcome;
  /** At `bound` only. */
  readonly credential?: ActivationCredential;
}

function stateError(
  code: "ACTIVATION_EXPIRED" | "ACTIVATION_CODE_DEAD" | "ACTIVATION_FINISHED" | "ACTIVATION_OUT_OF_ORDER",
  message: string,
) {
  return new CapkitError(code, message);
}

const A2_PAYLOAD = ["devicePublicKey", "clientNonce", "appVersion", "deviceSignature"];
const A4_PAYLOAD = ["otp", "deviceSignature"];
const APP_VERSION = /^[0-9A-Za-z.+_-]{1,32}$/;

function exactPayload(payload: unknown, members: readonly string[]): Record<string, unknown> | undefined {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  const o = payload as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== members.length || !members.every((m) => typeof o[m] === "string")) return undefined;
  return o;
}

/** Decodes base64 inside an opened box; undefined when malformed (the box was authentic: the sender's fault). */
function inner(value: unknown, length: number): Uint8Array | undefined {
  try {
    return memberBytes(String(value), "box member", { exact: length });
  } catch {
    return undefined;
  }
}

/** Handles one client message (a1, a2 or a4). Throws for what is refused at the door (nothing counted). */
export async function activationServerStep(input: ServerStepInput): Promise<ServerStepResult> {
  const { state, request, now } = input;
  const msg = parseActivationMessage(request, ["a1", "a2", "a4"]);
  if (msg.activationId !== state.activationId)
    throw new CapkitError("ACTIVATION_MESSAGE_INVALID", "the message is for another activation");
  const digest = hex(sha256(utf8ToBytes(request)));
  if (state.last && state.last.key === msg.idempotencyKey) {
    if (state.last.request !== digest)
      throw new CapkitError("IDEMPOTENCY_KEY_REUSED", "this idempotency key was used for another request");
    return { state, changed: false, reply: state.last.reply, outcome: "retried" };
  }
  if (state.phase === "active") throw stateError("ACTIVATION_FINISHED", "this activation is finished");
  if (state.phase === "dead")
    throw stateError("ACTIVATION_CODE_DEAD", "this activation code can no longer be used");
  if (now >= state.expiresAt) throw stateError("ACTIVATION_EXPIRED", "this activation has expired");
  const step = { state, digest, msg, checks: input.checks ?? {} };
  if (msg.type === "a1") return answerA1({ ...step, msg });
  if (msg.type === "a2") return answerA2({ ...step, msg });
  return answerA4({ ...step, msg });
}

interface Step<M> {
  readonly state: ActivationServerState;
  readonly digest: string;
  readonly msg: M;
  readonly checks: ActivationChecks;
}

function next(
  step: Step<A1 | A2 | A4>,
  changes: Partial<ActivationServerState>,
  reply: ActivationMessage,
): { state: ActivationServerState; reply: string } {
  const text = encodeActivationMessage(reply);
  const state: ActivationServerState = {
    ...step.state,
    ...changes,
    rev: step.state.rev + 1,
    last: { key: step.msg.idempotencyKey, request: step.digest, reply: text },
  };
  return { state, reply: text };
}

function answerA1(step: Step<A1>): ServerStepResult {
  const { state, msg } = step;
  if (state.phase === "awaiting-a4")
    throw stateError("ACTIVATION_OUT_OF_ORDER", "this activation's code is already used");
  if (state.tries >= state.maxTries)
    throw stateError("ACTIVATION_CODE_DEAD", "this activation code can no longer be used");
  const pA = memberBytes(msg.share, "share", { exact: SPAKE2_SHARE_BYTES });
  const w = BigInt(`0x${state.secrets.w}`);
  const b = spake2Start("B", w);
  let keys: ReturnType<typeof spake2Finish>;
  try {
    keys = spake2Finish(b, w, pA, {
      idA: utf8ToBytes(state.regId),
      idB: utf8ToBytes(state.serverIdentity),
      aad: pakeAad(state.activationId, msg.idempotencyKey),
    });
  } catch (e) {
    throw new CapkitError("ACTIVATION_MESSAGE_INVALID", "the share is not a valid P-256 point", { cause: e });
  }
  const th = transcriptHash(keys.transcript);
  const r = next(
    step,
    {
      phase: "awaiting-a2",
      tries: state.tries + 1,
      secrets: { w: state.secrets.w, run: { ke: hex(keys.ke), th: hex(th), confirmA: hex(keys.confirmA) } },
    },
    {
      v: ACTIVATION_VERSION,
      type: "b1",
      activationId: state.activationId,
      share: toBase64(b.share),
      confirmation: toBase64(keys.confirmB),
    },
  );
  return { ...r, changed: true, outcome: "answered" };
}

/** Ends the run refused: one failure more; the code dies once every try is spent (or at once after a4). */
function refuse(step: Step<A2 | A4>, outcome: ActivationOutcome, dead: boolean): ServerStepResult {
  const { state } = step;
  const isDead = dead || state.tries >= state.maxTries;
  const r = next(
    step,
    {
      phase: isDead ? "dead" : "awaiting-a1",
      failures: state.failures + 1,
      secrets: { w: isDead ? "" : state.secrets.w },
    },
    { v: ACTIVATION_VERSION, type: "refused", activationId: state.activationId, retry: !isDead },
  );
  return { ...r, changed: true, outcome };
}

async function answerA2(step: Step<A2>): Promise<ServerStepResult> {
  const { state, msg, checks } = step;
  const run = state.secrets.run;
  if (state.phase !== "awaiting-a2" || !run?.confirmA)
    throw stateError("ACTIVATION_OUT_OF_ORDER", "a2 comes after b1");
  const confirmation = memberBytes(msg.confirmation, "confirmation", { exact: SPAKE2_CONFIRMATION_BYTES });
  const box = memberBytes(msg.box, "box", { max: 2048 });
  if (!constantTimeEqual(confirmation, fromHex(run.confirmA)))
    return refuse(step, "confirmation-failed", false);
  const ke = fromHex(run.ke);
  const th = fromHex(run.th);
  const p = exactPayload(open(boxKey(ke, th, "client"), 1, headerOf(msg), box), [
    ...A2_PAYLOAD,
    ...(state.features.includes("password") ? ["password"] : []),
  ]);
  if (!p || !APP_VERSION.test(p["appVersion"] as string)) return refuse(step, "tampered", false);
  const devicePublicKey = inner(p["devicePublicKey"], DEVICE_PUBLIC_KEY_BYTES);
  const clientNonce = inner(p["clientNonce"], 32);
  const signature = inner(p["deviceSignature"], 64);
  if (!devicePublicKey || !clientNonce || !signature) return refuse(step, "tampered", false);
  if (
    !validDevicePublicKey(devicePublicKey) ||
    !verifyDeviceSignature(
      devicePublicKey,
      deviceBindingMessage(th, p["devicePublicKey"] as string),
      signature,
    )
  )
    return refuse(step, "device-proof-failed", false);
  if (state.features.includes("password")) {
    if (!checks.password) throw new CapkitError("INPUT_INVALID", "this activation needs a password check");
    if (!(await checks.password(p["password"] as string)))
      return refuse(step, "second-feature-failed", false);
  }
  const serverNonce = randomBytes(32);
  const seed = deriveSeed({
    ke,
    th,
    clientNonce,
    serverNonce,
    serial: state.serial,
    instance: state.instance,
    devicePublicKey,
    algorithm: state.otp.algorithm,
  });
  const header = { v: ACTIVATION_VERSION, type: "b2", activationId: state.activationId } as const;
  const payload = {
    serial: state.serial,
    instance: state.instance,
    serverNonce: toBase64(serverNonce),
    otp: state.otp,
    bankKeys: state.bankKeys,
  };
  const r = next(
    step,
    {
      phase: "awaiting-a4",
      device: { publicKey: p["devicePublicKey"] as string, appVersion: p["appVersion"] as string },
      secrets: { w: "", run: { ke: run.ke, th: run.th } }, // the code is consumed: w is dropped
    },
    { ...header, box: toBase64(seal(boxKey(ke, th, "server"), 1, header, payload)) },
  );
  const credential: ActivationCredential = {
    serial: state.serial,
    instance: state.instance,
    seed,
    otp: state.otp,
    devicePublicKey,
    appVersion: p["appVersion"] as string,
  };
  return { ...r, changed: true, outcome: "bound", credential };
}

async function answerA4(step: Step<A4>): Promise<ServerStepResult> {
  const { state, msg, checks } = step;
  const run = state.secrets.run;
  if (state.phase !== "awaiting-a4" || !run || !state.device)
    throw stateError("ACTIVATION_OUT_OF_ORDER", "a4 comes after b2");
  const box = memberBytes(msg.box, "box", { max: 1024 });
  const ke = fromHex(run.ke);
  const th = fromHex(run.th);
  // a4 is one shot (its box nonce is fixed): any failure ends the activation; the bank starts a new one.
  const p = exactPayload(open(boxKey(ke, th, "client"), 2, headerOf(msg), box), A4_PAYLOAD);
  const otp = p?.["otp"] as string | undefined;
  const signature = inner(p?.["deviceSignature"], 64);
  if (!p || !signature || otp === undefined || !new RegExp(`^[0-9]{${state.otp.digits}}$`).test(otp))
    return refuse(step, "tampered", true);
  const devicePublicKey = memberBytes(state.device.publicKey, "device key", {
    exact: DEVICE_PUBLIC_KEY_BYTES,
  });
  if (
    !verifyDeviceSignature(devicePublicKey, activateMessage(th, state.serial, state.instance, otp), signature)
  )
    return refuse(step, "device-proof-failed", true);
  if (!checks.otp) throw new CapkitError("INPUT_INVALID", "activation needs the first OTP checked");
  if (!(await checks.otp(otp))) return refuse(step, "otp-failed", true);
  const header = { v: ACTIVATION_VERSION, type: "b4", activationId: state.activationId } as const;
  const r = next(
    step,
    { phase: "active", secrets: { w: "" } },
    {
      ...header,
      box: toBase64(
        seal(boxKey(ke, th, "server"), 2, header, {
          result: "active",
          serial: state.serial,
          instance: state.instance,
        }),
      ),
    },
  );
  return { ...r, changed: true, outcome: "activated" };
}
