export * from "./pcscd.js";
export * from "./postgres.js";
