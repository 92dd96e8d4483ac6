// The PKCS#11 key provider: its binding (pkcs11js) is an optional peer dependency, like the database drivers.
export * from "./keys/pkcs11.js";
