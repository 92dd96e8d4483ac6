import { CapkitError } from "@capkit/core";

/**
 * DES and Triple DES (FIPS 46-3, NIST SP 800-67), written here because WebCrypto has no DES and OpenSSL 3
 * dropped single DES from its default provider (https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.8).
 * Table-driven: the S-boxes are merged with the
 * P permutation into one 512-entry table, IP/FP use per-byte lookup tables, and a key schedule is computed
 * once per `DesKey` object, which callers keep (that is the cost that dominates EMV MACs, not the rounds).
 * Everything is int32 arithmetic on Int32Arrays, which V8 keeps in registers (uint32 values above 2^31 would
 * become doubles). Keys: parity bits are ignored, as the standard says.
 *
 * Chains of block operations (CBC-MAC, EDE) stay in the permuted domain: IP and FP are inverse bit
 * permutations and XOR commutes with them, so IP(FP(x) ⊕ m) = x ⊕ IP(m), and the 3DES passes
 * FP·IP between E and D cancel. A retail MAC over n blocks then costs n IP lookups of the message, n + 2
 * sets of 16 rounds and one FP (https://github.com/capkit/capkit/blob/main/docs/benchmarks.md).
 */

// FIPS 46-3 tables, 1-based bit numbers with bit 1 the most significant.
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40,
  32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5,
  63, 55, 47, 39, 31, 23, 15, 7,
];
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3,
    8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6,
    13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11,
    5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5,
    14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15,
    1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2,
    12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14,
    9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2,
    14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8,
    6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4,
    5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3,
    8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8,
    13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8,
    6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3,
    12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9,
    2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6,
    11,
  ],
];

/**
 * SP[64·i + x]: S-box i applied to the 6-bit input x, its 4 output bits placed and then permuted by P, as
 * signed 32-bit values.
 */
const SP = new Int32Array(512);
S.forEach((box, i) => {
  for (let x = 0; x < 64; x++) {
    // FIPS 46-3: row = outer bits b1 b6, column = inner bits b2..b5.
    const row = ((x >> 4) & 2) | (x & 1);
    const col = (x >> 1) & 15;
    const out = box[row * 16 + col]!;
    // The S-box output occupies bits 4i+1..4i+4 (1-based) of the 32-bit pre-P value.
    let pre = 0;
    for (let b = 0; b < 4; b++) if ((out >> (3 - b)) & 1) pre |= 1 << (31 - (4 * i + b));
    let post = 0;
    for (let j = 0; j < 32; j++) if ((pre >>> (32 - P[j]!)) & 1) post |= 1 << (31 - j);
    SP[64 * i + x] = post;
  }
});

/**
 * A 64-bit permutation as byte lookups: `hi[256·j + v]` / `lo[256·j + v]` are the output bits that byte j of
 * value v sets in the high and low words. Permuting is 8 lookups per word, and since the bits are disjoint
 * the lookups may be XORed as well as ORed — which is what lets a partial block be permuted byte by byte.
 */
interface ByteTables {
  readonly hi: Int32Array;
  readonly lo: Int32Array;
}

function byteTables(perm: readonly number[]): ByteTables {
  const hi = new Int32Array(8 * 256);
  const lo = new Int32Array(8 * 256);
  for (let out = 0; out < 64; out++) {
    const src = perm[out]! - 1;
    const j = src >> 3;
    const bit = 7 - (src & 7);
    for (let v = 0; v < 256; v++) {
      if ((v >> bit) & 1) {
        if (out < 32) hi[j * 256 + v]! |= 1 << (31 - out);
        else lo[j * 256 + v]! |= 1 << (63 - out);
      }
    }
  }
  return { hi, lo };
}

const FP = new Array<number>(64);
IP.forEach((src, out) => {
  FP[src - 1] = out + 1;
});
const IP_T = byteTables(IP);
const FP_T = byteTables(FP);

/**
 * XORs IP of `count` (≤ 8) bytes at data[at…] — the first bytes of a block, the rest taken as zero — into the
 * permuted block `io`: the CBC step x ⊕ IP(m) of a chain kept in the permuted domain.
 */
export function xorPermutedBytes(data: Uint8Array, at: number, count: number, io: Int32Array): void {
  const h = IP_T.hi;
  const l = IP_T.lo;
  let a = io[0]!;
  let b = io[1]!;
  if (count === 8) {
    const i0 = data[at]!;
    const i1 = 256 + data[at + 1]!;
    const i2 = 512 + data[at + 2]!;
    const i3 = 768 + data[at + 3]!;
    const i4 = 1024 + data[at + 4]!;
    const i5 = 1280 + data[at + 5]!;
    const i6 = 1536 + data[at + 6]!;
    const i7 = 1792 + data[at + 7]!;
    a ^= h[i0]! | h[i1]! | h[i2]! | h[i3]! | h[i4]! | h[i5]! | h[i6]! | h[i7]!;
    b ^= l[i0]! | l[i1]! | l[i2]! | l[i3]! | l[i4]! | l[i5]! | l[i6]! | l[i7]!;
  } else {
    for (let j = 0; j < count; j++) {
      const i = 256 * j + data[at + j]!;
      a ^= h[i]!;
      b ^= l[i]!;
    }
  }
  io[0] = a;
  io[1] = b;
}

/** XORs IP of the single byte `value` at position `j` of a block into `io` (a padding byte). */
export function xorPermutedByte(j: number, value: number, io: Int32Array): void {
  io[0] = io[0]! ^ IP_T.hi[256 * j + value]!;
  io[1] = io[1]! ^ IP_T.lo[256 * j + value]!;
}

/** FP of the permuted block `io`, written as 8 bytes at out[at…]. */
export function writeUnpermuted(io: Int32Array, out: Uint8Array, at: number): void {
  const h = FP_T.hi;
  const l = FP_T.lo;
  const a = io[0]!;
  const b = io[1]!;
  const i0 = a >>> 24;
  const i1 = 256 + ((a >>> 16) & 255);
  const i2 = 512 + ((a >>> 8) & 255);
  const i3 = 768 + (a & 255);
  const i4 = 1024 + (b >>> 24);
  const i5 = 1280 + ((b >>> 16) & 255);
  const i6 = 1536 + ((b >>> 8) & 255);
  const i7 = 1792 + (b & 255);
  writeWord(out, at, h[i0]! | h[i1]! | h[i2]! | h[i3]! | h[i4]! | h[i5]! | h[i6]! | h[i7]!);
  writeWord(out, at + 4, l[i0]! | l[i1]! | l[i2]! | l[i3]! | l[i4]! | l[i5]! | l[i6]! | l[i7]!);
}

/**
 * Key schedule tables, derived once from PC1 and PC2 so that a schedule is lookups, not bit loops (a verifier
 * derives two DES keys per candidate ATC under session-key CVNs).
 * - PC1_T[2·(256·j + v) + h]: the bits key byte j of value v sets in C (h = 0) or D (h = 1), 28-bit integers
 *   with PC1 output bit 1 (C) or 29 (D) the most significant; parity bits are not selected, so ignored.
 * - PC2_C / PC2_D[2·(128·g + v) + w]: the bits of round-key word w (the packing described at `rounds`) that
 *   7-bit group g of C or D (bits 7g..7g+6 counted from the least significant) of value v selects.
 */
const PC1_T = new Int32Array(2 * 8 * 256);
PC1.forEach((src, i) => {
  const j = (src - 1) >> 3;
  const bit = 7 - ((src - 1) & 7);
  for (let v = 0; v < 256; v++) {
    if ((v >> bit) & 1) PC1_T[2 * (256 * j + v) + (i < 28 ? 0 : 1)]! |= 1 << (i < 28 ? 27 - i : 55 - i);
  }
});

function pc2Tables(fromC: boolean): Int32Array {
  // For each bit of the half (by shift), the round-key bits it lands on.
  const to = new Int32Array(2 * 28);
  PC2.forEach((p, k) => {
    if (p <= 28 !== fromC) return;
    const chunk = Math.floor(k / 6);
    to[2 * (fromC ? 28 - p : 56 - p) + (chunk & 1)]! |= 1 << (26 - 8 * (chunk >> 1) + (5 - (k % 6)));
  });
  const t = new Int32Array(2 * 4 * 128);
  for (let g = 0; g < 4; g++) {
    for (let v = 0; v < 128; v++) {
      for (let b = 0; b < 7; b++) {
        if (!((v >> b) & 1)) continue;
        t[2 * (128 * g + v)]! |= to[2 * (7 * g + b)]!;
        t[2 * (128 * g + v) + 1]! |= to[2 * (7 * g + b) + 1]!;
      }
    }
  }
  return t;
}
const PC2_C = pc2Tables(true);
const PC2_D = pc2Tables(false);

/**
 * The 16 round keys: PC1, then per round the left rotations of C and D and PC2 (FIPS 46-3 key schedule),
 * packed two words per round for the round function below: the 6-bit chunks for S-boxes 1, 3, 5, 7 at bits
 * 26, 18, 10, 2 of the first word, those for S-boxes 2, 4, 6, 8 at the same places in the second.
 */
function keySchedule(key: Uint8Array, offset: number): Int32Array {
  let c = 0;
  let d = 0;
  for (let j = 0; j < 8; j++) {
    const i = 2 * (256 * j + key[offset + j]!);
    c |= PC1_T[i]!;
    d |= PC1_T[i + 1]!;
  }
  const ks = new Int32Array(32);
  for (let round = 0; round < 16; round++) {
    const s = SHIFTS[round]!;
    c = ((c << s) | (c >>> (28 - s))) & 0xfffffff;
    d = ((d << s) | (d >>> (28 - s))) & 0xfffffff;
    const c0 = 2 * (c & 127);
    const c1 = 2 * (128 + ((c >>> 7) & 127));
    const c2 = 2 * (256 + ((c >>> 14) & 127));
    const c3 = 2 * (384 + (c >>> 21));
    const d0 = 2 * (d & 127);
    const d1 = 2 * (128 + ((d >>> 7) & 127));
    const d2 = 2 * (256 + ((d >>> 14) & 127));
    const d3 = 2 * (384 + (d >>> 21));
    ks[2 * round] =
      PC2_C[c0]! | PC2_C[c1]! | PC2_C[c2]! | PC2_C[c3]! | PC2_D[d0]! | PC2_D[d1]! | PC2_D[d2]! | PC2_D[d3]!;
    ks[2 * round + 1] =
      PC2_C[c0 + 1]! |
      PC2_C[c1 + 1]! |
      PC2_C[c2 + 1]! |
      PC2_C[c3 + 1]! |
      PC2_D[d0 + 1]! |
      PC2_D[d1 + 1]! |
      PC2_D[d2 + 1]! |
      PC2_D[d3 + 1]!;
  }
  return ks;
}

/** The same round keys in reverse round order: decryption walks the schedule backwards. */
function reversed(ks: Int32Array): Int32Array {
  const out = new Int32Array(32);
  for (let round = 0; round < 16; round++) {
    out[2 * round] = ks[30 - 2 * round]!;
    out[2 * round + 1] = ks[31 - 2 * round]!;
  }
  return out;
}

/**
 * The 16 Feistel rounds on a permuted block (L0, R0) → (R16, L16), two rounds per iteration so the halves
 * never swap. The expansion E never materialises: S-box i reads bits 4i..4i+5 (1-based, cyclic) of R, which
 * are the top six bits of R rotated right by 1 then left by 4i. With x = R rotated right by 1, the even
 * S-boxes read disjoint 6-bit fields of x and the odd ones the same fields of x rotated left by 4, so each
 * round XORs in its two key words and does 8 table lookups.
 */
function rounds(ks: Int32Array, io: Int32Array): void {
  let l = io[0]!;
  let r = io[1]!;
  for (let k = 0; k < 32; k += 4) {
    let x = (r >>> 1) | (r << 31);
    let u = x ^ ks[k]!;
    let t = ((x << 4) | (x >>> 28)) ^ ks[k + 1]!;
    l ^=
      SP[u >>> 26]! |
      SP[128 + ((u >>> 18) & 63)]! |
      SP[256 + ((u >>> 10) & 63)]! |
      SP[384 + ((u >>> 2) & 63)]! |
      SP[64 + (t >>> 26)]! |
      SP[192 + ((t >>> 18) & 63)]! |
      SP[320 + ((t >>> 10) & 63)]! |
      SP[448 + ((t >>> 2) & 63)]!;
    x = (l >>> 1) | (l << 31);
    u = x ^ ks[k + 2]!;
    t = ((x << 4) | (x >>> 28)) ^ ks[k + 3]!;
    r ^=
      SP[u >>> 26]! |
      SP[128 + ((u >>> 18) & 63)]! |
      SP[256 + ((u >>> 10) & 63)]! |
      SP[384 + ((u >>> 2) & 63)]! |
      SP[64 + (t >>> 26)]! |
      SP[192 + ((t >>> 18) & 63)]! |
      SP[320 + ((t >>> 10) & 63)]! |
      SP[448 + ((t >>> 2) & 63)]!;
  }
  // The last round is not swapped: the pre-output is R16 L16.
  io[0] = r;
  io[1] = l;
}

/** One DES key with its schedule computed once (the parts of a {@link TdesKey}). */
export class DesKey {
  readonly #enc: Int32Array;
  readonly #dec: Int32Array;

  private constructor(enc: Int32Array) {
    this.#enc = enc;
    this.#dec = reversed(enc);
  }

  /** `key` is 8 bytes; `offset` picks an 8-byte part of a longer key without copying. */
  static from(key: Uint8Array, offset = 0): DesKey {
    if (key.length < offset + 8) throw new CapkitError("KEY_INVALID", "a DES key is 8 bytes");
    return new DesKey(keySchedule(key, offset));
  }

  /**
   * The 16 rounds on a block in the permuted domain (after IP, before FP), in place.
   *
   * @internal
   */
  permutedCrypt(io: Int32Array, decrypt: boolean): void {
    rounds(decrypt ? this.#dec : this.#enc, io);
  }
}

/**
 * Triple DES EDE with two keys (16 bytes, K1 K2 K1) or three (24 bytes). An 8-byte key gives single DES
 * (EDE with K1 = K2 = K3 is DES; the extra passes are skipped).
 */
export class TdesKey {
  /** @internal */
  readonly k1: DesKey;
  /** @internal */
  readonly k2: DesKey | undefined;
  /** @internal */
  readonly k3: DesKey | undefined;

  /**
   * @param key - 8, 16 or 24 bytes (parity bits ignored)
   * @throws `KEY_INVALID` for another length
   *
   * @example
   * ```ts
   * const k = new TdesKey(fromHex("0123456789ABCDEFFEDCBA9876543210"));
   * k.encryptEcb(new Uint8Array(8)); // 8 bytes
   * ```
   */
  constructor(key: Uint8Array) {
    if (key.length !== 8 && key.length !== 16 && key.length !== 24) {
      throw new CapkitError("KEY_INVALID", "a DES/3DES key is 8, 16 or 24 bytes");
    }
    this.k1 = DesKey.from(key, 0);
    this.k2 = key.length >= 16 ? DesKey.from(key, 8) : undefined;
    this.k3 = key.length === 24 ? DesKey.from(key, 16) : key.length === 16 ? this.k1 : undefined;
  }

  /**
   * The EDE passes on a block in the permuted domain, in place (the FP·IP between passes cancel).
   *
   * @internal
   */
  permutedCrypt(io: Int32Array, decrypt: boolean): void {
    if (!this.k2) {
      this.k1.permutedCrypt(io, decrypt);
    } else if (decrypt) {
      this.k3!.permutedCrypt(io, true);
      this.k2.permutedCrypt(io, false);
      this.k1.permutedCrypt(io, true);
    } else {
      this.k1.permutedCrypt(io, false);
      this.k2.permutedCrypt(io, true);
      this.k3!.permutedCrypt(io, false);
    }
  }

  /** ECB over whole 8-byte blocks. */
  encryptEcb(data: Uint8Array): Uint8Array {
    return ecb(this, data, false);
  }

  /** ECB decryption over whole 8-byte blocks. */
  decryptEcb(data: Uint8Array): Uint8Array {
    return ecb(this, data, true);
  }

  /** CBC with a zero IV unless given (EMV uses IV = 0 everywhere). */
  encryptCbc(data: Uint8Array, iv: Uint8Array = new Uint8Array(8)): Uint8Array {
    blocksOnly(data);
    const out = new Uint8Array(data.length);
    const w = new Int32Array(2);
    xorPermutedBytes(iv, 0, 8, w);
    for (let o = 0; o < data.length; o += 8) {
      xorPermutedBytes(data, o, 8, w);
      this.permutedCrypt(w, false);
      writeUnpermuted(w, out, o);
    }
    return out;
  }
}

function ecb(key: TdesKey, data: Uint8Array, decrypt: boolean): Uint8Array {
  blocksOnly(data);
  const out = new Uint8Array(data.length);
  const w = new Int32Array(2);
  for (let o = 0; o < data.length; o += 8) {
    w[0] = 0;
    w[1] = 0;
    xorPermutedBytes(data, o, 8, w);
    key.permutedCrypt(w, decrypt);
    writeUnpermuted(w, out, o);
  }
  return out;
}

function blocksOnly(data: Uint8Array): void {
  if (data.length % 8 !== 0) throw new CapkitError("INPUT_INVALID", "DES data must be whole 8-byte blocks");
}

function writeWord(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}
