import { argumentError, CapkitError, isRecord } from "@capkit/core";
import type { AuditCheckpoint, ChainedAuditEntry } from "../model.js";
import { chainHash, chainStart } from "./chain.js";
import { checkpointHash, checkpointSignatureValid, FIRST_PREV } from "./checkpoint.js";

/** The verdict on an audit trail ({@link verifyAuditTrail}, `Verifier.verifyAudit`). */
export interface AuditVerification {
  /** No problem found: every chain links, every checkpoint is signed and matches the entries it covers. */
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  /** Chains found among them. */
  readonly chains: number;
  /** Checkpoints read. */
  readonly checkpoints: number;
  /** Entries after the last checkpoint of their chain: linked, but a signature does not cover them yet. */
  readonly unsealed: number;
  /** Entries in no chain: written before the trail was chained, or by the memory store (which keeps none). */
  readonly unchained: number;
  /** What is wrong, one line each (an altered, deleted or reordered entry; a bad or missing signature). */
  readonly problems: readonly string[];
}

/**
 * Verifies an audit trail offline (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6.2): entries (as `Verifier.auditTrail` or an export
 * gives them), checkpoints, and the audit public keys by key id (`KeyProvider.auditPublicKeys`). Detected: an
 * altered entry (its hash, or the next one's, no longer matches), a deleted one (a gap in its chain; a chain
 * that stops before a checkpointed head; entries at the start of a chain that are newer than the retention
 * cut), entries reordered within a chain, a checkpoint altered, forged, deleted or reordered (signature, the
 * checkpoints' own chain). Not detectable without a copy kept elsewhere: entries after the last checkpoint
 * being rewritten or dropped together with everything after them (`unsealed` counts what is exposed so).
 *
 * @param entries - the trail, in any order (every page of `Verifier.auditTrail`, or an export read back)
 * @param checkpoints - the signed checkpoints (`StateStore.auditCheckpoints`)
 * @param publicKeys - the audit public keys (raw Ed25519, hex) by key id, from `Verifier.auditPublicKeys`
 *
 * @example
 * ```ts
 * // On the bank's side: the trail, its checkpoints and the public keys handed to an auditor.
 * const keys = await verifier.auditPublicKeys();
 * // On the auditor's machine, with no access to the key provider or the database:
 * const v = verifyAuditTrail(entries, checkpoints, keys);
 * if (!v.ok) console.log(v.problems.join("\n")); // "chain user:alice: entry 7 (seq 1234) altered", …
 * console.log(`${v.entries} entries, ${v.unsealed} not yet covered by a checkpoint`);
 * ```
 */
export function verifyAuditTrail(
  entries: readonly ChainedAuditEntry[],
  checkpoints: readonly AuditCheckpoint[],
  publicKeys: Readonly<Record<string, string>>,
): AuditVerification {
  checkTrail(entries, checkpoints, publicKeys);
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

/**
 * The door of {@link verifyAuditTrail}: what it reads has the shape it reads (an entry's place, a checkpoint's
 * heads and signature, hex keys), so a wrong argument is INPUT_INVALID naming it — never a TypeError, never a
 * verdict about something else. What the values say is the verification's to judge.
 */
function checkTrail(entries: unknown, checkpoints: unknown, publicKeys: unknown): void {
  if (!Array.isArray(entries)) throw argumentError("INPUT_INVALID", "the entries", "an array", entries);
  entries.forEach((e, i) => {
    if (
      !isRecord(e) ||
      !isCount(e["seq"]) ||
      !isCount(e["n"]) ||
      typeof e["chain"] !== "string" ||
      typeof e["hash"] !== "string" ||
      typeof e["at"] !== "number"
    )
      throw new CapkitError(
        "INPUT_INVALID",
        `entries[${i}] is not an audit entry with its seq, at, chain, n and hash`,
      );
  });
  if (!Array.isArray(checkpoints))
    throw argumentError("INPUT_INVALID", "the checkpoints", "an array", checkpoints);
  checkpoints.forEach((cp, i) => {
    if (
      !isRecord(cp) ||
      !isCount(cp["seq"]) ||
      !isCount(cp["from"]) ||
      !isCount(cp["to"]) ||
      typeof cp["at"] !== "number" ||
      typeof cp["prev"] !== "string" ||
      typeof cp["keyId"] !== "string" ||
      typeof cp["signature"] !== "string" ||
      !Array.isArray(cp["heads"]) ||
      !cp["heads"].every((h) => isRecord(h) && typeof h["chain"] === "string" && isCount(h["n"]))
    )
      throw new CapkitError("INPUT_INVALID", `checkpoints[${i}] is not an audit checkpoint`);
  });
  if (
    !isRecord(publicKeys) ||
    !Object.values(publicKeys).every((k) => typeof k === "string" && HEX_KEY.test(k))
  )
    throw argumentError(
      "INPUT_INVALID",
      "the public keys",
      "an object of raw Ed25519 keys in hex by key id",
      publicKeys,
    );
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
