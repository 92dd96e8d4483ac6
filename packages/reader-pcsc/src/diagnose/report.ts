import type { Diagnosis } from "./diagnose.js";

/**
 * The support bundle `capkit doctor --report` writes: the diagnosis, the redacted APDU log and the versions,
 * as one JSON document safe to attach to a ticket — no PIN (VERIFY data masked), no PAN, track data, expiry
 * or cardholder name (their TLV values masked), no key (none is ever read from a card).
 */
export const SUPPORT_REPORT_FORMAT = "capkit-support-report/1";

export interface SupportReport {
  readonly format: typeof SUPPORT_REPORT_FORMAT;
  readonly createdAt: string;
  readonly platform: string;
  readonly versions: Diagnosis["versions"];
  readonly checks: Diagnosis["checks"];
  readonly exchanges: Diagnosis["exchanges"];
}

export function supportReport(d: Diagnosis, now: Date = new Date()): SupportReport {
  return {
    format: SUPPORT_REPORT_FORMAT,
    createdAt: now.toISOString(),
    platform: `${process.platform} ${process.arch}`,
    versions: d.versions,
    checks: d.checks,
    exchanges: d.exchanges,
  };
}
