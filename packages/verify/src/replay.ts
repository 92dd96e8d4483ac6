import { hash, timingSafeEqual } from "node:crypto";
import type { CodeFunction } from "./model.js";

/**
 * What makes two requests "the same code" for replay detection (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Replays"): the
 * function, the digits, and what else entered the code — the challenge the caller named, the amount and
 * currency of a signature, the TDS numbers. A double submit, or a proxy retrying, sends all of it again.
 */
export interface ReplayProbe {
  /** The function the code answered, or "resync" (then `code` holds both codes). */
  readonly fn: CodeFunction | "resync";
  /** The digits, spaces removed ("" when not a number). */
  readonly code: string;
  /** The challenge the caller named. */
  readonly challengeId?: string | undefined;
  /** CAP sign: the amount typed on the reader. */
  readonly amount?: string | undefined;
  /** CAP sign: the ISO 4217 numeric currency. */
  readonly currency?: string | undefined;
  /** CAP identify with TDS: the numbers typed on the reader. */
  readonly tds?: readonly string[] | undefined;
  /** The caller's idempotency key: a retry that carries it gets the accept again. */
  readonly request?: string | undefined;
}

/**
 * The digest an accepted request leaves on its credential, bound to the credential and the counter it moved
 * `last` to (so it is never equal for another credential or another code of the same token). SHA-256,
 * truncated to 128 bits; unkeyed: what it hides is a code already used, worth nothing to anyone. One-shot
 * `crypto.hash` (Node 20.12+): no Hash object per verification (https://github.com/capkit/capkit/blob/main/docs/benchmarks.md, PostgreSQL at the limit).
 */
export function replayDigest(credentialId: string, counter: number, p: ReplayProbe): string {
  const fields = [
    credentialId,
    String(counter),
    p.fn,
    p.code,
    p.challengeId ?? "",
    p.amount ?? "",
    p.currency ?? "",
    p.tds?.join(",") ?? "",
  ];
  return hash("sha256", fields.join("\0"), "hex").slice(0, 32);
}

/** The same request, field by field (what the digest stands for). */
export function sameRequest(a: ReplayProbe, b: ReplayProbe): boolean {
  return (
    a.fn === b.fn &&
    sameDigits(a.code, b.code) &&
    a.challengeId === b.challengeId &&
    a.amount === b.amount &&
    a.currency === b.currency &&
    (a.tds?.join(",") ?? "") === (b.tds?.join(",") ?? "")
  );
}

function sameDigits(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Equal digests, compared in constant time. */
export function sameDigest(a: string, b: string | undefined): boolean {
  return b !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
