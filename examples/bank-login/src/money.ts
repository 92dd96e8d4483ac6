/**
 * Amounts in euro cents, the one representation the bank keeps; parsed from what a customer types, shown the
 * French way, and handed to the verifier as the decimal amount the reader signs (docs/architecture.md §3.3).
 */

/** What the reader's MONTANT line takes: 10 digits of cents. */
export const MAX_CENTS = 9_999_999_999;

/** "1 250,5", "1250.50", "20" → cents; undefined for anything else, zero or above MAX_CENTS. */
export function parseEuros(text: string): number | undefined {
  const m = /^([0-9]{1,8})(?:[.,]([0-9]{1,2}))?$/.exec(text.replace(/\s+/g, ""));
  if (!m) return undefined;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
  return cents > 0 && cents <= MAX_CENTS ? cents : undefined;
}

/** 125050 → "1 250,50 €". */
export function formatEuros(cents: number): string {
  const euros = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  return `${euros},${String(cents % 100).padStart(2, "0")} €`;
}

/** 125050 → "1250.50": the amount as the verifier takes it for a CAP signature. */
export function decimalAmount(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}
