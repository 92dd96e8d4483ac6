/** PSKC (RFC 6030) namespaces and algorithm identifiers we read and write. */
export const NS = {
  pskc: "urn:ietf:params:xml:ns:keyprov:pskc",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  xenc: "http://www.w3.org/2001/04/xmlenc#",
  xenc11: "http://www.w3.org/2009/xmlenc11#",
  pkcs5: "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#",
} as const;

/** PBKDF2's algorithm URI in `<xenc11:KeyDerivationMethod>` (RFC 6030 §6.2). */
export const PBKDF2_URI = `${NS.pkcs5}pbkdf2`;

/** AES-CBC key lengths by xmlenc algorithm URI (RFC 6030 §6.1; the mandatory one is aes128-cbc). */
export const CBC_ALGORITHMS: Readonly<Record<string, number>> = {
  [`${NS.xenc}aes128-cbc`]: 16,
  [`${NS.xenc}aes192-cbc`]: 24,
  [`${NS.xenc}aes256-cbc`]: 32,
};

/** The MAC methods read (RFC 6030 §6.1.1: HMAC-SHA1 mandatory), by URI. */
export const MAC_ALGORITHMS = {
  [`${NS.ds}hmac-sha1`]: "SHA1",
  "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": "SHA256",
} as const satisfies Record<string, "SHA1" | "SHA256">;

/** A PSKC key's kind, from its `Algorithm` URI (see {@link keyTypeOf}). */
export type PskcKeyType = "hotp" | "totp" | "ocra" | "other";

/** The `Algorithm` URI capkit writes for each kind (the IANA PSKC algorithm registry's). */
export const ALGORITHM_URIS: Record<Exclude<PskcKeyType, "other">, string> = {
  hotp: "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
  totp: "urn:ietf:params:xml:ns:keyprov:pskc:totp",
  ocra: "urn:ietf:params:xml:ns:keyprov:pskc:ocra",
};

/** The kind an `Algorithm` URI names (`…:hotp`, `…#totp`, an OCRA URI); anything else is `"other"`. */
export function keyTypeOf(algorithmUri: string): PskcKeyType {
  if (/[:#]hotp$/i.test(algorithmUri)) return "hotp";
  if (/[:#]totp$/i.test(algorithmUri)) return "totp";
  if (/ocra/i.test(algorithmUri)) return "ocra";
  return "other";
}

/** One key of a PSKC document, secrets decrypted. */
export interface PskcKey {
  readonly id: string;
  readonly algorithm: string;
  readonly type: PskcKeyType;
  readonly secret?: Uint8Array;
  readonly issuer?: string;
  readonly friendlyName?: string;
  readonly userId?: string;
  readonly manufacturer?: string;
  readonly serialNo?: string;
  readonly model?: string;
  readonly counter?: number;
  /** Time (Unix seconds) the token's clock was set, or T0. */
  readonly time?: number;
  readonly timeInterval?: number;
  readonly timeDrift?: number;
  /** `<ResponseFormat Length>`: the code's digits. */
  readonly responseLength?: number;
  /** `<ResponseFormat Encoding>`: `DECIMAL` for HOTP and TOTP. */
  readonly responseEncoding?: string;
  /**
   * `<AlgorithmParameters><Suite>` (RFC 6030 §4.3.4): for an OCRA key its OCRA suite, for an HOTP or TOTP key
   * its HMAC hash (`SHA1`, `SHA256`, `SHA512`; absent means SHA-1). privacyIDEA's `<suite hashalgo="…">` is
   * read into it. `tokenFromPskcKey` gives it its meaning.
   */
  readonly suite?: string;
}
