// Node only: everything in the browser-safe entry point, plus the card state files (node:fs) and the vpcd
// bridge (node:net).
export * from "./index.js";
export * from "./state-file.js";
export * from "./vpcd-bridge.js";
