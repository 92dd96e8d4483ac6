/**
 * HMAC-SHA-1 and HMAC-SHA-256 of an 8-byte counter — the whole of HOTP/TOTP — with the key pads hashed once
 * (RFC 2104 §4 notes the intermediate results "may be precomputed … stored and used"). Each code then costs two
 * compressions of one block: the inner one over counter ‖ padding, the outer one over the inner digest ‖
 * padding. This is the one place capkit hand-writes hash rounds (FIPS 180-4 §6.1.2, §6.2.2); everything else
 * uses `@noble/hashes`, which also supplies the long-key pre-hash here. Tested against node:crypto.
 */
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { sha1Compress } from "./sha1-compress.js";

const W = new Int32Array(64);

/** FIPS 180-4 §4.2.2 / §5.3.3 constants: fractional parts of cube and square roots of the first primes. */
const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19];
for (let n = 23; PRIMES.length < 64; n += 2) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
const frac32 = (x: number) => ((x - Math.floor(x)) * 2 ** 32) | 0;
const K256 = Int32Array.from(PRIMES, (p) => frac32(Math.cbrt(p)));
const IV256 = Int32Array.from(PRIMES.slice(0, 8), (p) => frac32(Math.sqrt(p)));
const IV1 = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);

function sha256Compress(state: Int32Array, block: Int32Array, out: Int32Array): void {
  for (let t = 0; t < 16; t++) W[t] = block[t]!;
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K256[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (state[0]! + a) | 0;
  out[1] = (state[1]! + b) | 0;
  out[2] = (state[2]! + c) | 0;
  out[3] = (state[3]! + d) | 0;
  out[4] = (state[4]! + e) | 0;
  out[5] = (state[5]! + f) | 0;
  out[6] = (state[6]! + g) | 0;
  out[7] = (state[7]! + h) | 0;
}

function blockWords(bytes: Uint8Array): Int32Array {
  const w = new Int32Array(16);
  for (let i = 0; i < 16; i++)
    w[i] = (bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!;
  return w;
}

/** Keyed HMAC of 8-byte counters for SHA-1 or SHA-256; `mac` writes the digest into `out`. */
export class CounterMac {
  readonly #words: number;
  readonly #compress: typeof sha1Compress;
  readonly #inner: Int32Array;
  readonly #outer: Int32Array;
  readonly #innerBlock = new Int32Array(16);
  readonly #outerBlock = new Int32Array(16);
  readonly #digest: Int32Array;

  constructor(algorithm: "SHA1" | "SHA256", key: Uint8Array) {
    const sha1Like = algorithm === "SHA1";
    this.#words = sha1Like ? 5 : 8;
    this.#compress = sha1Like ? sha1Compress : sha256Compress;
    const iv = sha1Like ? IV1 : IV256;
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? (sha1Like ? sha1 : sha256)(key) : key);
    const pad = (x: number) => blockWords(k.map((b) => b ^ x));
    this.#inner = new Int32Array(this.#words);
    this.#outer = new Int32Array(this.#words);
    this.#compress(iv, pad(0x36), this.#inner);
    this.#compress(iv, pad(0x5c), this.#outer);
    this.#digest = new Int32Array(this.#words);
    // Inner message: 8 counter bytes, then 80, zeros, and the bit length of pad ‖ counter (64 + 8 bytes).
    this.#innerBlock[2] = 0x80000000 | 0;
    this.#innerBlock[15] = (64 + 8) * 8;
    // Outer message: the inner digest, then 80, zeros, and the bit length of pad ‖ digest.
    this.#outerBlock[this.#words] = 0x80000000 | 0;
    this.#outerBlock[15] = (64 + 4 * this.#words) * 8;
  }

  mac(counterHigh: number, counterLow: number, out: Uint8Array): void {
    this.#digestCounter(counterHigh, counterLow);
    for (let i = 0; i < this.#words; i++) {
      const v = this.#digest[i]!;
      out[4 * i] = v >>> 24;
      out[4 * i + 1] = (v >>> 16) & 255;
      out[4 * i + 2] = (v >>> 8) & 255;
      out[4 * i + 3] = v & 255;
    }
  }

  /**
   * RFC 4226 §5.3 dynamic truncation of the counter's HMAC, read straight from the big-endian digest words:
   * the offset is the low nibble of the last byte, and the 4 bytes at that offset straddle at most two words.
   */
  truncated(counterHigh: number, counterLow: number): number {
    this.#digestCounter(counterHigh, counterLow);
    const d = this.#digest;
    const offset = d[this.#words - 1]! & 0x0f;
    const i = offset >>> 2;
    const shift = (offset & 3) * 8;
    const v = shift === 0 ? d[i]! : (d[i]! << shift) | (d[i + 1]! >>> (32 - shift));
    return v & 0x7fffffff;
  }

  #digestCounter(counterHigh: number, counterLow: number): void {
    this.#innerBlock[0] = counterHigh;
    this.#innerBlock[1] = counterLow;
    this.#compress(this.#inner, this.#innerBlock, this.#digest);
    for (let i = 0; i < this.#words; i++) this.#outerBlock[i] = this.#digest[i]!;
    this.#compress(this.#outer, this.#outerBlock, this.#digest);
  }
}
