import { CapkitError, concat, digitsToBcd, toHex, xor } from "@capkit/core";
import { sha1 } from "@noble/hashes/legacy.js";
import { TdesKey } from "./des.js";

/** Sets each byte's low bit so the byte has odd parity (the DES key convention, FIPS 46-3 §3). */
export function withOddParity(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) {
    const b = key[i]! & 0xfe;
    let ones = 0;
    for (let v = b; v; v >>= 1) ones += v & 1;
    out[i] = ones % 2 === 0 ? b | 1 : b;
  }
  return out;
}

/** Key check value: the first `length` bytes of the key encrypting a zero block (ANSI X9.24 convention). */
export function keyCheckValue(key: Uint8Array | TdesKey, length = 3): Uint8Array {
  const k = key instanceof TdesKey ? key : new TdesKey(key);
  return k.encryptEcb(new Uint8Array(8)).subarray(0, length);
}

export type MasterKeyDerivation = "A" | "B";

function checkDigits(value: string, what: string, min: number, max: number): void {
  if (!/^[0-9]+$/.test(value) || value.length < min || value.length > max) {
    throw new CapkitError("INPUT_INVALID", `${what} must be ${min}–${max} decimal digits`);
  }
}

/**
 * ICC master key from the issuer master key (EMV 4.3 Book 2 Annex A1.4).
 * Option A: Y = rightmost 16 digits of PAN‖PSN (left-padded with 0), MK = 3DES(Y) ‖ 3DES(Y ⊕ FF…FF).
 * Option B (A1.4.2), for PANs longer than 16 digits: Y = 16 decimal digits chosen from the SHA-1 of PAN‖PSN.
 * The PSN is two digits ("00" when the card has none).
 */
export function deriveIccMasterKey(
  imk: Uint8Array | TdesKey,
  pan: string,
  psn: string,
  method: MasterKeyDerivation,
): Uint8Array {
  const k = imk instanceof TdesKey ? imk : new TdesKey(imk);
  const [left, right] = iccMasterKeyData(pan, psn, method);
  return withOddParity(concat(k.encryptEcb(left), k.encryptEcb(right)));
}

/**
 * What the issuer master key encrypts to make an ICC master key (EMV 4.3 Book 2 Annex A1.4): the left half
 * from Y, the right half from Y ⊕ FF…FF. Public data (PAN, PSN): a key store that keeps the issuer master key
 * (an HSM) derives the two halves from these blocks with its own mechanisms.
 */
export function iccMasterKeyData(
  pan: string,
  psn: string,
  method: MasterKeyDerivation,
): [left: Uint8Array, right: Uint8Array] {
  checkDigits(pan, "PAN", 8, 19);
  checkDigits(psn, "PSN", 1, 2);
  const x = pan + psn.padStart(2, "0");
  const y = method === "B" && pan.length > 16 ? optionBDigits(x) : x.slice(-16).padStart(16, "0");
  const yb = digitsToBcd(y, 8);
  return [yb, xor(yb, new Uint8Array(8).fill(0xff))];
}

/** Book 2 A1.4.2: hash PAN‖PSN (BCD, a leading 0 if odd), keep decimal digits, then letters A–F as 0–5. */
function optionBDigits(x: string): string {
  const digest = toHex(sha1(digitsToBcd(x, Math.ceil(x.length / 2))));
  let y = digest.replace(/[A-F]/g, "");
  if (y.length < 16) {
    const letters = digest.replace(/[0-9]/g, "");
    y += [...letters].map((c) => String(c.charCodeAt(0) - 65)).join("");
  }
  return y.slice(0, 16);
}
