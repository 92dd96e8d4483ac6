// @capkit/verify/provisioning: the in-app token's activation on the bank's side (docs/architecture.md §11),
// apart from the core so that a verifier alone does not load the P-256 curve. Its stores live beside the
// verifier's and use that store's connection: the memory one here, the SQLite and PostgreSQL ones (and the
// SQLite dev outbox) in @capkit/verify/sqlite and @capkit/verify/postgres.
export * from "./provisioning/app-version.js";
export type { ActivationStep } from "./provisioning/audit.js";
export * from "./provisioning/dev-outbox.js";
export type { DeviceLogin, DeviceLoginResult } from "./provisioning/device-login.js";
export type * from "./provisioning/model.js";
export * from "./provisioning/out-of-band.js";
export * from "./provisioning/policy.js";
export * from "./provisioning/provisioner.js";
export { credentialIdOf } from "./provisioning/rules.js";
export * from "./stores/provisioning-memory.js";
