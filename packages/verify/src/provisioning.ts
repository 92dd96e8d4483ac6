/**
 * The bank's side of the in-app token (SogeSmart's « token virtuel Digipass »): activations over
 * `capkit-activation/1` (SPAKE2, RFC 9382, with a code sent out of band), the TOTP token enrolled `pending` in
 * the verifier and made active by its first code, logins signed by the device key the activation bound, and
 * support's status and reset. Apart from `@capkit/verify` so that a verifier alone does not load the P-256
 * curve. Its stores live beside the verifier's, on that store's connection: the memory one here, the SQLite
 * and PostgreSQL ones (and the SQLite dev outbox) in `@capkit/verify/sqlite` and `@capkit/verify/postgres`.
 * The states, what is sealed and the races: [docs/architecture.md §11](https://github.com/capkit/capkit/blob/main/docs/architecture.md#11-the-in-app-token-on-the-banks-side-verifyprovisioning).
 *
 * @packageDocumentation
 */

export { parseAppVersion } from "./provisioning/app-version.js";
// The words of the activation's audit rows (action "activation").
export type { ActivationStep } from "./provisioning/audit.js";
// FOR DEVELOPMENT ONLY: senders that deliver nowhere and keep every message (SqliteDevOutbox: ./sqlite).
export {
  type DevOutbox,
  MemoryDevOutbox,
  type OutboxEntry,
  type OutboxQuery,
} from "./provisioning/dev-outbox.js";
// Logins from the app: a code and the device's signature over a single-use challenge.
export type { DeviceLogin, DeviceLoginResult } from "./provisioning/device-login.js";
// The store interface the memory, SQLite and PostgreSQL provisioning stores implement, and its records.
export type {
  ActivationChange,
  ActivationRecord,
  EndReason,
  InstanceRecord,
  InstanceStatus,
  LoginChallenge,
  ProvisioningStore,
  ProvisioningUserRecord,
  PublicActivationState,
  ResetInput,
  ResetResult,
  StartInput,
  StartResult,
} from "./provisioning/model.js";
// How activation codes leave the bank: the senders a bank wraps its SMS gateway or mail house in.
export type { Contact, LetterSender, OutOfBandMessage, SmsSender } from "./provisioning/out-of-band.js";
// The bank's policy (features, rates, devices, app version floor, grace), checked once; app versions.
export {
  type ProvisioningPolicy,
  type ProvisioningPolicyInput,
  provisioningPolicy,
} from "./provisioning/policy.js";
// The Provisioner: start an activation, step the protocol, issue login challenges and verify devices, and what
// support sees. What it answers the app and the bank.
export {
  type ActivationOffer,
  type ActivationView,
  type Delivery,
  type InstanceView,
  Provisioner,
  type ProvisionerOptions,
  type ProvisioningStatus,
  type StartAnswer,
  type StartRequest,
  type StepAnswer,
} from "./provisioning/provisioner.js";
export type { RateRule } from "./provisioning/rules.js";
// The credential id of an in-app token's instance, `SERIAL.N`.
export { credentialIdOf } from "./provisioning/rules.js";
export { MemoryProvisioningStore } from "./stores/provisioning-memory.js";
