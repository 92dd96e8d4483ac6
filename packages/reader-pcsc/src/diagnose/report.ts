import { argumentError, expectRecord, isRecord } from "@capkit/core";
import type { Diagnosis } from "./diagnose.js";

/**
 * The support bundle `capkit doctor --report` writes: the diagnosis, the redacted APDU log and the versions,
 * as one JSON document safe to attach to a ticket — no PIN (VERIFY data masked), no PAN, track data, expiry
 * or cardholder name (their TLV values masked), no key (none is ever read from a card).
 */
export const SUPPORT_REPORT_FORMAT = "capkit-support-report/1";

/** A support bundle: one JSON document, safe to attach to a ticket. */
export interface SupportReport {
  /** Always {@link SUPPORT_REPORT_FORMAT}. */
  readonly format: typeof SUPPORT_REPORT_FORMAT;
  /** When it was made, ISO 8601. */
  readonly createdAt: string;
  /** The operating system and architecture (`linux x64`). */
  readonly platform: string;
  /** The versions the diagnosis found (capkit, Node, pcscd, libpcsclite…). */
  readonly versions: Diagnosis["versions"];
  /** Every check, as the diagnosis made it. */
  readonly checks: Diagnosis["checks"];
  /** Every APDU exchanged, redacted. */
  readonly exchanges: Diagnosis["exchanges"];
}

/** The support bundle of a diagnosis, stamped `now`. */
export function supportReport(d: Diagnosis, now: Date = new Date()): SupportReport {
  expectRecord(d, "the diagnosis", "a diagnosis ({ checks, exchanges, versions })");
  if (!Array.isArray(d.checks)) throw argumentError("INPUT_INVALID", "the checks", "an array", d.checks);
  if (!Array.isArray(d.exchanges))
    throw argumentError("INPUT_INVALID", "the exchanges", "an array", d.exchanges);
  if (!isRecord(d.versions)) throw argumentError("INPUT_INVALID", "the versions", "an object", d.versions);
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw argumentError("INPUT_INVALID", "the report's time", "a valid Date", now);
  return {
    format: SUPPORT_REPORT_FORMAT,
    createdAt: now.toISOString(),
    platform: `${process.platform} ${process.arch}`,
    versions: d.versions,
    checks: d.checks,
    exchanges: d.exchanges,
  };
}
