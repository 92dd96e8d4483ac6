export * from "./pcscd.js";
export * from "./postgres.js";
export * from "./softhsm.js";
