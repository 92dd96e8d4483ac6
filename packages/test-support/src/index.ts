export * from "./pcscd.js";
