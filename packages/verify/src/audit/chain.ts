import { createHash } from "node:crypto";
import type { AuditEntry } from "../model.js";

/**
 * The audit trail's hash chains (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.2). An entry's hash is SHA-256 of the previous entry's
 * hash in its chain and the entry's text; a chain starts from SHA-256 of `capkit-audit/1`, NUL, its name. The
 * text is the fields in a fixed order, each as `<UTF-8 byte length>:<value>` (`-` when absent), joined by `|`:
 * unambiguous, and computed the same way by PostgreSQL in the statement that writes the entry
 * (`AUDIT_TEXT_SQL`), by SQLite's writer and by an offline verifier.
 */
export const AUDIT_FORMAT = "capkit-audit/1";

export interface ChainPlace {
  readonly chain: string;
  readonly n: number;
}

function field(value: string | number | undefined): string {
  if (value === undefined) return "-";
  const text = String(value);
  return `${Buffer.byteLength(text, "utf8")}:${text}`;
}

/** The text of an entry at its place in a chain (what its hash covers). */
export function auditText(e: AuditEntry & ChainPlace): string {
  return [e.at, e.chain, e.n, e.credentialId, e.action, e.result, e.counter, e.detail, e.user, e.actor]
    .map(field)
    .join("|");
}

/** The hash a chain starts from (the "previous hash" of its entry 1). */
export function chainStart(chain: string): Uint8Array {
  return createHash("sha256").update(`${AUDIT_FORMAT}\0${chain}`, "utf8").digest();
}

/** An entry's hash from its chain's previous one. */
export function chainHash(prev: Uint8Array, e: AuditEntry & ChainPlace): Uint8Array {
  return createHash("sha256").update(prev).update(auditText(e), "utf8").digest();
}

/**
 * The same text in SQL, over an audit row's columns (PostgreSQL: `octet_length` counts UTF-8 bytes; BIGINTs print
 * as decimal). `$x` placeholders are replaced by the caller with the expressions of the row being written.
 */
export function auditTextSql(c: {
  at: string;
  chain: string;
  n: string;
  credential: string;
  action: string;
  result: string;
  counter: string;
  detail: string;
  user: string;
  actor: string;
}): string {
  const f = (x: string) => `coalesce(octet_length(${x})::text || ':' || ${x}, '-')`;
  return [
    f(`(${c.at})::text`),
    f(`(${c.chain})::text`),
    f(`(${c.n})::text`),
    f(`(${c.credential})::text`),
    f(`(${c.action})::text`),
    f(`(${c.result})::text`),
    f(`(${c.counter})::text`),
    f(`(${c.detail})::text`),
    f(`(${c.user})::text`),
    f(`(${c.actor})::text`),
  ].join(" || '|' || ");
}

/**
 * The chain an entry goes to: that of the row the statement writing it already locks — the user's for a
 * credential that belongs to one (every decision on it locks the user's row), else the credential's — so a chain
 * adds no waiting of its own; entries about no row (unknown ids, issued challenges) go to a shared chain. The
 * same rule is in SQL (`capkit_audit_chain`, stores/schema.ts).
 */
export function chainOf(e: AuditEntry): string {
  if (e.result === "unknown" || e.action === "challenge" || (e.credentialId === "" && e.user === undefined))
    return sharedChain(e.user ?? e.credentialId);
  return e.user !== undefined ? userChain(e.user) : credentialChain(e.credentialId);
}

/**
 * The chain of an entry that no row holds (an attempt on an unknown id, a challenge issued): one of a few shared
 * chains picked by the id, so such entries are chained without one global head every writer would queue on.
 */
export function sharedChain(id: string): string {
  const h = createHash("sha256").update(id, "utf8").digest();
  return `shared:${h[0]! % SHARED_CHAINS}`;
}

export const SHARED_CHAINS = 16;

/** A credential's chain (a revoked and re-enrolled id goes on with it). */
export function credentialChain(id: string): string {
  return `credential:${id}`;
}

export function userChain(id: string): string {
  return `user:${id}`;
}
