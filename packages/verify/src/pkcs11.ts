/**
 * A key provider whose keys stay in a PKCS#11 token (an HSM; tested against SoftHSM2): OATH secrets wrapped by
 * the token and used there for every HMAC, CAP issuer master keys held by reference and derived from there, card
 * numbers encrypted by the token, audit checkpoints and receipts signed by its Ed25519 keys. Its binding,
 * `pkcs11js`, is an optional peer dependency (like the database drivers): install it to use this entry.
 *
 * @packageDocumentation
 */

export { Pkcs11KeyProvider, type Pkcs11Options } from "./keys/pkcs11.js";
