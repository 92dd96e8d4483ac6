import { argumentError, CapkitError, isRecord } from "@capkit/core";
import type { AuditEntry, ChainedAuditEntry } from "../model.js";

/** The columns of an exported entry, in order (CSV header; JSON lines carry the same names). */
export const AUDIT_COLUMNS = [
  "seq",
  "time",
  "at",
  "credential",
  "user",
  "actor",
  "action",
  "result",
  "counter",
  "detail",
  "chain",
  "n",
  "hash",
] as const;

/**
 * An entry as the exports take it: an {@link AuditEntry}, with its place in the trail when the store keeps one
 * (a {@link ChainedAuditEntry}, as `Verifier.auditTrail` reads it).
 */
export type ExportedAuditEntry = AuditEntry &
  Partial<Pick<ChainedAuditEntry, "seq" | "chain" | "n" | "hash">>;

/** The entries to export, each an entry at a valid time: INPUT_INVALID naming the first that is not. */
function* checked(entries: unknown): Generator<ExportedAuditEntry> {
  if (typeof entries !== "object" || entries === null || !(Symbol.iterator in entries))
    throw argumentError("INPUT_INVALID", "the entries", "an array (or iterable) of audit entries", entries);
  let i = 0;
  for (const e of entries as Iterable<unknown>) {
    if (!isRecord(e) || typeof e["at"] !== "number" || !Number.isFinite(new Date(e["at"]).getTime()))
      throw new CapkitError("INPUT_INVALID", `entries[${i}] is not an audit entry (its at a time in ms)`);
    i++;
    yield e as unknown as ExportedAuditEntry;
  }
}

function row(e: ExportedAuditEntry): Record<(typeof AUDIT_COLUMNS)[number], string | number | undefined> {
  return {
    seq: e.seq,
    time: new Date(e.at).toISOString(),
    at: e.at,
    credential: e.credentialId,
    user: e.user,
    actor: e.actor,
    action: e.action,
    result: e.result,
    counter: e.counter,
    detail: e.detail,
    chain: e.chain,
    n: e.n,
    hash: e.hash,
  };
}

/** One JSON object per line (a SIEM's usual input); absent fields are left out. */
export function auditJsonLines(entries: Iterable<ExportedAuditEntry>): string {
  let out = "";
  for (const e of checked(entries)) out += `${JSON.stringify(row(e))}\n`;
  return out;
}

/**
 * RFC 4180 CSV with a header. A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
 * tab or a carriage return: OWASP "CSV injection") gets a leading apostrophe; ids and details come from outside.
 *
 * @example
 * ```ts
 * const page = await verifier.auditTrail({ user: "alice", since: Date.parse("2026-12-01") });
 * writeFileSync("alice.csv", auditCsv(page)); // or auditJsonLines(page) for a SIEM
 * ```
 */
export function auditCsv(entries: Iterable<ExportedAuditEntry>): string {
  const cell = (v: string | number | undefined): string => {
    if (v === undefined) return "";
    let s = String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  let out = `${AUDIT_COLUMNS.join(",")}\r\n`;
  for (const e of checked(entries)) {
    const r = row(e);
    out += `${AUDIT_COLUMNS.map((c) => cell(r[c])).join(",")}\r\n`;
  }
  return out;
}
