import { CapkitError, concat, writeUint, xor } from "@capkit/core";
import { TdesKey } from "./des.js";
import { withOddParity } from "./keys.js";

/**
 * Session keys for application cryptograms (EMV 4.3 Book 2 Annex A1.3 and scheme specifics, docs/architecture.md §3.8).
 * Visa CVN 10 uses none: the ICC master key itself is the MAC key.
 */

function checkKey(mk: Uint8Array): void {
  if (mk.length !== 16) throw new CapkitError("KEY_INVALID", "an ICC master key is 16 bytes");
}

/** A master key as raw bytes, or already prepared (a verifier derives many session keys from one). */
export type MasterKey = Uint8Array | TdesKey;

function prepared(mk: MasterKey): TdesKey {
  if (mk instanceof TdesKey) return mk;
  checkKey(mk);
  return new TdesKey(mk);
}

/** EMV Common Session Key (A1.3.1): SK = 3DES_MK(R with R2 = F0) ‖ 3DES_MK(R with R2 = 0F), odd parity. */
export function commonSessionKey(mk: MasterKey, r: Uint8Array): Uint8Array {
  if (r.length !== 8) throw new CapkitError("INPUT_INVALID", "the diversification value R is 8 bytes");
  const left = r.slice();
  const right = r.slice();
  left[2] = 0xf0;
  right[2] = 0x0f;
  return withOddParity(prepared(mk).encryptEcb(concat(left, right)));
}

/** EMV CSK for an AC: R = ATC ‖ 00 00 00 00 00 00. */
export function emvSessionKey(mk: MasterKey, atc: number): Uint8Array {
  return commonSessionKey(mk, concat(writeUint(atc, 2), new Uint8Array(6)));
}

/** MasterCard session key derivation (M/Chip CVN 16/17, Interac 133): R = ATC ‖ 00 00 ‖ UN. */
export function mastercardSessionKey(mk: MasterKey, atc: number, un: Uint8Array): Uint8Array {
  if (un.length !== 4) throw new CapkitError("INPUT_INVALID", "the unpredictable number is 4 bytes");
  return commonSessionKey(mk, concat(writeUint(atc, 2), new Uint8Array(2), un));
}

/** Visa secure-messaging key (not used for ACs): ATC mixed into the last two bytes of each half, ~ATC right. */
export function visaSmSessionKey(mk: Uint8Array, atc: number): Uint8Array {
  checkKey(mk);
  const a = writeUint(atc, 2);
  const notA = Uint8Array.of(~a[0]! & 0xff, ~a[1]! & 0xff);
  const mask = concat(new Uint8Array(6), a, new Uint8Array(6), notA);
  return withOddParity(xor(mk, mask));
}

export interface TreeParameters {
  /** Tree height H, 1 to 16. */
  readonly height: number;
  /** Branch factor b, 2 to 65536; b^H must cover every ATC (≥ 65536). */
  readonly branch: number;
  /** 16-byte IV (usually zeros). */
  readonly iv?: Uint8Array;
}

/** b^H ≥ 2^16: the tree's leaves must cover every 2-byte ATC (EMV 4.1 Book 2 A1.3). */
const ATC_VALUES = 0x10000;
/** H = 16 with b = 2 already covers every ATC: a taller tree only costs more 3DES per key. */
const MAX_TREE_HEIGHT = 16;

/**
 * The EMV2000 trees EMV 4.1 Book 2 A1.3 allows: any branch factor b ≥ 2 and height H ≥ 1 whose b^H leaves
 * cover every ATC — the b = 4, H = 8 of emvlab.org's calculator, IBM's TDESEMV2 (b = 2, H = 16) and TDESEMV4
 * (b = 4, H = 8) among them —, with H ≤ 16 and b ≤ 2^16 (a larger b or H changes no key).
 */
export function checkTreeParameters(params: TreeParameters): void {
  const { height, branch } = params;
  if (
    !Number.isInteger(height) ||
    !Number.isInteger(branch) ||
    height < 1 ||
    height > MAX_TREE_HEIGHT ||
    branch < 2 ||
    branch > ATC_VALUES ||
    branch ** height < ATC_VALUES
  ) {
    throw new CapkitError(
      "INPUT_INVALID",
      `EMV2000 tree b=${branch} H=${height}: need integers b from 2 to 65536 and H from 1 to 16 with b^H ≥ 65536`,
    );
  }
  if (params.iv !== undefined && params.iv.length !== 16)
    throw new CapkitError("INPUT_INVALID", "EMV2000 tree IV is 16 bytes");
}

/**
 * EMV2000 tree derivation (EMV 4.1 Book 2 Annex A1.3, since replaced by the CSK):
 * F(X, Y, j) = 3DES_X(Y_L ⊕ (j mod b)) ‖ 3DES_X(Y_R ⊕ (j mod b) ⊕ F0), walking from the master key down the
 * tree to the ATC's leaf; SK = F(parent, grandparent, ATC) ⊕ grandparent.
 */
export function treeSessionKey(mk: Uint8Array, atc: number, params: TreeParameters): Uint8Array {
  checkKey(mk);
  checkTreeParameters(params);
  const { height, branch } = params;
  const iv = params.iv ?? new Uint8Array(16);
  const f = (x: Uint8Array, y: Uint8Array, j: number): Uint8Array => {
    const jb = writeUint(j % branch, 8);
    const right = xor(xor(y.subarray(8), jb), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0xf0));
    return new TdesKey(x).encryptEcb(concat(xor(y.subarray(0, 8), jb), right));
  };
  // Walk down: level h node index is atc / b^(H-h).
  let parent = mk;
  let grandparent = iv;
  for (let h = 1; h < height; h++) {
    const j = Math.floor(atc / branch ** (height - h));
    const node = f(parent, grandparent, j);
    grandparent = parent;
    parent = node;
  }
  return withOddParity(xor(f(parent, grandparent, atc), grandparent));
}
