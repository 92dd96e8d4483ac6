import { CapkitError } from "@capkit/core";
import type { KeyProvider } from "../key-provider.js";
import type { AuditCheckpoint, ChainedAuditEntry, StateStore } from "../model.js";
import { checkpointHash, checkpointText, FIRST_PREV } from "./checkpoint.js";
import { type AuditVerification, verifyAuditTrail } from "./verify-trail.js";

/** How much audit trail a store keeps (`Verifier.maintainAudit`, `pruneAudit`): the first bound reached wins. */
export interface AuditRetention {
  /** Entries older than this go (PCI DSS Req. 10.5.1 asks for 12 months). */
  readonly days: number;
  /** At most this many entries (the oldest go first). */
  readonly maxRows: number;
  /** At most about this many bytes of entries (ids and details come from outside). */
  readonly maxBytes: number;
}

/** What `Verifier.maintainAudit` keeps by default: 400 days, 50 million entries, 8 GiB. */
export const DEFAULT_AUDIT_RETENTION: AuditRetention = {
  days: 400,
  maxRows: 50_000_000,
  maxBytes: 8 * 1024 ** 3,
};

/**
 * Signs a checkpoint (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.2): the heads of the chains with entries between the previous
 * checkpoint's `to` and its `observed` — entries that were in flight when it was taken have settled since —,
 * chained to it. Run it periodically: each run seals what was written before the previous one. Undefined when
 * there was nothing new, or another verifier took the same checkpoint first.
 */
export async function checkpointAudit(
  store: StateStore,
  keys: KeyProvider,
  now: number,
  prunedBefore?: number,
): Promise<AuditCheckpoint | undefined> {
  const last = (await store.auditCheckpoints()).at(-1);
  const from = last?.to ?? 0;
  const to = last?.observed ?? 0;
  const { observed, heads } = await store.auditHeads(from, to);
  if (last && prunedBefore === undefined && heads.length === 0 && observed === last.observed)
    return undefined;
  const unsigned = {
    seq: (last?.seq ?? 0) + 1,
    at: now,
    from,
    to,
    observed,
    ...(prunedBefore !== undefined ? { prunedBefore } : {}),
    heads,
    prev: last ? checkpointHash(last) : FIRST_PREV,
  };
  const { keyId, signature } = await keys.signAudit(Buffer.from(checkpointText(unsigned), "utf8"));
  const cp: AuditCheckpoint = { ...unsigned, keyId, signature: Buffer.from(signature).toString("base64") };
  return (await store.addCheckpoint(cp)) ? cp : undefined;
}

/**
 * Audit retention: deletes what is older than `before` or beyond the row and byte bounds (each chain keeps its
 * newest entry before the cut, so what remains still verifies), then signs a checkpoint recording the cut.
 */
export async function pruneAudit(
  store: StateStore,
  keys: KeyProvider,
  now: number,
  bounds: { before?: number; maxRows?: number; maxBytes?: number },
): Promise<number> {
  const { before, maxRows, maxBytes } = bounds;
  for (const [name, v] of [
    ["before", before],
    ["maxRows", maxRows],
    ["maxBytes", maxBytes],
  ] as const)
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0))
      throw new CapkitError("INPUT_INVALID", `pruneAudit: ${name} must be a number ≥ 0`);
  const bySize =
    maxRows !== undefined || maxBytes !== undefined
      ? await store.auditCut(maxRows ?? Number.MAX_SAFE_INTEGER, maxBytes ?? Number.MAX_SAFE_INTEGER)
      : undefined;
  const cut = Math.max(before ?? Number.NEGATIVE_INFINITY, bySize ?? Number.NEGATIVE_INFINITY);
  if (!Number.isFinite(cut)) return 0;
  const removed = await store.pruneAudit(cut);
  await checkpointAudit(store, keys, now, cut);
  return removed;
}

/** The whole trail read in pages, then verified offline with the provider's audit public keys. */
export async function verifyStoredAudit(store: StateStore, keys: KeyProvider): Promise<AuditVerification> {
  const entries: ChainedAuditEntry[] = [];
  for (let after = 0; ; ) {
    const page = await store.auditTrail({ after, limit: 10_000 });
    entries.push(...page);
    if (page.length < 10_000) break;
    after = page.at(-1)!.seq;
  }
  return verifyAuditTrail(entries, await store.auditCheckpoints(), await keys.auditPublicKeys());
}
