import {
  argumentError,
  CapkitError,
  expectBytes,
  expectRecord,
  expectString,
  fromBase64,
  toBase64,
} from "@capkit/core";
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

/*
 * The device's side of `capkit-activation/1` as a pure state machine (the app, `SoftDigipass`, drives it and
 * does the I/O). Each step takes the bank's reply text and returns the next request text; a request whose
 * answer did not come is resent as is (`state.request`), so the bank's idempotency key recognises it. The
 * state holds the run's keys in memory only; the seed leaves it once, at b2, for the caller to import as a
 * non-extractable key and zero.
 */

/**
 * Where the device's run stands: a1 sent, a2 sent, bound (b2 received, the seed derived), a4 sent, active.
 */
export type ActivationClientPhase = "sent-a1" | "sent-a2" | "bound" | "sent-a4" | "active";

/**
 * The device's run, in memory only (it holds the PAKE secret and the run's keys): what each step takes and
 * returns. Send `request`; feed the bank's reply to the next step.
 */
export interface ActivationClientState {
  /** Where the run stands. */
  readonly phase: ActivationClientPhase;
  /** The activation's id, from the bank (the QR code or the link). */
  readonly activationId: string;
  /** The registration id: the device's SPAKE2 identity (A). */
  readonly regId: string;
  /** The bank's SPAKE2 identity (B), e.g. its host name. */
  readonly serverIdentity: string;
  /** The request to (re)send for this phase. */
  readonly request: string;
  /** The SPAKE2 secret derived from the codes ({@link activationW}). */
  readonly w: bigint;
  /** This run's SPAKE2 start (its secret scalar and share pA). */
  readonly start: Spake2Start;
  /** The idempotency key of the current request. */
  readonly idempotencyKey: string;
  /** SPAKE2's shared key Ke, from b1 on. */
  readonly ke?: Uint8Array;
  /** The transcript hash, from b1 on. */
  readonly th?: Uint8Array;
  /** The device public key sent in a2 (base64). */
  readonly devicePublicKey?: string;
  /** The device's nonce sent in a2 (an input of the seed). */
  readonly clientNonce?: Uint8Array;
  /** What b2 delivered, from `bound` on. */
  readonly token?: ActivatedToken;
}

/** What a run starts from: the activation's ids and the codes the customer typed or scanned. */
export interface ClientStartInput {
  /** The activation's id (32 hex digits). */
  readonly activationId: string;
  /** The registration id (32 hex digits): the device's SPAKE2 identity. */
  readonly regId: string;
  /** The bank's SPAKE2 identity (B), e.g. its host name. */
  readonly serverIdentity: string;
  /** The codes the customer typed or scanned, by feature (spaces and dashes ignored). */
  readonly codes: Readonly<Partial<Record<ActivationFeature, string>>>;
}

/** What the device learns at b2 (the seed aside): its token's identity, OTP parameters and the bank's keys. */
export interface ActivatedToken {
  /** The token's serial. */
  readonly serial: string;
  /** This device's instance number (1, 2, … when a customer activates several devices). */
  readonly instance: number;
  /** The OTP's hash, digits and step. */
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

/**
 * Starts a run: pA from the codes (a new run after a refusal starts here again, with fresh randomness).
 *
 * @example
 * ```ts
 * let state = activationClientStart({ activationId, regId, serverIdentity: "bank.example", codes: { sms: "1234 5678" } });
 * state = await activationClientBind(state, await post(state.request), { device, appVersion: "1.0.0" });
 * const { state: bound, seed, token } = activationClientReceive(state, await post(state.request));
 * // import `seed` as a non-extractable HMAC key, zero it, compute the first TOTP…
 * state = await activationClientActivate(bound, firstOtp, device);
 * state = activationClientFinish(state, await post(state.request)); // state.phase === "active"
 * ```
 * @throws `INPUT_INVALID` for a missing or mistyped field, or no code at all
 */
export function activationClientStart(input: ClientStartInput): ActivationClientState {
  checkStartInput(input);
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

/** What the device adds at a2: its key, its app's version, and the banking password when asked for. */
export interface BindInput {
  /** The device key to bind (its public key goes to the bank, its signature proves it). */
  readonly device: DeviceKey;
  /** The app's version, 1 to 32 of `0-9 A-Z a-z . + _ -` (the bank may refuse an old one). */
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
  checkState(state);
  const i = expectRecord<Record<string, unknown>>(input, "the bind input");
  checkDevice(i["device"]);
  expectString(i["appVersion"], "the app version");
  if (i["password"] !== undefined) expectString(i["password"], "the password", "PIN_INVALID");
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

/**
 * b2 → the seed (derived, never received) and the token's parameters. Zero the seed once imported.
 *
 * @returns the next state, the seed, and what the token is
 * @throws `ACTIVATION_REFUSED` (a refusal), `ACTIVATION_TAMPERED` (a box that does not open),
 *   `ACTIVATION_OUT_OF_ORDER` (not after a2)
 */
export function activationClientReceive(
  state: ActivationClientState,
  replyText: string,
): { state: ActivationClientState; seed: Uint8Array; token: ActivatedToken } {
  checkState(state);
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
  checkState(state);
  expectString(otp, "the first OTP");
  checkDevice(device);
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
  checkState(state);
  if (state.phase !== "sent-a4" || !state.ke || !state.th)
    throw new CapkitError("ACTIVATION_OUT_OF_ORDER", "b4 answers a4");
  const p = openReply(state, state.ke, state.th, replyText, "b4");
  if (p["result"] !== "active") throw tampered("b4");
  const { ke: _ke, th: _th, clientNonce: _n, ...rest } = state;
  return { ...rest, phase: "active" };
}

const PHASES: readonly ActivationClientPhase[] = ["sent-a1", "sent-a2", "bound", "sent-a4", "active"];

/** A state that a step returned: plain JavaScript may hand anything. */
function checkState(state: unknown): void {
  const s = expectRecord<Record<string, unknown>>(state, "the activation state", "an object a step returned");
  if (!PHASES.includes(s["phase"] as ActivationClientPhase))
    throw argumentError("INPUT_INVALID", "the activation state", "an object a step returned", state);
}

function checkStartInput(input: unknown): void {
  const i = expectRecord<Record<string, unknown>>(input, "the activation input");
  for (const k of ["activationId", "regId", "serverIdentity"]) expectString(i[k], k);
  const codes = expectRecord<Record<string, unknown>>(
    i["codes"],
    "the codes",
    "an object of the codes the customer typed, by feature",
  );
  for (const [f, c] of Object.entries(codes)) if (c !== undefined) expectString(c, `the ${f} code`);
}

function checkDevice(device: unknown): void {
  const d = expectRecord<Record<string, unknown>>(device, "the device key", "a DeviceKey (publicKey, sign)");
  expectBytes(d["publicKey"], "the device public key");
  if (typeof d["sign"] !== "function")
    throw argumentError(
      "INPUT_INVALID",
      "the device key's sign",
      "a function (bytes → signature)",
      d["sign"],
    );
}
