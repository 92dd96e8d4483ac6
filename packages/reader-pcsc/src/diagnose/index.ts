export * from "./atr.js";
export * from "./check.js";
export * from "./diagnose.js";
export * from "./redact.js";
export * from "./report.js";
export * from "./smartcard-list.js";
export * from "./system.js";
