// The core: verifier, kinds, key provider, memory store. SQLite and PostgreSQL stores: @capkit/verify/sqlite,
// @capkit/verify/postgres (their drivers are optional peer dependencies).
export * from "./clock.js";
export * from "./key-provider.js";
export type * from "./kinds/index.js";
export type { Attempt, Match } from "./kinds/kind.js";
export * from "./model.js";
export * from "./policy.js";
export * from "./stores/memory.js";
export * from "./throttle.js";
export * from "./verifier.js";
