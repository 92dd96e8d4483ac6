export * from "./key-provider.js";
export * from "./model.js";
export * from "./policy.js";
export * from "./stores/memory.js";
export * from "./verifier.js";
