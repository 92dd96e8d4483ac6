import { CapkitError, concat, writeUint } from "@capkit/core";
import { cmac, ecb } from "@noble/ciphers/aes.js";

/**
 * The AES path of EMV (EMV 4.3 Book 2 Annex A1.3.1 and A1.2.2): the common session key for a 16-byte AES
 * master key is one AES encryption of the diversification value R = ATC ‖ 00…00 (16 bytes) with R2 := F0
 * (k = n, so only F1 is needed), and the application cryptogram is the leftmost 8 bytes of AES-CMAC
 * (ISO/IEC 9797-1 MAC algorithm 5). No CAP card with AES has been seen in a public trace
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.8):
 * this follows the Book 2 text and is checked against RFC 4493 CMAC vectors only.
 */
export function aesCommonSessionKey(mk: Uint8Array, atc: number): Uint8Array {
  if (mk.length !== 16) throw new CapkitError("KEY_INVALID", "the AES path supports 16-byte master keys");
  const r = concat(writeUint(atc, 2), new Uint8Array(14));
  r[2] = 0xf0;
  return ecb(mk, { disablePadding: true }).encrypt(r);
}

/** AES-CMAC (RFC 4493); noble's argument order is message first. */
export function aesCmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CapkitError("KEY_INVALID", "an AES key is 16, 24 or 32 bytes");
  }
  return cmac(data, key);
}
