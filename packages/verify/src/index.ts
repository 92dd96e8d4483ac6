export * from "./key-provider.js";
export type * from "./kinds/index.js";
export type { Attempt, Match } from "./kinds/kind.js";
export * from "./model.js";
export * from "./policy.js";
export * from "./stores/memory.js";
export * from "./stores/postgres.js";
export * from "./stores/sqlite.js";
export * from "./verifier.js";
