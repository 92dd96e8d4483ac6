import { expectInteger, expectString } from "@capkit/core";

/**
 * Display-safe text: the one rule for every free text a device screen shows of an operation (today the payees'
 * names), so that what the customer reads is what the bytes say and what the digest binds (PSD2 RTS Art.
 * 5(1)(a): the payer is made aware of the amount and the payee). The operation document's parser applies it,
 * so every door that takes a document applies it too: `parseOperation`, `createOperation`, the app's
 * `verifySignedOperation`, `@capkit/verify/approvals`' `create`, and a bank's form before it builds one.
 *
 * A text is display-safe when it is 1 to `maxChars` characters — counted in Unicode code points (an astral
 * character such as 𝔄 is one, a combining accent is one) —, in Unicode Normalization Form C, and:
 *
 * - **no control character** (gc=Cc: C0, DEL, C1, so no tab, line feed or NEL): no glyph, and a line break
 *   splits the one line a field is;
 * - **no format character** (gc=Cf). Among them the explicit directional formatting characters of UAX #9
 *   (TR#9) §2 — embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, the marks U+200E, U+200F,
 *   U+061C — which reorder what the screen shows against the order of the bytes ("Trojan Source",
 *   CVE-2021-42574: RLO turns `1234` into `4321` on screen); and the invisible ones (U+200B–U+200D, U+2060,
 *   U+FEFF, the soft hyphen U+00AD, tags U+E0000–U+E007F), which make two different byte strings — two
 *   digests — of one screen (UTR #36 §2, visual security issues). The cost: ZWNJ and ZWJ, which Persian and
 *   Indic spellings use, are refused too; a payee name on a SEPA transfer is in the Latin character set
 *   (EPC217-08), and unambiguity comes first;
 * - **no other invisible character** (Default_Ignorable_Code_Point: what a renderer shows as nothing —
 *   the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the combining grapheme joiner U+034F, the variation
 *   selectors; UTS #39 (TR#39) Identifier_Status Restricted);
 * - **no separator but the space U+0020**: the line and paragraph separators U+2028, U+2029 end the line (UAX
 *   #9 gives U+2029 bidi class B: a new paragraph, its own direction), and the other spaces (U+00A0, U+2000–
 *   U+200A, U+202F, U+3000…) look like U+0020 with other bytes (UTS #39's confusables.txt maps them to it).
 *   No space at either end, never two in a row: a web page collapses runs of spaces, so `A  B` would show as
 *   `A B`;
 * - **no private-use, unassigned or surrogate code point** (gc=Co, Cn, Cs): a private-use character has no
 *   agreed glyph (what shows depends on the device's font); an unassigned one has none yet, and a later
 *   Unicode version may give it one, or a normalization (UAX #15's stability policy holds only for assigned
 *   characters, so refusing them makes the NFC check the same on every engine: an engine older than the text
 *   refuses a newly assigned character — the safe side); a lone surrogate is not a character at all (and UTF-8
 *   cannot carry it);
 * - **marks only on a base, and not piled up** (UTS #39 §5.4, Optional Detection): no combining mark first
 *   (it would join the label before it), no more than 4 nonspacing or enclosing marks in a row, never the same
 *   one twice in a row — checked on the NFD form, so `é` + U+0301 is the same acute twice. Stacked marks are
 *   drawn over the lines around them: over the amount.
 *
 * Normalization: a document capkit *creates* is made NFC (`normalizeDisplayText`, in `createOperation` and in a
 * bank's form): what a customer types or pastes may come decomposed (macOS, some input methods, PDF copies)
 * and is canonically equivalent — by UAX #15's definition the same text, shown the same — so refusing it would
 * be an error the customer cannot see, let alone correct. NFC changes no visible character (NFKC would: `ﬁ`,
 * `²`, full-width letters), and is applied before the count, so a name is counted as it is signed. A document
 * capkit *parses or verifies* (the app, a receipt's operation, a stored row) is never normalized: one that
 * is not NFC is refused, for its digest would otherwise differ from the one of the text it shows.
 *
 * Not refused: names mixing scripts (Latin with Cyrillic or Greek letters): real names do; see UTS #39 §5 for
 * what could warn about them later.
 */

/** The most characters (code points) of a payee's name: SEPA's 70. */
export const MAX_NAME_CHARS = 70;

/** Why a character is refused: the class it belongs to (see the module's rule). */
export type RefusedClass =
  | "control"
  | "format"
  | "invisible"
  | "separator"
  | "private-use"
  | "unassigned"
  | "surrogate";

/**
 * What makes a text not display-safe: its length, a refused character (its code point and class, its place
 * in code points from 0), its spaces, its marks, or its normalization form.
 */
export type DisplayTextProblem =
  | { readonly kind: "length"; readonly max: number }
  | {
      readonly kind: "character";
      readonly codePoint: number;
      readonly index: number;
      readonly class: RefusedClass;
    }
  | { readonly kind: "spaces" }
  | { readonly kind: "marks" }
  | { readonly kind: "not-nfc" };

/** Each refused class and the property that names it (ECMAScript's Unicode property escapes). */
const CLASSES: readonly (readonly [RefusedClass, RegExp])[] = [
  ["surrogate", /^\p{Cs}$/u],
  ["control", /^\p{Cc}$/u],
  ["format", /^\p{Cf}$/u],
  ["invisible", /^\p{Default_Ignorable_Code_Point}$/u],
  ["separator", /^(?! )\p{Z}$/u],
  ["private-use", /^\p{Co}$/u],
  ["unassigned", /^\p{Cn}$/u],
];
/** Any refused character: the union of the classes, tested first, once per text. */
const REFUSED = /[\p{Cs}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;
/** A mark first, 5 nonspacing or enclosing marks in a row, or the same one twice (UTS #39 §5.4), on NFD. */
const PILED_MARKS = /^\p{M}|[\p{Mn}\p{Me}]{5}|([\p{Mn}\p{Me}])\1/u;

/**
 * What makes `text` not display-safe, or undefined when it is (the rule is the module's comment).
 *
 * @example
 * ```ts
 * displayTextProblem("Dupont SARL"); // undefined
 * displayTextProblem("Dupont\u202Eesab"); // { kind: "character", codePoint: 0x202e, index: 6, class: "format" }
 * displayTextProblem("Cafe\u0301"); // { kind: "not-nfc" }: normalizeDisplayText makes it "Café"
 * ```
 * @param maxChars - the most code points (a payee's name: {@link MAX_NAME_CHARS}), 1 to 10,000
 * @throws `INPUT_INVALID` for a text that is not a string, a `maxChars` that is not a whole number from 1 to
 *   10,000
 */
export function displayTextProblem(text: string, maxChars = MAX_NAME_CHARS): DisplayTextProblem | undefined {
  expectString(text, "the text");
  expectInteger(maxChars, "maxChars (code points)", 1, 10_000);
  // Two UTF-16 units at most per code point: a huge text is refused before it is walked.
  if (text.length === 0 || text.length > 2 * maxChars) return { kind: "length", max: maxChars };
  const chars = [...text];
  if (REFUSED.test(text)) {
    const index = chars.findIndex((c) => REFUSED.test(c));
    const c = chars[index]!;
    const found = CLASSES.find(([, p]) => p.test(c))!;
    return { kind: "character", codePoint: c.codePointAt(0)!, index, class: found[0] };
  }
  if (chars.length > maxChars) return { kind: "length", max: maxChars };
  if (text.startsWith(" ") || text.endsWith(" ") || text.includes("  ")) return { kind: "spaces" };
  if (PILED_MARKS.test(text.normalize("NFD"))) return { kind: "marks" };
  if (text.normalize("NFC") !== text) return { kind: "not-nfc" };
  return undefined;
}

/**
 * The text as a document capkit creates holds it: Unicode Normalization Form C (UAX #15), which changes no
 * visible character. Nothing else is changed: what stays unsafe is refused by {@link displayTextProblem}.
 *
 * @throws `INPUT_INVALID` for anything but a string
 */
export function normalizeDisplayText(text: string): string {
  return expectString(text, "the text").normalize("NFC");
}

/** The problem in words (English, for an error message): the code point in U+ notation, never the text. */
export function describeDisplayTextProblem(p: DisplayTextProblem): string {
  switch (p.kind) {
    case "length":
      return `must be 1 to ${p.max} characters`;
    case "character": {
      const u = p.codePoint.toString(16).toUpperCase().padStart(4, "0");
      return `holds U+${u} (a ${p.class} character) at character ${p.index + 1}: a screen would not show it as it is`;
    }
    case "spaces":
      return "must have no space at either end and one space between words";
    case "marks":
      return "holds a combining mark with no letter before it, or marks piled on one letter";
    case "not-nfc":
      return "must be in Unicode Normalization Form C (the same text in another spelling has another digest)";
  }
}
