export * from "./base64.js";
export * from "./bytes.js";
export * from "./errors.js";
