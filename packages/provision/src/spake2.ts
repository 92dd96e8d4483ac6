import { CapkitError, concat, constantTimeEqual } from "@capkit/core";
import { p256 } from "@noble/curves/nist.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * SPAKE2 (RFC 9382), ciphersuite SPAKE2-P256-SHA256-HKDF-HMAC, both roles. A balanced PAKE: two parties that
 * share a low-entropy secret `w` derive a strong key; someone without `w` gets one online guess per run and
 * nothing to test guesses offline against (RFC 9382 §7).
 *
 *   A: x random, pA = x·P + w·M           B: y random, pB = y·P + w·N
 *   A: K = h·x·(pB − w·N)                  B: K = h·y·(pA − w·M)            (h = 1 on P-256)
 *   TT = len(A) ‖ A ‖ len(B) ‖ B ‖ len(pA) ‖ pA ‖ len(pB) ‖ pB ‖ len(K) ‖ K ‖ len(w) ‖ w    (§3.3, §4)
 *   Ke ‖ Ka = SHA-256(TT);  KcA ‖ KcB = HKDF(salt = nil, Ka, "ConfirmationKeys" ‖ AAD);
 *   cA = HMAC(KcA, TT), cB = HMAC(KcB, TT)
 *
 * Only @noble/curves' public point API and @noble/hashes are used.
 */
const Point = p256.Point;
type P256Point = InstanceType<typeof Point>;
/** The group order p of RFC 9382 (the order of the P-256 base point). */
const ORDER = Point.Fn.ORDER;

/**
 * RFC 9382 §6, P-256: M and N from the seeds "1.2.840.10045.3.1.7 point generation seed (M)" / "(N)". Fixed
 * points, so each gets a precomputed window table (built on first use, as @noble/curves does for the base
 * point): w·M and w·N then cost what x·P costs, a fraction of a variable-base multiplication (bench/).
 */
const M = Point.fromHex("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f").precompute(8);
const N = Point.fromHex("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49").precompute(8);

/** A share on the wire: a SEC1 uncompressed point (RFC 9382 §3.3: "the uncompressed format"). */
export const SPAKE2_SHARE_BYTES = 65;
/** Each confirmation MAC is an HMAC-SHA256 (RFC 9382 §6). */
export const SPAKE2_CONFIRMATION_BYTES = 32;

export type Spake2Role = "A" | "B";

function invalid(message: string): CapkitError {
  return new CapkitError("PAKE_INPUT_INVALID", message);
}

/** Big-endian unsigned integer of a byte string. */
function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** The scalar as 32 big-endian bytes (how `w` enters TT in RFC 9382 Appendix B). */
function scalarBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = s;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function checkScalar(s: bigint, what: string): void {
  if (typeof s !== "bigint" || s <= 0n || s >= ORDER) throw invalid(`${what} must be in [1, p−1]`);
}

/**
 * Reduces uniformly random bytes (at least 48: the bias of the reduction is then below 2^-128) to a scalar
 * in [1, p−1]. RFC 9382 §3.2 reduces the memory-hard function's output "modulo p"; a zero is remapped, as
 * w = 0 would let anyone compute the key.
 */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length < 48) throw invalid("a scalar needs at least 48 uniformly random bytes");
  return (bytesToBigInt(bytes) % (ORDER - 1n)) + 1n;
}

/** 8-byte little-endian length then the bytes (RFC 9382 §3.3 `len`). */
function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + bytes.length);
  let n = bytes.length;
  for (let i = 0; i < 8; i++) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  out.set(bytes, 8);
  return out;
}

/** Parses a peer's share: an uncompressed P-256 point on the curve, not the identity (RFC 9382 §7). */
function parseShare(share: Uint8Array): P256Point {
  if (!(share instanceof Uint8Array) || share.length !== SPAKE2_SHARE_BYTES || share[0] !== 0x04)
    throw invalid("a SPAKE2 share is a 65-byte uncompressed P-256 point");
  let point: P256Point;
  try {
    point = Point.fromBytes(share);
    point.assertValidity();
  } catch {
    throw invalid("the SPAKE2 share is not a point of P-256");
  }
  if (point.is0()) throw invalid("the SPAKE2 share is the identity");
  return point;
}

/** One party's first message and the secret it must keep until the peer's share arrives. */
export interface Spake2Start {
  readonly role: Spake2Role;
  /** The ephemeral scalar x (A) or y (B): secret, used once. */
  readonly scalar: bigint;
  /** pA or pB, 65 bytes. */
  readonly share: Uint8Array;
}

/**
 * Computes this party's share. `scalar` is for the RFC's test vectors only; in use it comes from the CSPRNG.
 */
export function spake2Start(role: Spake2Role, w: bigint, scalar?: bigint): Spake2Start {
  checkScalar(w, "w");
  const s = scalar ?? scalarFromBytes(randomBytes(48));
  checkScalar(s, "the ephemeral scalar");
  const mask = role === "A" ? M : N;
  const share = Point.BASE.multiply(s).add(mask.multiply(w)).toBytes(false);
  return { role, scalar: s, share };
}

/** Everything both parties derive (RFC 9382 §4); every field is secret except the two confirmations. */
export interface Spake2Keys {
  /** The transcript TT (contains w: never send it). */
  readonly transcript: Uint8Array;
  /** The shared key for the application. */
  readonly ke: Uint8Array;
  readonly kcA: Uint8Array;
  readonly kcB: Uint8Array;
  /** A's key confirmation, MAC(KcA, TT). */
  readonly confirmA: Uint8Array;
  /** B's key confirmation, MAC(KcB, TT). */
  readonly confirmB: Uint8Array;
}

export interface Spake2Context {
  /** Identities of A and B (RFC 9382 §3.3: may be empty, then both sides agree on that). */
  readonly idA: Uint8Array;
  readonly idB: Uint8Array;
  /** Additional authenticated data mixed into the confirmation keys (§4). */
  readonly aad?: Uint8Array;
}

const CONFIRMATION_KEYS = utf8ToBytes("ConfirmationKeys");

/**
 * Finishes the exchange with the peer's share: K, TT and the key schedule. Refuses a share that is not a
 * valid point, or whose K is the identity (a peer who sent w·N or w·M would otherwise force a known key).
 */
export function spake2Finish(
  start: Spake2Start,
  w: bigint,
  peerShare: Uint8Array,
  context: Spake2Context,
): Spake2Keys {
  checkScalar(w, "w");
  const peer = parseShare(peerShare);
  const unmask = start.role === "A" ? N : M;
  const k = peer.subtract(unmask.multiply(w)).multiply(start.scalar); // cofactor h = 1 on P-256
  if (k.is0()) throw invalid("the SPAKE2 key is the identity");
  const [pA, pB] = start.role === "A" ? [start.share, peerShare] : [peerShare, start.share];
  const transcript = concat(
    lengthPrefixed(context.idA),
    lengthPrefixed(context.idB),
    lengthPrefixed(pA),
    lengthPrefixed(pB),
    lengthPrefixed(k.toBytes(false)),
    lengthPrefixed(scalarBytes(w)),
  );
  const hashTT = sha256(transcript);
  const ke = hashTT.slice(0, 16);
  const ka = hashTT.slice(16);
  const kc = hkdf(sha256, ka, undefined, concat(CONFIRMATION_KEYS, context.aad ?? new Uint8Array()), 32);
  const kcA = kc.slice(0, 16);
  const kcB = kc.slice(16);
  return {
    transcript,
    ke,
    kcA,
    kcB,
    confirmA: hmac(sha256, kcA, transcript),
    confirmB: hmac(sha256, kcB, transcript),
  };
}

/** Checks the peer's confirmation in constant time: B checks cA, A checks cB. */
export function spake2Confirm(keys: Spake2Keys, role: Spake2Role, peerConfirmation: Uint8Array): boolean {
  const expected = role === "A" ? keys.confirmB : keys.confirmA;
  return peerConfirmation instanceof Uint8Array && constantTimeEqual(expected, peerConfirmation);
}
