/**
 * Soft-token provisioning and approvals, pure (no I/O, no Node built-in: browsers and servers run it alike):
 * SPAKE2 (RFC 9382), the `capkit-activation/1` protocol with a seed derived on both sides, operation documents
 * with what each device binds of them (PSD2 dynamic linking), and signed receipt chains. The bank's storage
 * of activations is `@capkit/verify/provisioning`'s; the device is `@capkit/token-sim/soft-digipass`.
 *
 * @packageDocumentation
 */

// capkit-activation/1, the device's side: a pure state machine the app drives.
export {
  type ActivatedToken,
  type ActivationClientPhase,
  type ActivationClientState,
  activationClientActivate,
  activationClientBind,
  activationClientFinish,
  activationClientReceive,
  activationClientStart,
  type BindInput,
  type ClientStartInput,
} from "./activation/client.js";
// The PAKE secret and the OTP parameters the activation hands the token.
export { activationW, type OtpParameters } from "./activation/key-schedule.js";
// The wire messages: one parser for both ends.
export {
  type A1,
  type A2,
  type A4,
  ACTIVATION_VERSION,
  type ActivationMessage,
  type ActivationMessageHeader,
  type ActivationMessageType,
  type B1,
  type B2,
  type B4,
  ID_PATTERN,
  MAX_MESSAGE_CHARS,
  type MessageOf,
  parseActivationMessage,
  type Refused,
} from "./activation/messages.js";
// Which features an activation asks for, through which channels (PSD2 RTS Art. 25).
export {
  type ActivationFeature,
  type ActivationPolicy,
  type ActivationPolicyInput,
  activationPolicy,
} from "./activation/policy.js";
// capkit-activation/1, the bank's side: start an activation, then one stored state and one message per step.
export {
  type ActivationChecks,
  type ActivationCredential,
  type ActivationOutcome,
  type ActivationPhase,
  type ActivationSecrets,
  type ActivationServerState,
  activationServerStep,
  randomDigits,
  type ServerStepInput,
  type ServerStepResult,
  type StartActivationInput,
  type StartedActivation,
  startActivation,
} from "./activation/server.js";
// RFC 8785 canonical JSON (JCS), which operations and receipts are digested in.
export { canonicalBytes, canonicalDigest, canonicalJson, type JsonValue } from "./canonical-json.js";
// The device key's proofs: logins and approvals signed by the key bound at activation.
export {
  type ApprovalDecision,
  approvalMessage,
  DEVICE_PUBLIC_KEY_BYTES,
  type DeviceKey,
  type LoginProof,
  loginMessage,
  validDevicePublicKey,
  verifyDeviceSignature,
} from "./device-proof.js";
// Display-safe text: the one rule for the free text a screen shows of an operation (payees' names).
export {
  type DisplayTextProblem,
  displayTextProblem,
  MAX_NAME_CHARS,
  normalizeDisplayText,
  type RefusedClass,
} from "./display-text.js";
// What each device binds of an operation (dynamic linking): a keypad token's OCRA question, a reader's CAP Sign.
export {
  CAP_CURRENCIES,
  type CapSignInputs,
  capSignInputs,
  OCRA_SIGNATURE_SUITE,
  type OcraQuestion,
  ocraQuestion,
  operationReference,
  PAYEE_DIGITS,
  payeeDigits,
} from "./dynamic-linking.js";
// Operation documents (capkit-operation/1): what the customer approves, canonical and digested.
// Times as the documents write them (RFC 3339 UTC, whole seconds).
export {
  type BatchLine,
  type BatchTransferOperation,
  type BeneficiaryAddOperation,
  type CreateOperationOptions,
  createOperation,
  formatUtcSeconds,
  type LinkActivationOperation,
  type LinkGrant,
  MAX_BATCH_LINES,
  MAX_OPERATION_LIFETIME_S,
  type Money,
  OPERATION_TYPES,
  OPERATION_VERSION,
  type OperationBase,
  type OperationDocument,
  type OperationFields,
  type OperationType,
  operationDigest,
  operationOpen,
  type Payee,
  parseOperation,
  parseUtcSeconds,
  type TransferOperation,
} from "./operation.js";
// What a screen shows of an operation (amounts and IBANs formatted).
export { describeOperation, formatIban, formatMoney, type OperationView } from "./operation-display.js";
// Receipts (capkit-receipt/1): signed, chained per user, verifiable offline.
export {
  type ApprovalMethod,
  type ApprovalResult,
  parseReceipt,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptEvidence,
  type ReceiptFailure,
  type ReceiptKeys,
  type ReceiptVerdict,
  receiptDigest,
  type SignedReceipt,
  signatureDigest,
  signReceipt,
  verifyReceipt,
  verifyReceiptChain,
} from "./receipt.js";
// Operations signed by the bank's Ed25519 key, and the signer behind them.
export { type SignedOperation, signOperation, verifySignedOperation } from "./signed-operation.js";
export { type Ed25519Signer, generateSigningKey, softwareSigner } from "./signer.js";
// SPAKE2 (RFC 9382, P-256, SHA-256, HKDF, HMAC): both roles, with key confirmation.
export {
  SPAKE2_CONFIRMATION_BYTES,
  SPAKE2_SHARE_BYTES,
  type Spake2Context,
  type Spake2Keys,
  type Spake2Role,
  type Spake2Start,
  spake2Confirm,
  spake2Finish,
  spake2Start,
} from "./spake2.js";
