import { argumentError, CapkitError, expectString, isRecord } from "@capkit/core";
import type { ReaderInfo } from "./context.js";

/**
 * Which reader a command talks to, as one rule for every caller (`connect`, the CLI's `--reader`):
 * - a name given: that exact reader, else the one reader whose name contains it (case-insensitive), so
 *   `--reader Gemalto` works where pcscd calls it "Gemalto PC Twin Reader (70D7E2EE) 00 00"; a name that fits
 *   several readers is refused with their names;
 * - no name: the one reader holding a card. Two cards in two readers are refused with the readers' names —
 *   taking "the first" would spend a PIN try or an ATC on a card the user did not mean.
 * `undefined` when no reader holds a card (the caller may wait for one).
 */
export function chooseReader(readers: readonly ReaderInfo[], wanted?: string): ReaderInfo | undefined {
  if (!Array.isArray(readers as unknown))
    throw argumentError("INPUT_INVALID", "the readers", "an array of readers", readers);
  readers.forEach((r: unknown, i) => {
    if (!isRecord(r) || typeof r["name"] !== "string" || typeof r["cardPresent"] !== "boolean")
      throw argumentError("INPUT_INVALID", `reader ${i + 1}`, "a reader ({ name, cardPresent, … })", r);
  });
  if (wanted !== undefined) expectString(wanted, "the reader's name");
  if (readers.length === 0)
    throw new CapkitError("NO_READER", "no smart card reader found", {
      hint: "plug in a reader; pcsc_scan lists what pcscd sees",
    });
  const names = (list: readonly ReaderInfo[]) => list.map((r) => `"${r.name}"`).join(", ");
  if (wanted === undefined) {
    const withCard = readers.filter((r) => r.cardPresent);
    if (withCard.length > 1)
      throw new CapkitError("READER_AMBIGUOUS", `cards are inserted in ${withCard.length} readers`, {
        hint: `choose one with --reader (a part of its name is enough): ${names(withCard)}`,
        details: { readers: withCard.map((r) => r.name) },
      });
    return withCard[0];
  }
  const exact = readers.find((r) => r.name === wanted);
  if (exact) return exact;
  const needle = wanted.toLowerCase();
  const matches = readers.filter((r) => r.name.toLowerCase().includes(needle));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0)
    throw new CapkitError("NO_READER", `no reader named "${wanted}"`, {
      hint: `readers: ${names(readers)}`,
      details: { readers: readers.map((r) => r.name) },
    });
  throw new CapkitError("READER_AMBIGUOUS", `"${wanted}" is part of ${matches.length} reader names`, {
    hint: `give more of the name: ${names(matches)}`,
    details: { readers: matches.map((r) => r.name) },
  });
}
