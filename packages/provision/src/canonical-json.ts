import { CapkitError } from "@capkit/core";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * Canonical JSON: a strict subset of RFC 8785 (JCS). Every document capkit signs or digests — operations,
 * receipts, the activation protocol's sealed payloads — is made of objects, arrays, strings, integers,
 * booleans and null, so that is the subset: the output for those values is exactly JCS's, and anything else
 * is refused rather than approximated:
 *
 * - numbers: safe integers only (|n| ≤ 2^53 − 1). JCS writes other numbers with ECMAScript's shortest
 *   round-trip form (RFC 8785 §3.2.2.3); money is in minor units, times are strings, so none is needed;
 * - strings: well-formed UTF-16 (a lone surrogate is not I-JSON, RFC 8785 §3.1), escaped as JSON.stringify
 *   does, which is RFC 8785 §3.2.2.2;
 * - object members sorted by their names' UTF-16 code units (§3.2.3), which is JavaScript's default string
 *   order; plain objects only (no class instances, no undefined members);
 * - at most 32 levels deep.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

const MAX_DEPTH = 32;

function refuse(message: string): CapkitError {
  return new CapkitError("CANONICAL_JSON_INVALID", message);
}

/** True when the string is well-formed UTF-16 (no lone surrogate). */
function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

function write(value: unknown, depth: number, path: string): string {
  if (depth > MAX_DEPTH) throw refuse(`${path}: nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || value === true || value === false) return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw refuse(`${path}: only safe integers are canonical numbers here`);
    return JSON.stringify(value); // -0 → "0", as RFC 8785 §3.2.2.3
  }
  if (typeof value === "string") {
    if (!wellFormed(value)) throw refuse(`${path}: a string with a lone surrogate is not I-JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw refuse(`${path}[${i}]: a hole in an array`);
      items.push(write(value[i], depth + 1, `${path}[${i}]`));
    }
    return `[${items.join(",")}]`;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw refuse(`${path}: not a plain object`);
    const names = Object.keys(value).sort(); // UTF-16 code unit order (RFC 8785 §3.2.3)
    const members: string[] = [];
    for (const name of names) {
      if (!wellFormed(name)) throw refuse(`${path}: a member name with a lone surrogate`);
      const v = (value as Record<string, unknown>)[name];
      if (v === undefined) throw refuse(`${path}.${name}: undefined is not JSON`);
      members.push(`${JSON.stringify(name)}:${write(v, depth + 1, `${path}.${name}`)}`);
    }
    return `{${members.join(",")}}`;
  }
  throw refuse(`${path}: a ${typeof value} is not JSON`);
}

/** The canonical text of a value (RFC 8785 subset above); throws CANONICAL_JSON_INVALID outside it. */
export function canonicalJson(value: unknown): string {
  return write(value, 0, "$");
}

/** The canonical text as UTF-8 bytes: what is hashed and signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8ToBytes(canonicalJson(value));
}

/** SHA-256 of the canonical bytes. */
export function canonicalDigest(value: unknown): Uint8Array {
  return sha256(canonicalBytes(value));
}
