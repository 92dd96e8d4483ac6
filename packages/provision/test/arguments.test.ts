import type { CapkitErrorCode } from "@capkit/core";
import { HmacKey, totp } from "@capkit/oath";
import {
  type ArgumentCase,
  bytes,
  call,
  checkArguments,
  integer,
  isString,
  matching,
  never,
  oneOf,
  optional,
} from "@capkit/test-support/arguments";
import { describe } from "vitest";
import {
  activationClientActivate,
  activationClientBind,
  activationClientFinish,
  activationClientReceive,
  activationClientStart,
  activationPolicy,
  activationServerStep,
  activationW,
  approvalMessage,
  capSignInputs,
  createOperation,
  describeOperation,
  displayTextProblem,
  formatIban,
  formatMoney,
  formatUtcSeconds,
  generateSigningKey,
  loginMessage,
  normalizeDisplayText,
  ocraQuestion,
  operationDigest,
  operationOpen,
  operationReference,
  parseActivationMessage,
  parseOperation,
  parseReceipt,
  parseUtcSeconds,
  payeeDigits,
  type Receipt,
  randomDigits,
  receiptDigest,
  signatureDigest,
  signOperation,
  signReceipt,
  softwareSigner,
  spake2Confirm,
  spake2Finish,
  spake2Start,
  startActivation,
  verifyDeviceSignature,
  verifyReceipt,
  verifyReceiptChain,
  verifySignedOperation,
} from "../src/index.js";
import { Bank, NOW, PASSWORD, softwareDevice } from "./harness.js";

/**
 * @capkit/provision's public functions as plain JavaScript calls them (issue 21): a wrong type or unit in any
 * argument or field — a string where bytes go, a time in milliseconds, an object that is not what a step
 * returned — is a typed CapkitError naming it, never a result and never a TypeError from deep inside.
 */
const INPUT: readonly CapkitErrorCode[] = ["INPUT_INVALID"];
const PAKE: readonly CapkitErrorCode[] = ["PAKE_INPUT_INVALID"];
const POLICY: readonly CapkitErrorCode[] = ["ACTIVATION_POLICY_INVALID"];
const MESSAGE: readonly CapkitErrorCode[] = ["ACTIVATION_MESSAGE_INVALID"];
const OPERATION: readonly CapkitErrorCode[] = ["OPERATION_INVALID"];
const RECEIPT: readonly CapkitErrorCode[] = ["RECEIPT_INVALID"];
/** P-256's group order: SPAKE2's scalars and w are in [1, p−1]. */
const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const scalar = (x: unknown) => typeof x === "bigint" && x > 0n && x < ORDER;
const isFunction = (x: unknown) => typeof x === "function";
/** A language tag Intl reads. */
const locale = (x: unknown) => {
  try {
    return typeof x === "string" && Intl.getCanonicalLocales(x).length === 1;
  } catch {
    return false;
  }
};
/** Unix seconds, as the protocol's clocks are: `Date.now()` (milliseconds) is refused. */
const unixSeconds = integer(0, 253_402_300_799);
const messageNames =
  /^(a message is |unknown version|expected a message|a \w+ message has exactly|activationId |idempotencyKey |share |confirmation |box |retry )/;

// One activation run, step by step: every state and reply a client step takes.
const bank = new Bank();
const device = softwareDevice();
const start = () =>
  activationClientStart({
    activationId: bank.state.activationId,
    regId: bank.state.regId,
    serverIdentity: "sogesmart.example",
    codes: { sms: bank.codes["sms"]! },
  });
const s1 = start();
const started = bank.state;
const b1 = await bank.handle(s1.request);
const s2 = await activationClientBind(s1, b1.reply, { device, appVersion: "5.2.0", password: PASSWORD });
const b2 = await bank.handle(s2.request);
const received = activationClientReceive(s2, b2.reply);
const firstOtp = totp(new HmacKey(received.seed, "SHA1"), NOW, 6, { step: 30 });
const s3 = await activationClientActivate(received.state, firstOtp, device);
const b4 = await bank.handle(s3.request);

const SPAKE_W = activationW("0".repeat(32), { sms: "12345678" });
const spakeA = spake2Start("A", SPAKE_W);
const spakeB = spake2Start("B", SPAKE_W);
const CONTEXT = { idA: new Uint8Array([65]), idB: new Uint8Array([66]) };
const spakeKeys = spake2Finish(spakeA, SPAKE_W, spakeB.share, CONTEXT);

const IBAN = "FR1420041010050500013M02606";
const ACCOUNT = "FR7630006000011234567890189";
const fields = () => ({
  type: "transfer",
  payee: { iban: IBAN, name: "Alice Martin" },
  amount: { minor: 12_550, currency: "EUR" },
});
const DOC = createOperation(fields() as never, { id: "op-1", account: ACCOUNT, now: NOW });
const signer = softwareSigner(generateSigningKey(), "bank-2026");
const KEYS = { "bank-2026": signer.publicKey };
const SIGNED_DOC = await signOperation(DOC, signer);
const RECEIPT_DOC: Receipt = {
  v: "capkit-receipt/1",
  operationDigest: "ab".repeat(32),
  user: "alice",
  credential: "SOFT0001-1",
  method: "device",
  evidence: { signatureDigest: "cd".repeat(32) },
  result: "approved",
  time: "2026-12-05T09:00:00Z",
  previous: null,
};
const SIGNED_RECEIPT = await signReceipt(RECEIPT_DOC, signer);

/** A document argument: anything but a valid operation is OPERATION_INVALID, named by its first field. */
const docAt = (arg: number) => ({ arg, names: /^type: /, codes: OPERATION, valid: never, inner: OPERATION });
/** A client state argument: anything but what a step returned. */
const stateAt = (arg: number) => ({
  arg,
  names: /^the activation state /,
  codes: INPUT,
  valid: never,
  inner: [...INPUT, "ACTIVATION_OUT_OF_ORDER"] as CapkitErrorCode[],
});
const replyAt = (arg: number) => ({ arg, names: messageNames, codes: MESSAGE, valid: never });
const deviceAt = (arg: number, field?: string) => ({
  arg,
  ...(field ? { field } : {}),
  names: /^the device key/,
  codes: INPUT,
  valid: never,
  inner: INPUT,
});

const CASES: ArgumentCase[] = [
  {
    name: "spake2Start(role, w, scalar)",
    args: () => ["A", SPAKE_W, undefined],
    call: call(spake2Start),
    positions: [
      { arg: 0, names: /^the role /, codes: PAKE, valid: oneOf("A", "B") },
      { arg: 1, names: /^w /, codes: PAKE, valid: scalar },
      { arg: 2, names: /^the ephemeral scalar /, codes: PAKE, valid: optional(scalar) },
    ],
  },
  {
    name: "spake2Finish(start, w, peerShare, context)",
    args: () => [spakeA, SPAKE_W, spakeB.share, CONTEXT],
    call: call(spake2Finish),
    positions: [
      { arg: 0, names: /^the start/, codes: PAKE, valid: never, inner: PAKE },
      { arg: 1, names: /^w /, codes: PAKE, valid: scalar },
      { arg: 2, names: /SPAKE2 share/, codes: PAKE, valid: never },
      { arg: 3, names: /^the context /, codes: PAKE, valid: never, inner: PAKE },
      { arg: 3, field: "idA", names: /^idA /, codes: PAKE, valid: bytes(0) },
      { arg: 3, field: "idB", names: /^idB /, codes: PAKE, valid: bytes(0) },
      { arg: 3, field: "aad", names: /^aad /, codes: PAKE, valid: optional(bytes(0)) },
    ],
  },
  {
    name: "spake2Confirm(keys, role, peerConfirmation)",
    args: () => [spakeKeys, "B", spakeKeys.confirmA],
    call: call(spake2Confirm),
    positions: [
      { arg: 0, names: /^the keys/, codes: PAKE, valid: never, inner: PAKE },
      { arg: 1, names: /^the role /, codes: PAKE, valid: oneOf("A", "B") },
      { arg: 2, names: /^the peer's confirmation /, codes: PAKE, valid: bytes(0) },
    ],
  },
  {
    name: "activationW(regId, codes)",
    args: () => ["0".repeat(32), { sms: "12345678" }],
    call: call(activationW),
    positions: [
      { arg: 0, names: /^the registration id /, codes: INPUT, valid: isString },
      { arg: 1, names: /^the codes /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 1, field: "sms", names: /^the (sms code|codes) /, codes: INPUT, valid: isString },
    ],
  },
  {
    name: "activationPolicy(input)",
    args: () => [{ features: ["sms", "password"] }],
    call: call(activationPolicy),
    positions: [
      { arg: 0, names: /^the activation policy /, codes: POLICY, valid: never, inner: POLICY },
      { arg: 0, field: "features", names: /^the features /, codes: POLICY, valid: never, inner: POLICY },
      {
        arg: 0,
        field: "channels",
        names: /^the (channels|channel of) /,
        codes: POLICY,
        valid: (x) => x === undefined || isEmptyRecord(x),
        inner: POLICY,
      },
      { arg: 0, field: "ttl", names: /^ttl /, codes: POLICY, valid: optional(integer(60, 3600)) },
      { arg: 0, field: "maxTries", names: /^maxTries /, codes: POLICY, valid: optional(integer(1, 10)) },
    ],
  },
  {
    name: "startActivation(input)",
    args: () => [
      {
        policy: activationPolicy({ features: ["sms", "password"] }),
        serverIdentity: "bank.example",
        serial: "SOFT0002",
        instance: 1,
        now: NOW,
        bankKeys: KEYS,
      },
    ],
    call: call(startActivation),
    positions: [
      { arg: 0, names: /^the activation input /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "policy", names: /^the policy /, codes: INPUT, valid: never, inner: INPUT },
      {
        arg: 0,
        field: "serial",
        names: /^(the serial |a serial is )/,
        codes: INPUT,
        valid: matching(/^[A-Za-z0-9_-]{1,32}$/),
      },
      { arg: 0, field: "instance", names: /^the instance /, codes: INPUT, valid: integer(1, 99) },
      {
        arg: 0,
        field: "serverIdentity",
        names: /^the server identity /,
        codes: INPUT,
        valid: (x) => typeof x === "string" && x.length >= 1 && x.length <= 255,
      },
      { arg: 0, field: "now", names: /^now \(Unix seconds\) /, codes: INPUT, valid: unixSeconds },
      {
        arg: 0,
        field: "otp",
        names: /^(the OTP parameters |OTP parameters: )/,
        codes: INPUT,
        valid: optional(never),
        inner: INPUT,
      },
      {
        arg: 0,
        field: "bankKeys",
        names: /^the bank key/,
        codes: INPUT,
        valid: (x) => x === undefined || (typeof x === "object" && x !== null && Object.keys(x).length === 0),
        inner: INPUT,
      },
    ],
  },
  {
    name: "activationServerStep(input)",
    args: () => [{ state: started, request: s1.request, now: NOW, checks: bank.checks() }],
    call: call(activationServerStep),
    positions: [
      { arg: 0, names: /^the step input /, codes: INPUT, valid: never, inner: [...INPUT, ...MESSAGE] },
      {
        arg: 0,
        field: "state",
        names: /^the activation state /,
        codes: INPUT,
        valid: never,
        inner: [...MESSAGE, "ACTIVATION_EXPIRED", "ACTIVATION_OUT_OF_ORDER"],
      },
      { arg: 0, field: "request", names: messageNames, codes: MESSAGE, valid: never },
      { arg: 0, field: "now", names: /^now \(Unix seconds\) /, codes: INPUT, valid: unixSeconds },
      {
        arg: 0,
        field: "checks",
        names: /^the (checks|password check|otp check) /,
        codes: INPUT,
        valid: (x) => x === undefined || isEmptyRecord(x),
        inner: INPUT,
      },
    ],
  },
  {
    name: "activationClientStart(input)",
    args: () => [
      { activationId: started.activationId, regId: started.regId, serverIdentity: "b", codes: { sms: "1" } },
    ],
    call: call(activationClientStart),
    positions: [
      { arg: 0, names: /^the activation input /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "activationId", names: /^activationId /, codes: INPUT, valid: isString },
      { arg: 0, field: "regId", names: /^regId /, codes: INPUT, valid: isString },
      { arg: 0, field: "serverIdentity", names: /^serverIdentity /, codes: INPUT, valid: isString },
      { arg: 0, field: "codes", names: /^the (codes|\S+ code) /, codes: INPUT, valid: never, inner: INPUT },
    ],
  },
  {
    name: "activationClientBind(state, reply, input)",
    args: () => [s1, b1.reply, { device, appVersion: "5.2.0", password: PASSWORD }],
    call: call(activationClientBind),
    positions: [
      stateAt(0),
      replyAt(1),
      { arg: 2, names: /^the bind input /, codes: INPUT, valid: never, inner: INPUT },
      deviceAt(2, "device"),
      { arg: 2, field: "appVersion", names: /^the app version /, codes: INPUT, valid: isString },
      {
        arg: 2,
        field: "password",
        names: /^the password /,
        codes: ["PIN_INVALID"],
        valid: optional(isString),
      },
    ],
  },
  {
    name: "activationClientReceive(state, reply)",
    args: () => [s2, b2.reply],
    call: call(activationClientReceive),
    positions: [stateAt(0), replyAt(1)],
  },
  {
    name: "activationClientActivate(state, otp, device)",
    args: () => [received.state, firstOtp, device],
    call: call(activationClientActivate),
    positions: [
      stateAt(0),
      { arg: 1, names: /^the first OTP /, codes: INPUT, valid: isString },
      deviceAt(2),
      { arg: 2, field: "publicKey", names: /^the device public key /, codes: INPUT, valid: bytes(0) },
      { arg: 2, field: "sign", names: /^the device key's sign /, codes: INPUT, valid: isFunction },
    ],
  },
  {
    name: "activationClientFinish(state, reply)",
    args: () => [s3, b4.reply],
    call: call(activationClientFinish),
    positions: [stateAt(0), replyAt(1)],
  },
  {
    name: "parseActivationMessage(text, expected)",
    args: () => [s1.request, ["a1"]],
    call: call(parseActivationMessage),
    positions: [
      replyAt(0),
      {
        arg: 1,
        names: /^the expected types /,
        codes: INPUT,
        valid: (x) => Array.isArray(x) && x.length === 0,
      },
    ],
  },
  {
    name: "verifyDeviceSignature(publicKey, message, signature)",
    args: () => [device.publicKey, new Uint8Array(3), new Uint8Array(64)],
    call: call(verifyDeviceSignature),
    positions: [
      { arg: 0, names: /^the device public key /, codes: INPUT, valid: bytes(0) },
      { arg: 1, names: /^the message /, codes: INPUT, valid: bytes(0) },
      { arg: 2, names: /^the signature /, codes: INPUT, valid: bytes(0) },
    ],
  },
  {
    name: "approvalMessage(operationDigest, decision)",
    args: () => [operationDigest(DOC), "accept"],
    call: call(approvalMessage),
    positions: [
      { arg: 0, names: /^the operation digest /, codes: INPUT, valid: bytes(0) },
      { arg: 1, names: /^the decision /, codes: INPUT, valid: oneOf("accept", "decline") },
    ],
  },
  {
    name: "loginMessage(proof)",
    args: () => [{ serial: "SOFT0001", instance: 1, challenge: "c", otp: "123456" }],
    call: call(loginMessage),
    positions: [
      { arg: 0, names: /^the login proof /, codes: INPUT, valid: never, inner: INPUT },
      { arg: 0, field: "serial", names: /^the serial /, codes: INPUT, valid: isString },
      {
        arg: 0,
        field: "instance",
        names: /^the instance /,
        codes: INPUT,
        valid: integer(0, Number.MAX_SAFE_INTEGER),
      },
      { arg: 0, field: "challenge", names: /^the challenge /, codes: INPUT, valid: isString },
      { arg: 0, field: "otp", names: /^the OTP /, codes: INPUT, valid: isString },
    ],
  },
  {
    name: "createOperation(fields, options)",
    args: () => [fields(), { id: "op-2", account: ACCOUNT, now: NOW }],
    call: call(createOperation),
    positions: [
      {
        arg: 0,
        names: /^(the operation's fields |type: )/,
        codes: OPERATION,
        valid: never,
        inner: OPERATION,
      },
      {
        arg: 0,
        field: "payee",
        names: /^(operation\.)?payee/,
        codes: OPERATION,
        valid: never,
        inner: OPERATION,
      },
      {
        arg: 0,
        field: "amount",
        names: /^(operation\.)?amount/,
        codes: OPERATION,
        valid: never,
        inner: OPERATION,
      },
      { arg: 1, names: /^the options /, codes: INPUT, valid: never, inner: [...INPUT, ...OPERATION] },
      { arg: 1, field: "id", names: /^id: /, codes: OPERATION, valid: matching(/^[A-Za-z0-9_-]{1,64}$/) },
      { arg: 1, field: "account", names: /^account: /, codes: OPERATION, valid: never },
      { arg: 1, field: "now", names: /^now \(Unix seconds\) /, codes: INPUT, valid: unixSeconds },
      { arg: 1, field: "ttl", names: /^ttl \(seconds\) /, codes: INPUT, valid: optional(integer(1, 86_400)) },
    ],
  },
  {
    name: "parseOperation(input)",
    args: () => [DOC],
    call: call(parseOperation),
    positions: [docAt(0)],
  },
  { name: "operationDigest(doc)", args: () => [DOC], call: call(operationDigest), positions: [docAt(0)] },
  {
    name: "operationOpen(doc, now)",
    args: () => [DOC, NOW],
    call: call(operationOpen),
    positions: [docAt(0), { arg: 1, names: /^now \(Unix seconds\) /, codes: INPUT, valid: unixSeconds }],
  },
  {
    name: "operationReference(doc)",
    args: () => [DOC],
    call: call(operationReference),
    positions: [docAt(0)],
  },
  { name: "ocraQuestion(doc)", args: () => [DOC], call: call(ocraQuestion), positions: [docAt(0)] },
  { name: "capSignInputs(doc)", args: () => [DOC], call: call(capSignInputs), positions: [docAt(0)] },
  {
    name: "describeOperation(doc, locale)",
    args: () => [DOC, "fr-FR"],
    call: call(describeOperation),
    positions: [
      docAt(0),
      {
        arg: 1,
        names: /^the locale /,
        codes: INPUT,
        valid: optional(locale),
      },
    ],
  },
  {
    name: "displayTextProblem(text, maxChars)",
    args: () => ["Dupont SARL", 70],
    call: call(displayTextProblem),
    positions: [
      { arg: 0, names: /^the text /, codes: INPUT, valid: isString },
      { arg: 1, names: /^maxChars \(code points\) /, codes: INPUT, valid: optional(integer(1, 10_000)) },
    ],
  },
  {
    name: "normalizeDisplayText(text)",
    args: () => ["Cafe\u0301"],
    call: call(normalizeDisplayText),
    positions: [{ arg: 0, names: /^the text /, codes: INPUT, valid: isString }],
  },
  {
    name: "formatIban(iban)",
    args: () => [IBAN],
    call: call(formatIban),
    positions: [{ arg: 0, names: /^the IBAN /, codes: INPUT, valid: isString }],
  },
  {
    name: "formatMoney(money, locale)",
    args: () => [{ minor: 12_550, currency: "EUR" }, "fr-FR"],
    call: call(formatMoney),
    positions: [
      { arg: 0, names: /^the amount/, codes: INPUT, valid: never, inner: INPUT },
      {
        arg: 0,
        field: "minor",
        names: /^the amount's minor units /,
        codes: INPUT,
        valid: integer(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      },
      {
        arg: 0,
        field: "currency",
        names: /^the amount's currency /,
        codes: INPUT,
        valid: matching(/^[A-Z]{3}$/),
      },
      {
        arg: 1,
        names: /^the locale /,
        codes: INPUT,
        valid: optional(locale),
      },
    ],
  },
  {
    name: "signOperation(doc, signer)",
    args: () => [DOC, signer],
    call: call(signOperation),
    positions: [docAt(0), { arg: 1, names: /^the signer /, codes: INPUT, valid: never }],
  },
  {
    name: "verifySignedOperation(signed, keys)",
    args: () => [SIGNED_DOC, KEYS],
    call: call(verifySignedOperation),
    positions: [
      {
        arg: 0,
        names: /^(not a signed operation|a signed operation has exactly|type: )/,
        codes: ["OPERATION_SIGNATURE_INVALID", ...OPERATION],
        valid: never,
        inner: ["OPERATION_SIGNATURE_INVALID", ...OPERATION],
      },
      {
        arg: 1,
        names: /^the key/,
        codes: INPUT,
        valid: never,
        inner: [...INPUT, "OPERATION_SIGNATURE_INVALID"],
      },
    ],
  },
  {
    name: "softwareSigner(secretKey, keyId)",
    args: () => [generateSigningKey(), "k1"],
    call: call(softwareSigner),
    positions: [
      { arg: 0, names: /^an Ed25519 secret key is 32 bytes/, codes: ["KEY_INVALID"], valid: bytes(32, 32) },
      { arg: 1, names: /^a key id is /, codes: INPUT, valid: matching(/^[A-Za-z0-9._:-]{1,64}$/) },
    ],
  },
  {
    name: "parseReceipt(value)",
    args: () => [RECEIPT_DOC],
    call: call(parseReceipt),
    positions: [{ arg: 0, names: /^receipt: /, codes: RECEIPT, valid: never, inner: RECEIPT }],
  },
  {
    name: "receiptDigest(receipt)",
    args: () => [RECEIPT_DOC],
    call: call(receiptDigest),
    positions: [{ arg: 0, names: /^receipt: /, codes: RECEIPT, valid: never, inner: RECEIPT }],
  },
  {
    name: "signReceipt(receipt, signer)",
    args: () => [RECEIPT_DOC, signer],
    call: call(signReceipt),
    positions: [
      { arg: 0, names: /^receipt: /, codes: RECEIPT, valid: never, inner: RECEIPT },
      { arg: 1, names: /^the signer /, codes: INPUT, valid: never },
    ],
  },
  {
    name: "verifyReceipt(signed, keys)",
    args: () => [SIGNED_RECEIPT, KEYS],
    call: call(verifyReceipt),
    positions: [{ arg: 1, names: /^the key/, codes: INPUT, valid: (x) => isEmptyRecord(x), inner: INPUT }],
  },
  {
    name: "verifyReceiptChain(chain, keys, anchor)",
    args: () => [[SIGNED_RECEIPT], KEYS, null],
    call: call(verifyReceiptChain),
    positions: [
      { arg: 0, names: /^the chain /, codes: INPUT, valid: Array.isArray },
      { arg: 1, names: /^the key/, codes: INPUT, valid: (x) => isEmptyRecord(x), inner: INPUT },
      {
        arg: 2,
        names: /^the anchor /,
        codes: INPUT,
        valid: (x) => x === undefined || x === null || isString(x),
      },
    ],
  },
  {
    name: "parseUtcSeconds(value, field)",
    args: () => ["2026-12-05T09:30:00Z", "createdAt"],
    call: call(parseUtcSeconds),
    positions: [
      { arg: 0, names: /^createdAt: /, codes: OPERATION, valid: never },
      { arg: 1, names: /^the field's name /, codes: INPUT, valid: isString },
    ],
  },
  {
    name: "formatUtcSeconds(seconds)",
    args: () => [NOW],
    call: call(formatUtcSeconds),
    positions: [
      {
        arg: 0,
        names: /^the time /,
        codes: INPUT,
        valid: (x) => typeof x === "number" && x >= 0 && x <= 253_402_300_799,
      },
    ],
  },
  {
    name: "payeeDigits(iban)",
    args: () => [IBAN],
    call: call(payeeDigits),
    positions: [{ arg: 0, names: /^the IBAN /, codes: INPUT, valid: isString }],
  },
  {
    name: "signatureDigest(signature)",
    args: () => [new Uint8Array(64)],
    call: call(signatureDigest),
    positions: [{ arg: 0, names: /^the signature /, codes: INPUT, valid: bytes(0) }],
  },
  {
    name: "randomDigits(digits)",
    args: () => [8],
    call: call(randomDigits),
    positions: [{ arg: 0, names: /^digits /, codes: INPUT, valid: integer(1, 64) }],
  },
];

/** `{}` (no key) is a valid key set: receipts then verify as unknown-key. */
function isEmptyRecord(x: unknown): boolean {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Object.keys(x).length === 0;
}

describe("the provision API refuses what plain JavaScript passes wrong, with a typed and true error", () => {
  checkArguments(CASES);
});
