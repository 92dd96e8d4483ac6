import { CapkitError } from "@capkit/core";
import { DesKey, TdesKey, writeUnpermuted, xorPermutedByte, xorPermutedBytes } from "./des.js";

/**
 * ISO/IEC 9797-1 MAC algorithms over DES, as EMV uses them (EMV 4.3 Book 2 Annex A1.2):
 * - padding method 1: zeros up to a whole block (none when aligned; empty data → one zero block);
 *   padding method 2: `80` then zeros (always at least one byte).
 * - algorithm 1: CBC-MAC, IV 0, the last block (used with single DES for the CAP TDS MAC,
 * https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.7);
 * - algorithm 3 ("retail MAC"): CBC-MAC with K1, then the last block decrypted with K2 and encrypted with K1.
 */
export type Padding = 1 | 2;

/** `data` padded by ISO/IEC 9797-1 method 1 or 2, in a new array. */
export function pad(data: Uint8Array, method: Padding): Uint8Array {
  if (method === 1) {
    const n = data.length === 0 ? 8 : Math.ceil(data.length / 8) * 8;
    const out = new Uint8Array(n);
    out.set(data);
    return out;
  }
  const out = new Uint8Array((Math.floor(data.length / 8) + 1) * 8);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

/**
 * CBC-MAC chaining of the padded data through `encrypt`, leaving the last block in `w` in the permuted domain
 * (des.ts): no copy of the data, and the padding XORed in byte by byte. From byte `from` (a whole number of
 * blocks) when `w` already holds the chaining value of the bytes before it.
 */
function chain(encrypt: DesKey | TdesKey, data: Uint8Array, padding: Padding, w: Int32Array, from = 0): void {
  if (from === 0) {
    w[0] = 0;
    w[1] = 0;
  }
  const whole = data.length - (data.length % 8);
  for (let o = from; o < whole; o += 8) {
    xorPermutedBytes(data, o, 8, w);
    encrypt.permutedCrypt(w, false);
  }
  const rest = data.length - whole;
  // Method 1 adds nothing when aligned (but one zero block for empty data); method 2 always adds a block part.
  if (padding === 1 && rest === 0 && data.length > 0) return;
  xorPermutedBytes(data, whole, rest, w);
  if (padding === 2) xorPermutedByte(rest, 0x80, w);
  encrypt.permutedCrypt(w, false);
}

function macBytes(w: Int32Array): Uint8Array {
  const out = new Uint8Array(8);
  writeUnpermuted(w, out, 0);
  return out;
}

/** ISO 9797-1 algorithm 1 with a DES or 3DES key (8, 16 or 24 bytes). */
export function macAlg1(key: Uint8Array | TdesKey, data: Uint8Array, padding: Padding): Uint8Array {
  const k = key instanceof TdesKey ? key : new TdesKey(key);
  const w = new Int32Array(2);
  chain(k, data, padding, w);
  return macBytes(w);
}

/** A prepared 16-byte retail-MAC key: both DES schedules computed once. */
export class RetailMacKey {
  readonly #k1: DesKey;
  readonly #k2: DesKey;
  readonly #w = new Int32Array(2);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new CapkitError("KEY_INVALID", "a retail MAC key is 16 bytes (K1 K2)");
    this.#k1 = DesKey.from(key, 0);
    this.#k2 = DesKey.from(key, 8);
  }

  /** The 8-byte retail MAC (ISO 9797-1 algorithm 3) of `data` with `padding`. */
  mac(data: Uint8Array, padding: Padding): Uint8Array {
    return this.macInto(data, padding, new Uint8Array(8), 0);
  }

  /**
   * The CBC chaining value after the first `blocks` whole blocks of `data`, for messages that all begin with
   * those bytes (a verifier's MAC input for each candidate ATC): `macInto` resumes from it. Valid with this key
   * only.
   */
  prefix(data: Uint8Array, blocks: number): MacPrefix {
    const n = Math.max(0, Math.min(Math.trunc(blocks), Math.floor(data.length / 8)));
    const state = new Int32Array(2);
    for (let o = 0; o < 8 * n; o += 8) {
      xorPermutedBytes(data, o, 8, state);
      this.#k1.permutedCrypt(state, false);
    }
    return { state, from: 8 * n };
  }

  /**
   * The MAC written into `out` at `offset` (a verifier's code buffer: no allocation per candidate); with a
   * `prefix` of this key, only the blocks after it are chained.
   */
  macInto(
    data: Uint8Array,
    padding: Padding,
    out: Uint8Array,
    offset: number,
    prefix?: MacPrefix,
  ): Uint8Array {
    const w = this.#w;
    if (prefix && prefix.from > 0) {
      w[0] = prefix.state[0]!;
      w[1] = prefix.state[1]!;
      chain(this.#k1, data, padding, w, prefix.from);
    } else chain(this.#k1, data, padding, w);
    this.#k2.permutedCrypt(w, true);
    this.#k1.permutedCrypt(w, false);
    writeUnpermuted(w, out, offset);
    return out;
  }
}

/** The CBC state after a message's first `from` bytes (`RetailMacKey.prefix`). */
export interface MacPrefix {
  /** The chaining value, in the DES permuted domain: opaque. */
  readonly state: Int32Array;
  /** How many bytes of the message it covers. */
  readonly from: number;
}

/** ISO 9797-1 algorithm 3 (retail MAC), 8 bytes. */
export function macAlg3(key: Uint8Array | RetailMacKey, data: Uint8Array, padding: Padding): Uint8Array {
  return (key instanceof RetailMacKey ? key : new RetailMacKey(key)).mac(data, padding);
}
