import { CapkitError, fromBase64, toBase64 } from "@capkit/core";
import { randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { DeviceKey } from "../device-proof.js";
import {
  SPAKE2_CONFIRMATION_BYTES,
  SPAKE2_SHARE_BYTES,
  type Spake2Start,
  spake2Confirm,
  spake2Finish,
  spake2Start,
} from "../spake2.js";
import {
  activateMessage,
  activationW,
  boxKey,
  deriveSeed,
  deviceBindingMessage,
  normalizeCode,
  type OtpParameters,
  open,
  pakeAad,
  seal,
  transcriptHash,
} from "./key-schedule.js";
import {
  type A2,
  type A4,
  ACTIVATION_VERSION,
  type B2,
  type B4,
  encodeActivationMessage,
  memberBytes,
  parseActivationMessage,
  type Refused,
} from "./messages.js";
import type { ActivationFeature } from "./policy.js";
import { randomId } from "./server.js";

/**
 * The device's side of `capkit-activation/1` as a pure state machine (the app, `SoftDigipass`, drives it and
 * does the I/O). Each step takes the bank's reply text and returns the next request text; a request whose
 * answer did not come is resent as is (`state.request`), so the bank's idempotency key recognises it. The
 * state holds the run's keys in memory only; the seed leaves it once, at b2, for the caller to import as a
 * non-extractable key and zero.
 */
export type ActivationClientPhase = "sent-a1" | "sent-a2" | "bound" | "sent-a4" | "active";

export interface ActivationClientState {
  readonly phase: ActivationClientPhase;
  readonly activationId: string;
  readonly regId: string;
  readonly serverIdentity: string;
  /** The request to (re)send for this phase. */
  readonly request: string;
  readonly w: bigint;
  readonly start: Spake2Start;
  readonly idempotencyKey: string;
  readonly ke?: Uint8Array;
  readonly th?: Uint8Array;
  readonly devicePublicKey?: string;
  readonly clientNonce?: Uint8Array;
  readonly token?: ActivatedToken;
}

export interface ClientStartInput {
  readonly activationId: string;
  readonly regId: string;
  readonly serverIdentity: string;
  /** The codes the customer typed or scanned, by feature (spaces and dashes ignored). */
  readonly codes: Readonly<Partial<Record<ActivationFeature, string>>>;
}

/** What the device learns at b2 (the seed aside): its token's identity, OTP parameters and the bank's keys. */
export interface ActivatedToken {
  readonly serial: string;
  readonly instance: number;
  readonly otp: OtpParameters;
  /** Ed25519 public keys for signed operations and receipts, by key id. */
  readonly bankKeys: Readonly<Record<string, Uint8Array>>;
}

function refusedError(m: Refused): CapkitError {
  return new CapkitError("ACTIVATION_REFUSED", "the bank refused the activation", {
    details: { retry: m.retry },
    hint: m.retry ? "check the codes and try again" : "ask the bank for a new activation",
  });
}

function tampered(what: string): CapkitError {
  return new CapkitError(
    "ACTIVATION_TAMPERED",
    `${what}: the message was changed on the way, or is not from the bank`,
  );
}

function checkId(reply: { activationId: string }, state: ActivationClientState): void {
  if (reply.activationId !== state.activationId) throw tampered("activationId");
}

/**
 * Parses the bank's b2 or b4 and opens its box (server key, the message's number: b2 = 1, b4 = 2); a refusal
 * throws ACTIVATION_REFUSED, a box that does not open ACTIVATION_TAMPERED.
 */
function openReply(
  state: ActivationClientState,
  ke: Uint8Array,
  th: Uint8Array,
  replyText: string,
  type: "b2" | "b4",
): Record<string, unknown> {
  const reply = parseActivationMessage(replyText, [type, "refused"]);
  checkId(reply, state);
  if (reply.type === "refused") throw refusedError(reply);
  const { box, ...header } = reply as B2 | B4;
  const seq = type === "b2" ? 1 : 2;
  const p = open(boxKey(ke, th, "server"), seq, header, memberBytes(box, "box", { max: 4096 }));
  if (typeof p !== "object" || p === null) throw tampered(type);
  return p as Record<string, unknown>;
}

/** Starts a run: pA from the codes (a new run after a refusal starts here again, with fresh randomness). */
export function activationClientStart(input: ClientStartInput): ActivationClientState {
  const codes: Partial<Record<ActivationFeature, string>> = {};
  for (const [f, c] of Object.entries(input.codes))
    if (c !== undefined) codes[f as ActivationFeature] = normalizeCode(c);
  const w = activationW(input.regId, codes);
  const start = spake2Start("A", w);
  const idempotencyKey = randomId();
  const request = encodeActivationMessage({
    v: ACTIVATION_VERSION,
    type: "a1",
    activationId: input.activationId,
    idempotencyKey,
    share: toBase64(start.share),
  });
  return { phase: "sent-a1", ...input, request, w, start, idempotencyKey };
}

export interface BindInput {
  readonly device: DeviceKey;
  readonly appVersion: string;
  /** The customer's banking password, when the activation asks for it (sent only inside the box). */
  readonly password?: string;
}

/**
 * b1 → a2: checks the bank's key confirmation (a wrong code, or a bank impersonator, fails here with
 * ACTIVATION_REFUSED, retry true), then binds the device key: its public key and a signature over the
 * transcript go to the bank inside the box, with the client nonce and the password.
 */
export async function activationClientBind(
  state: ActivationClientState,
  replyText: string,
  input: BindInput,
): Promise<ActivationClientState> {
  if (state.phase !== "sent-a1") throw new CapkitError("ACTIVATION_OUT_OF_ORDER", "b1 answers a1");
  const reply = parseActivationMessage(replyText, ["b1", "refused"]);
  checkId(reply, state);
  if (reply.type === "refused") throw refusedError(reply);
  const pB = memberBytes(reply.share, "share", { exact: SPAKE2_SHARE_BYTES });
  const cB = memberBytes(reply.confirmation, "confirmation", { exact: SPAKE2_CONFIRMATION_BYTES });
  let keys: ReturnType<typeof spake2Finish>;
  try {
    keys = spake2Finish(state.start, state.w, pB, {
      idA: utf8ToBytes(state.regId),
      idB: utf8ToBytes(state.serverIdentity),
      aad: pakeAad(state.activationId, state.idempotencyKey),
    });
  } catch {
    throw tampered("share");
  }
  if (!spake2Confirm(keys, "A", cB))
    throw new CapkitError(
      "ACTIVATION_REFUSED",
      "key confirmation failed: a code is wrong, or this is not the bank",
      {
        details: { retry: true },
        hint: "check the codes and try again",
      },
    );
  const th = transcriptHash(keys.transcript);
  const devicePublicKey = toBase64(input.device.publicKey);
  const clientNonce = randomBytes(32);
  const deviceSignature = toBase64(await input.device.sign(deviceBindingMessage(th, devicePublicKey)));
  const idempotencyKey = randomId();
  const header = {
    v: ACTIVATION_VERSION,
    type: "a2",
    activationId: state.activationId,
    idempotencyKey,
  } as const;
  const payload = {
    devicePublicKey,
    clientNonce: toBase64(clientNonce),
    appVersion: input.appVersion,
    deviceSignature,
    ...(input.password !== undefined ? { password: input.password } : {}),
  };
  const a2: A2 = {
    ...header,
    confirmation: toBase64(keys.confirmA),
    box: toBase64(
      seal(boxKey(keys.ke, th, "client"), 1, { ...header, confirmation: toBase64(keys.confirmA) }, payload),
    ),
  };
  return {
    ...state,
    phase: "sent-a2",
    request: encodeActivationMessage(a2),
    idempotencyKey,
    ke: keys.ke,
    th,
    devicePublicKey,
    clientNonce,
  };
}

/** b2 → the seed (derived, never received) and the token's parameters. Zero the seed once imported. */
export function activationClientReceive(
  state: ActivationClientState,
  replyText: string,
): { state: ActivationClientState; seed: Uint8Array; token: ActivatedToken } {
  if (state.phase !== "sent-a2" || !state.ke || !state.th || !state.clientNonce || !state.devicePublicKey)
    throw new CapkitError("ACTIVATION_OUT_OF_ORDER", "b2 answers a2");
  const p = openReply(state, state.ke, state.th, replyText, "b2");
  const otp = p["otp"] as OtpParameters;
  const token: ActivatedToken = {
    serial: String(p["serial"]),
    instance: Number(p["instance"]),
    otp: { algorithm: otp.algorithm, digits: otp.digits, step: otp.step },
    bankKeys: Object.fromEntries(
      Object.entries((p["bankKeys"] ?? {}) as Record<string, string>).map(([id, k]) => [
        id,
        fromBase64(k, "bank key"),
      ]),
    ),
  };
  const seed = deriveSeed({
    ke: state.ke,
    th: state.th,
    clientNonce: state.clientNonce,
    serverNonce: fromBase64(String(p["serverNonce"]), "server nonce"),
    serial: token.serial,
    instance: token.instance,
    devicePublicKey: fromBase64(state.devicePublicKey, "device key"),
    algorithm: token.otp.algorithm,
  });
  return { state: { ...state, phase: "bound", token }, seed, token };
}

/** bound → a4: the first OTP, with the device's signature over it and the transcript, in the box. */
export async function activationClientActivate(
  state: ActivationClientState,
  otp: string,
  device: DeviceKey,
): Promise<ActivationClientState> {
  if (state.phase !== "bound" || !state.ke || !state.th || !state.token)
    throw new CapkitError("ACTIVATION_OUT_OF_ORDER", "a4 comes after b2");
  const t = state.token;
  const deviceSignature = toBase64(await device.sign(activateMessage(state.th, t.serial, t.instance, otp)));
  const idempotencyKey = randomId();
  const header = {
    v: ACTIVATION_VERSION,
    type: "a4",
    activationId: state.activationId,
    idempotencyKey,
  } as const;
  const a4: A4 = {
    ...header,
    box: toBase64(seal(boxKey(state.ke, state.th, "client"), 2, header, { otp, deviceSignature })),
  };
  return { ...state, phase: "sent-a4", request: encodeActivationMessage(a4), idempotencyKey };
}

/** b4 → active. The run's keys are dropped. */
export function activationClientFinish(
  state: ActivationClientState,
  replyText: string,
): ActivationClientState {
  if (state.phase !== "sent-a4" || !state.ke || !state.th)
    throw new CapkitError("ACTIVATION_OUT_OF_ORDER", "b4 answers a4");
  const p = openReply(state, state.ke, state.th, replyText, "b4");
  if (p["result"] !== "active") throw tampered("b4");
  const { ke: _ke, th: _th, clientNonce: _n, ...rest } = state;
  return { ...rest, phase: "active" };
}
