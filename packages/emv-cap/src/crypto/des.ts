import { CapkitError } from "@capkit/core";

/**
 * DES and Triple DES (FIPS 46-3, NIST SP 800-67), written here because WebCrypto has no DES and OpenSSL 3
 * dropped single DES from its default provider (docs/architecture.md §3.8). Table-driven: the S-boxes are merged with the
 * P permutation into eight 64-entry tables, IP/FP use per-byte lookup tables, and a key schedule is computed
 * once per `DesKey` object, which callers keep (that is the cost that dominates EMV MACs, not the rounds).
 * Keys: parity bits are ignored, as the standard says.
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

/** SP[i][x]: S-box i applied to the 6-bit input x, its 4 output bits placed and then permuted by P. */
const SP: Uint32Array[] = S.map((box, i) => {
  const table = new Uint32Array(64);
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
    table[x] = post >>> 0;
  }
  return table;
});

/**
 * A 64-bit permutation as byte lookups: for byte position j and value v, the output bits it sets, split into
 * high and low words. Permuting is then 8 lookups and ORs per word.
 */
function byteTables(perm: readonly number[]): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(8 * 256);
  const lo = new Uint32Array(8 * 256);
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

function permute(t: { hi: Uint32Array; lo: Uint32Array }, a: number, b: number, out: Uint32Array): void {
  const h = t.hi;
  const l = t.lo;
  const i0 = a >>> 24;
  const i1 = 256 + ((a >>> 16) & 255);
  const i2 = 512 + ((a >>> 8) & 255);
  const i3 = 768 + (a & 255);
  const i4 = 1024 + (b >>> 24);
  const i5 = 1280 + ((b >>> 16) & 255);
  const i6 = 1536 + ((b >>> 8) & 255);
  const i7 = 1792 + (b & 255);
  out[0] = h[i0]! | h[i1]! | h[i2]! | h[i3]! | h[i4]! | h[i5]! | h[i6]! | h[i7]!;
  out[1] = l[i0]! | l[i1]! | l[i2]! | l[i3]! | l[i4]! | l[i5]! | l[i6]! | l[i7]!;
}

/** PC2 source positions split by half: C holds PC1 output bits 1–28, D bits 29–56 (28-bit integers). */
const PC2_SHIFT = PC2.map((p) => (p <= 28 ? 28 - p : 56 - p));
const PC2_FROM_C = PC2.map((p) => p <= 28);

/** 16 rounds × 8 six-bit subkey chunks, from PC1, the rotations and PC2, on 28-bit integers. */
function keySchedule(key: Uint8Array, offset: number): Uint8Array {
  const bit = (n: number) => (key[offset + ((n - 1) >> 3)]! >> (7 - ((n - 1) & 7))) & 1;
  let c = 0;
  let d = 0;
  for (let i = 0; i < 28; i++) {
    c = (c << 1) | bit(PC1[i]!);
    d = (d << 1) | bit(PC1[i + 28]!);
  }
  const sub = new Uint8Array(128);
  for (let round = 0; round < 16; round++) {
    for (let s = 0; s < SHIFTS[round]!; s++) {
      c = ((c << 1) | (c >>> 27)) & 0xfffffff;
      d = ((d << 1) | (d >>> 27)) & 0xfffffff;
    }
    for (let k = 0; k < 48; k++) {
      if (((PC2_FROM_C[k] ? c : d) >>> PC2_SHIFT[k]!) & 1)
        sub[round * 8 + Math.floor(k / 6)]! |= 1 << (5 - (k % 6));
    }
  }
  return sub;
}

const scratch = new Uint32Array(2);

/**
 * The 16 Feistel rounds on (l, r) after IP; `sub` walked forwards to encrypt, backwards to decrypt. The
 * expansion E never materialises: S-box i reads bits 4i..4i+5 (1-based, cyclic) of r, which are the top six
 * bits of r rotated left by 4i-1.
 */
function rounds(sub: Uint8Array, decrypt: boolean, io: Uint32Array): void {
  let l = io[0]!;
  let r = io[1]!;
  for (let round = 0; round < 16; round++) {
    const k = (decrypt ? 15 - round : round) * 8;
    const x = (r >>> 1) | (r << 31); // rotate right by 1: bit 32 comes first, as E starts
    const f =
      SP[0]![((x >>> 26) ^ sub[k]!) & 63]! |
      SP[1]![((x >>> 22) ^ sub[k + 1]!) & 63]! |
      SP[2]![((x >>> 18) ^ sub[k + 2]!) & 63]! |
      SP[3]![((x >>> 14) ^ sub[k + 3]!) & 63]! |
      SP[4]![((x >>> 10) ^ sub[k + 4]!) & 63]! |
      SP[5]![((x >>> 6) ^ sub[k + 5]!) & 63]! |
      SP[6]![((x >>> 2) ^ sub[k + 6]!) & 63]! |
      SP[7]![(((x << 2) | (x >>> 30)) ^ sub[k + 7]!) & 63]!;
    const t = r;
    r = (l ^ f) >>> 0;
    l = t;
  }
  // The last round is not swapped: the output is R16 L16.
  io[0] = r;
  io[1] = l;
}

/** One DES key with its schedule computed once. */
export class DesKey {
  readonly #sub: Uint8Array;

  private constructor(sub: Uint8Array) {
    this.#sub = sub;
  }

  /** `key` is 8 bytes; `offset` picks an 8-byte part of a longer key without copying. */
  static from(key: Uint8Array, offset = 0): DesKey {
    if (key.length < offset + 8) throw new CapkitError("KEY_INVALID", "a DES key is 8 bytes");
    return new DesKey(keySchedule(key, offset));
  }

  /** Encrypts or decrypts the block held as two big-endian words in `io`, in place. */
  cryptWords(io: Uint32Array, decrypt: boolean): void {
    permute(IP_T, io[0]!, io[1]!, scratch);
    rounds(this.#sub, decrypt, scratch);
    permute(FP_T, scratch[0]!, scratch[1]!, io);
  }
}

/**
 * Triple DES EDE with two keys (16 bytes, K1 K2 K1) or three (24 bytes). An 8-byte key gives single DES
 * (EDE with K1 = K2 = K3 is DES; the extra passes are skipped).
 */
export class TdesKey {
  readonly k1: DesKey;
  readonly k2: DesKey | undefined;
  readonly k3: DesKey | undefined;

  constructor(key: Uint8Array) {
    if (key.length !== 8 && key.length !== 16 && key.length !== 24) {
      throw new CapkitError("KEY_INVALID", "a DES/3DES key is 8, 16 or 24 bytes");
    }
    this.k1 = DesKey.from(key, 0);
    this.k2 = key.length >= 16 ? DesKey.from(key, 8) : undefined;
    this.k3 = key.length === 24 ? DesKey.from(key, 16) : key.length === 16 ? this.k1 : undefined;
  }

  cryptWords(io: Uint32Array, decrypt: boolean): void {
    if (!this.k2) {
      this.k1.cryptWords(io, decrypt);
    } else if (decrypt) {
      this.k3!.cryptWords(io, true);
      this.k2.cryptWords(io, false);
      this.k1.cryptWords(io, true);
    } else {
      this.k1.cryptWords(io, false);
      this.k2.cryptWords(io, true);
      this.k3!.cryptWords(io, false);
    }
  }

  /** ECB over whole 8-byte blocks. */
  encryptEcb(data: Uint8Array): Uint8Array {
    return ecb(this, data, false);
  }

  decryptEcb(data: Uint8Array): Uint8Array {
    return ecb(this, data, true);
  }

  /** CBC with a zero IV unless given (EMV uses IV = 0 everywhere). */
  encryptCbc(data: Uint8Array, iv: Uint8Array = new Uint8Array(8)): Uint8Array {
    blocksOnly(data);
    const out = new Uint8Array(data.length);
    const w = new Uint32Array([readWord(iv, 0), readWord(iv, 4)]);
    for (let o = 0; o < data.length; o += 8) {
      w[0] = (w[0]! ^ readWord(data, o)) >>> 0;
      w[1] = (w[1]! ^ readWord(data, o + 4)) >>> 0;
      this.cryptWords(w, false);
      writeWord(out, o, w[0]!);
      writeWord(out, o + 4, w[1]!);
    }
    return out;
  }
}

function ecb(key: TdesKey, data: Uint8Array, decrypt: boolean): Uint8Array {
  blocksOnly(data);
  const out = new Uint8Array(data.length);
  const w = new Uint32Array(2);
  for (let o = 0; o < data.length; o += 8) {
    w[0] = readWord(data, o);
    w[1] = readWord(data, o + 4);
    key.cryptWords(w, decrypt);
    writeWord(out, o, w[0]!);
    writeWord(out, o + 4, w[1]!);
  }
  return out;
}

function blocksOnly(data: Uint8Array): void {
  if (data.length % 8 !== 0) throw new CapkitError("INPUT_INVALID", "DES data must be whole 8-byte blocks");
}

export function readWord(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function writeWord(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}
