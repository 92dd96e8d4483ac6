import type { AuditCheckpoint, ChainedAuditEntry } from "../model.js";
import { chainHash, chainStart } from "./chain.js";
import { checkpointHash, checkpointSignatureValid, FIRST_PREV } from "./checkpoint.js";

export interface AuditVerification {
  /** No problem found: every chain links, every checkpoint is signed and matches the entries it covers. */
  readonly ok: boolean;
  readonly entries: number;
  readonly chains: number;
  readonly checkpoints: number;
  /** Entries after the last checkpoint of their chain: linked, but a signature does not cover them yet. */
  readonly unsealed: number;
  /** Entries in no chain: written before the trail was chained, or by the memory store (which keeps none). */
  readonly unchained: number;
  /** What is wrong, one line each (an altered, deleted or reordered entry; a bad or missing signature). */
  readonly problems: readonly string[];
}

/**
 * Verifies an audit trail offline (docs/architecture.md §6.2): entries (as `Verifier.auditTrail` or an export
 * gives them), checkpoints, and the audit public keys by key id (`KeyProvider.auditPublicKeys`). Detected: an
 * altered entry (its hash, or the next one's, no longer matches), a deleted one (a gap in its chain; a chain
 * that stops before a checkpointed head; entries at the start of a chain that are newer than the retention
 * cut), entries reordered within a chain, a checkpoint altered, forged, deleted or reordered (signature, the
 * checkpoints' own chain). Not detectable without a copy kept elsewhere: entries after the last checkpoint
 * being rewritten or dropped together with everything after them (`unsealed` counts what is exposed so).
 */
export function verifyAuditTrail(
  entries: readonly ChainedAuditEntry[],
  checkpoints: readonly AuditCheckpoint[],
  publicKeys: Readonly<Record<string, string>>,
): AuditVerification {
  const problems: string[] = [];
  const cps = [...checkpoints].sort((a, b) => a.seq - b.seq);
  let prunedBefore: number | undefined;
  for (const cp of cps)
    if (cp.prunedBefore !== undefined)
      prunedBefore = Math.max(prunedBefore ?? cp.prunedBefore, cp.prunedBefore);
  cps.forEach((cp, i) => {
    const key = publicKeys[cp.keyId];
    if (!key) problems.push(`checkpoint ${cp.seq}: signed by unknown key ${cp.keyId}`);
    else if (!checkpointSignatureValid(cp, key)) problems.push(`checkpoint ${cp.seq}: signature invalid`);
    const before = cps[i - 1];
    if (before && cp.prev !== checkpointHash(before))
      problems.push(
        `checkpoint ${cp.seq}: does not follow checkpoint ${before.seq} (one deleted or altered)`,
      );
    if (before && cp.from !== before.to)
      problems.push(`checkpoint ${cp.seq}: covers from ${cp.from}, the previous one up to ${before.to}`);
    // The checkpoints before the first one kept may have gone with a retention cut after it, not otherwise.
    if (!before && cp.prev !== FIRST_PREV && (prunedBefore === undefined || cp.at >= prunedBefore))
      problems.push(`checkpoint ${cp.seq}: the checkpoints before it are missing`);
  });

  const chains = new Map<string, ChainedAuditEntry[]>();
  let unchained = 0;
  for (const e of entries) {
    if (e.chain === "") {
      unchained++; // written before the trail was chained, or by a store that keeps no chain (memory)
      continue;
    }
    const list = chains.get(e.chain);
    if (list) list.push(e);
    else chains.set(e.chain, [e]);
  }
  for (const [chain, list] of chains) {
    list.sort((a, b) => a.n - b.n);
    const first = list[0]!;
    if (first.n !== 1 && (prunedBefore === undefined || first.at >= prunedBefore))
      problems.push(`chain ${chain}: entries 1–${first.n - 1} are missing (deleted, not pruned)`);
    let prev: Uint8Array | undefined = first.n === 1 ? chainStart(chain) : undefined;
    let last: ChainedAuditEntry | undefined;
    for (const e of list) {
      if (last && e.n !== last.n + 1) {
        problems.push(
          e.n === last.n
            ? `chain ${chain}: entry ${e.n} twice (seq ${last.seq}, ${e.seq})`
            : `chain ${chain}: entries ${last.n + 1}–${e.n - 1} are missing (between seq ${last.seq} and ${e.seq})`,
        );
        prev = undefined;
      } else if (last && e.seq <= last.seq)
        problems.push(`chain ${chain}: entry ${e.n} (seq ${e.seq}) out of order`);
      // The first entry kept after a retention cut has no known predecessor: its own hash starts the checks.
      if (prev && Buffer.from(chainHash(prev, e)).toString("hex") !== e.hash)
        problems.push(`chain ${chain}: entry ${e.n} (seq ${e.seq}) altered`);
      prev = Buffer.from(e.hash, "hex");
      last = e;
    }
  }

  const sealed = new Map<string, number>();
  for (const cp of cps) {
    for (const h of cp.heads) {
      sealed.set(h.chain, Math.max(sealed.get(h.chain) ?? 0, h.n));
      const list = chains.get(h.chain);
      const e = list?.find((x) => x.n === h.n);
      if (e) {
        if (e.hash !== h.hash)
          problems.push(`chain ${h.chain}: entry ${h.n} differs from checkpoint ${cp.seq}`);
        continue;
      }
      const firstN = list?.[0]?.n;
      const pruned = prunedBefore !== undefined && cp.at < prunedBefore;
      if (firstN !== undefined && h.n < firstN) continue; // before the retention cut
      if (list !== undefined && list.at(-1)!.n > h.n) continue; // a gap, already reported
      if (list === undefined && pruned) continue; // a whole chain pruned
      problems.push(
        list === undefined
          ? `chain ${h.chain}: deleted (checkpoint ${cp.seq} has it at entry ${h.n})`
          : `chain ${h.chain}: entries after ${list.at(-1)!.n} deleted (checkpoint ${cp.seq} has it at ${h.n})`,
      );
    }
  }
  let unsealed = 0;
  for (const [chain, list] of chains) {
    const upTo = sealed.get(chain) ?? 0;
    unsealed += list.filter((e) => e.n > upTo).length;
  }
  return {
    ok: problems.length === 0,
    entries: entries.length,
    chains: chains.size,
    checkpoints: cps.length,
    unsealed,
    unchained,
    problems,
  };
}
