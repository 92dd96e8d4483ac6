import { argumentError, expectRecord, expectString } from "@capkit/core";
import { spacedAtr } from "./atr.js";

/**
 * pcsc-tools' smartcard_list.txt (the list `pcsc_scan` names cards from): an ATR line — upper-case bytes
 * separated by spaces, where `.` stands for any hex digit and `[..]` for a set, i.e. a regular expression
 * matched against the whole ATR — then the card's description on lines starting with a tab.
 */
export interface SmartcardListEntry {
  /** The ATR pattern: upper-case bytes separated by spaces, `.` for any hex digit. */
  readonly pattern: string;
  /** The card's description lines. */
  readonly descriptions: readonly string[];
}

/** Where Debian (pcsc-tools) and a user's update (`update-smartcard_list`) keep it, most specific first. */
export const SMARTCARD_LIST_PATHS = [
  `${process.env["HOME"] ?? ""}/.cache/smartcard_list.txt`,
  "/usr/share/pcsc/smartcard_list.txt",
  "/usr/local/share/pcsc/smartcard_list.txt",
] as const;

/** The entries of a smartcard_list.txt text. */
export function parseSmartcardList(text: string): SmartcardListEntry[] {
  expectString(text, "the smartcard list");
  const entries: { pattern: string; descriptions: string[] }[] = [];
  let current: { pattern: string; descriptions: string[] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#") || line.trim() === "") {
      current = undefined;
      continue;
    }
    if (line.startsWith("\t")) {
      current?.descriptions.push(line.trim());
      continue;
    }
    current = { pattern: line.trim(), descriptions: [] };
    entries.push(current);
  }
  return entries;
}

/** The descriptions of every entry whose pattern matches `atrHex`, in file order. */
export function nameAtr(entries: readonly SmartcardListEntry[], atrHex: string): string[] {
  if (!Array.isArray(entries as unknown))
    throw argumentError("INPUT_INVALID", "the smartcard list's entries", "an array of entries", entries);
  entries.forEach((e: unknown, i) => {
    const { pattern, descriptions } = expectRecord<SmartcardListEntry>(e, `entry ${i + 1}`, "an entry");
    expectString(pattern, `entry ${i + 1}'s pattern`);
    if (!Array.isArray(descriptions) || !descriptions.every((d) => typeof d === "string"))
      throw argumentError(
        "INPUT_INVALID",
        `entry ${i + 1}'s descriptions`,
        "an array of strings",
        descriptions,
      );
  });
  const atr = spacedAtr(atrHex);
  const names: string[] = [];
  for (const e of entries) {
    let re: RegExp;
    try {
      re = new RegExp(`^${e.pattern}$`, "i");
    } catch {
      continue; // a malformed line in someone's list must not stop the diagnosis
    }
    if (re.test(atr)) names.push(...e.descriptions.filter((d) => !/^https?:\/\//.test(d)));
  }
  return names;
}
