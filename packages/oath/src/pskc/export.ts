import { CapkitError, toBase64 } from "@capkit/core";
import { expectBytes, expectInteger, expectOneOf, expectRecord, expectString, wrong } from "../arguments.js";
import { aesCbcEncrypt, derivePasswordKey, hmacOf, randomBytes } from "./crypto.js";
import { NS, PBKDF2_URI, type PskcKey } from "./model.js";
import { escapeXml } from "./xml.js";

/**
 * PSKC export (RFC 6030): plain, AES-128-CBC under a pre-shared key (§6.1), or under a PBKDF2-derived key
 * (§6.2). Encrypted documents carry a fresh random HMAC-SHA1 MAC key (itself encrypted) and a ValueMAC per
 * secret; IVs, MAC keys and salts come from the platform CSPRNG.
 */
export type PskcProtection =
  | { readonly kind: "none" }
  | { readonly kind: "pre-shared-key"; readonly key: Uint8Array; readonly keyName: string }
  | {
      readonly kind: "password";
      readonly password: string;
      readonly iterations?: number;
      readonly keyName?: string;
    };

const AES128 = `${NS.xenc}aes128-cbc`;

/**
 * Writes a PSKC document (RFC 6030) holding `keys`. Each key's `suite` is written as its `<Suite>`
 * (RFC 6030 §4.3.4): the OCRA suite of an OCRA key, the HMAC hash (`SHA256`…) of an HOTP or TOTP one —
 * without it a reader takes SHA-1. {@link pskcKeyOf} makes such a key from token parameters.
 *
 * A password document's PBKDF2 (100,000 iterations of HMAC-SHA-1 by default) runs on the calling thread.
 *
 * @throws `INPUT_INVALID` for a key or protection of the wrong shape (every field is checked before
 *   anything is written).
 *
 * @example
 * ```ts
 * const xml = exportPskc([pskcKeyOf(token, "1")], { kind: "pre-shared-key", key: psk, keyName: "transport" });
 * ```
 */
export function exportPskc(keys: readonly PskcKey[], protection: PskcProtection = { kind: "none" }): string {
  if (!Array.isArray(keys)) throw wrong("INPUT_INVALID", "the keys", "an array of PSKC keys", keys);
  keys.forEach(checkKey);
  checkProtection(protection);
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<pskc:KeyContainer Version="1.0" xmlns:pskc="${NS.pskc}" xmlns:ds="${NS.ds}" xmlns:xenc="${NS.xenc}" xmlns:xenc11="${NS.xenc11}" xmlns:pkcs5="${NS.pkcs5}">`,
  );
  let encKey: Uint8Array | undefined;
  let macKey: Uint8Array | undefined;
  if (protection.kind !== "none") {
    if (protection.kind === "pre-shared-key") {
      if (protection.key.length !== 16)
        throw new CapkitError("INPUT_INVALID", "the pre-shared key for aes128-cbc is 16 bytes");
      encKey = protection.key;
      lines.push(
        `  <pskc:EncryptionKey><ds:KeyName>${escapeXml(protection.keyName)}</ds:KeyName></pskc:EncryptionKey>`,
      );
    } else {
      const iterations = protection.iterations ?? 100_000;
      const salt = randomBytes(16);
      encKey = derivePasswordKey(protection.password, { salt, iterations, keyLength: 16, prf: "SHA1" });
      lines.push(
        "  <pskc:EncryptionKey><xenc11:DerivedKey>",
        `    <xenc11:KeyDerivationMethod Algorithm="${PBKDF2_URI}"><pkcs5:PBKDF2-params>`,
        `      <Salt><Specified>${toBase64(salt)}</Specified></Salt><IterationCount>${iterations}</IterationCount><KeyLength>16</KeyLength><PRF/>`,
        "    </pkcs5:PBKDF2-params></xenc11:KeyDerivationMethod>",
        protection.keyName
          ? `    <xenc11:MasterKeyName>${escapeXml(protection.keyName)}</xenc11:MasterKeyName>`
          : "",
        "  </xenc11:DerivedKey></pskc:EncryptionKey>",
      );
    }
    macKey = randomBytes(20);
    lines.push(
      `  <pskc:MACMethod Algorithm="${NS.ds}hmac-sha1"><pskc:MACKey>`,
      `    <xenc:EncryptionMethod Algorithm="${AES128}"/><xenc:CipherData><xenc:CipherValue>${toBase64(aesCbcEncrypt(encKey, randomBytes(16), macKey))}</xenc:CipherValue></xenc:CipherData>`,
      "  </pskc:MACKey></pskc:MACMethod>",
    );
  }
  for (const k of keys) lines.push(...keyPackage(k, encKey, macKey));
  lines.push("</pskc:KeyContainer>", "");
  return lines.filter((l) => l !== "").join("\n");
}

function el(name: string, text: string | number | undefined): string {
  return text === undefined ? "" : `<pskc:${name}>${escapeXml(String(text))}</pskc:${name}>`;
}

function keyPackage(k: PskcKey, encKey: Uint8Array | undefined, macKey: Uint8Array | undefined): string[] {
  const out = ["  <pskc:KeyPackage>"];
  const device = el("Manufacturer", k.manufacturer) + el("SerialNo", k.serialNo) + el("Model", k.model);
  if (device) out.push(`    <pskc:DeviceInfo>${device}</pskc:DeviceInfo>`);
  out.push(`    <pskc:Key Id="${escapeXml(k.id)}" Algorithm="${escapeXml(k.algorithm)}">`);
  if (k.issuer) out.push(`      ${el("Issuer", k.issuer)}`);
  if (k.friendlyName) out.push(`      ${el("FriendlyName", k.friendlyName)}`);
  const response =
    k.responseLength !== undefined
      ? `<pskc:ResponseFormat Length="${k.responseLength}" Encoding="${escapeXml(k.responseEncoding ?? "DECIMAL")}"/>`
      : "";
  if (k.suite || response)
    out.push(`      <pskc:AlgorithmParameters>${el("Suite", k.suite)}${response}</pskc:AlgorithmParameters>`);
  const data: string[] = [];
  if (k.secret) {
    if (encKey && macKey) {
      const cv = aesCbcEncrypt(encKey, randomBytes(16), k.secret);
      data.push(
        `<pskc:Secret><pskc:EncryptedValue><xenc:EncryptionMethod Algorithm="${AES128}"/><xenc:CipherData><xenc:CipherValue>${toBase64(cv)}</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue><pskc:ValueMAC>${toBase64(hmacOf("SHA1", macKey, cv))}</pskc:ValueMAC></pskc:Secret>`,
      );
    } else {
      data.push(`<pskc:Secret><pskc:PlainValue>${toBase64(k.secret)}</pskc:PlainValue></pskc:Secret>`);
    }
  }
  for (const [name, v] of [
    ["Counter", k.counter],
    ["Time", k.time],
    ["TimeInterval", k.timeInterval],
    ["TimeDrift", k.timeDrift],
  ] as const) {
    if (v !== undefined) data.push(`<pskc:${name}><pskc:PlainValue>${v}</pskc:PlainValue></pskc:${name}>`);
  }
  if (data.length) out.push(`      <pskc:Data>${data.join("")}</pskc:Data>`);
  if (k.userId) out.push(`      ${el("UserId", k.userId)}`);
  out.push("    </pskc:Key>", "  </pskc:KeyPackage>");
  return out;
}

const TEXT_FIELDS = [
  "issuer",
  "friendlyName",
  "userId",
  "manufacturer",
  "serialNo",
  "model",
  "responseEncoding",
  "suite",
] as const;

/** Every field of a key checked before anything is written: nothing reaches the XML unescaped or unchecked. */
function checkKey(k: PskcKey, i: number): void {
  const what = (field: string) => `key ${i + 1}'s ${field}`;
  expectRecord(k, `key ${i + 1}`, "a PSKC key");
  expectString(k.id, what("id"));
  expectString(k.algorithm, what("algorithm"));
  if (k.secret !== undefined) expectBytes(k.secret, what("secret"), "OTP_SECRET_INVALID");
  for (const f of TEXT_FIELDS) if (k[f] !== undefined) expectString(k[f], what(f));
  if (k.counter !== undefined) expectInteger(k.counter, what("counter"), 0, Number.MAX_SAFE_INTEGER);
  if (k.time !== undefined) expectInteger(k.time, what("time"), 0, Number.MAX_SAFE_INTEGER);
  if (k.timeInterval !== undefined) expectInteger(k.timeInterval, what("time interval"), 0, 2 ** 31);
  if (k.timeDrift !== undefined) expectInteger(k.timeDrift, what("time drift"), -(2 ** 31), 2 ** 31);
  if (k.responseLength !== undefined) expectInteger(k.responseLength, what("response length"), 0, 128);
}

function checkProtection(p: PskcProtection): void {
  expectRecord(p, "the protection");
  const kind = expectOneOf(p.kind, "the protection kind", ["none", "pre-shared-key", "password"]);
  if (kind === "pre-shared-key") {
    const q = p as Extract<PskcProtection, { kind: "pre-shared-key" }>;
    expectBytes(q.key, "the pre-shared key");
    expectString(q.keyName, "the pre-shared key's name");
  } else if (kind === "password") {
    const q = p as Extract<PskcProtection, { kind: "password" }>;
    if (expectString(q.password, "the password") === "")
      throw new CapkitError("INPUT_INVALID", "the password is empty");
    if (q.iterations !== undefined) expectInteger(q.iterations, "the PBKDF2 iteration count", 1000, 2 ** 31);
    if (q.keyName !== undefined) expectString(q.keyName, "the password's name");
  }
}
