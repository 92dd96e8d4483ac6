// The pure provisioning core: no I/O, no Node built-in, so it runs in browsers and on servers alike.
export * from "./activation/client.js";
export * from "./activation/key-schedule.js";
export * from "./activation/messages.js";
export * from "./activation/policy.js";
export * from "./activation/server.js";
export * from "./canonical-json.js";
export * from "./device-proof.js";
export * from "./dynamic-linking.js";
export * from "./operation.js";
export * from "./operation-display.js";
export * from "./receipt.js";
export * from "./signed-operation.js";
export * from "./signer.js";
export * from "./spake2.js";
