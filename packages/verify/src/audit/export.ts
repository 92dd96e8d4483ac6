import type { AuditEntry } from "../model.js";

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

type Exported = AuditEntry & { seq?: number; chain?: string; n?: number; hash?: string };

function row(e: Exported): Record<(typeof AUDIT_COLUMNS)[number], string | number | undefined> {
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
export function auditJsonLines(entries: Iterable<Exported>): string {
  let out = "";
  for (const e of entries) out += `${JSON.stringify(row(e))}\n`;
  return out;
}

/**
 * RFC 4180 CSV with a header. A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return: OWASP "CSV injection") gets a leading apostrophe; ids and details come from outside.
 */
export function auditCsv(entries: Iterable<Exported>): string {
  const cell = (v: string | number | undefined): string => {
    if (v === undefined) return "";
    let s = String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  let out = `${AUDIT_COLUMNS.join(",")}\r\n`;
  for (const e of entries) {
    const r = row(e);
    out += `${AUDIT_COLUMNS.map((c) => cell(r[c])).join(",")}\r\n`;
  }
  return out;
}
