export * from "./choose-reader.js";
export * from "./connection.js";
export * from "./context.js";
export * from "./diagnose/index.js";
export * from "./errors.js";
export * from "./hid.js";
export * from "./pinpad.js";
export * from "./reader-handle.js";
