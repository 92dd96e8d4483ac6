/**
 * Hostile texts for the doors that take a text a screen shows (payees' names: @capkit/provision's display-text
 * rule), shared by the tests of every door — the document's parser and builder, the approvals' `create`, a
 * bank's form — so that each is tried with the same attacks. The classes and ranges are the Unicode Character
 * Database's (UCD 15.0.0: UnicodeData.txt, DerivedCoreProperties.txt's Default_Ignorable_Code_Point,
 * extracted/DerivedGeneralCategory.txt), never the rule's own code.
 */

/** The most characters of a payee's name (SEPA's 70), counted in code points. */
const MAX = 70;
const A70 = "A".repeat(MAX);
const E_NFC = "\u00e9";
const E_NFD = "e\u0301";

/**
 * Name, what it tries, what a parser (device side: a document as received) answers, and what the builder
 * (bank side: `createOperation`, which makes names NFC) answers: "refused", or the name the document holds.
 */
export const HOSTILE_NAMES: readonly (readonly [
  what: string,
  name: string,
  parsed: "refused" | "accepted",
  created: string,
])[] = [
  ["Trojan Source: RLO shows the rest reversed", "Garage Martin \u202e4321", "refused", "refused"],
  ["an override closed by PDF", "\u202dMartin\u202c", "refused", "refused"],
  ["an isolate, LRI … PDI", "Martin \u2066SARL\u2069", "refused", "refused"],
  ["a first-strong isolate", "\u2068Martin\u2069", "refused", "refused"],
  ["an embedding", "\u202bMartin", "refused", "refused"],
  ["a right-to-left mark", "Martin\u200f SARL", "refused", "refused"],
  ["an Arabic letter mark", "Martin\u061c", "refused", "refused"],
  ["a zero-width space: « Martin » twice", "Mar\u200btin", "refused", "refused"],
  ["a zero-width joiner", "Mar\u200dtin", "refused", "refused"],
  ["a word joiner", "Mar\u2060tin", "refused", "refused"],
  ["a byte-order mark in front", "\ufeffMartin", "refused", "refused"],
  ["a soft hyphen", "Mar\u00adtin", "refused", "refused"],
  ["tag characters smuggling text", "Martin\u{e0041}\u{e0042}", "refused", "refused"],
  ["a line separator", "Martin\u2028SARL", "refused", "refused"],
  ["a paragraph separator", "Martin\u2029SARL", "refused", "refused"],
  ["a no-break space for a space", "Jean\u00a0Dupont", "refused", "refused"],
  ["an ideographic space", "Jean\u3000Dupont", "refused", "refused"],
  ["a tab", "Jean\tDupont", "refused", "refused"],
  ["a line feed", "Jean\nDupont", "refused", "refused"],
  ["NEL", "Jean\u0085Dupont", "refused", "refused"],
  ["a private-use character", "Martin \ue000", "refused", "refused"],
  ["an astral private-use character", "Martin \u{f0000}", "refused", "refused"],
  ["an unassigned code point", "Martin \u0378", "refused", "refused"],
  ["a noncharacter", "Martin \ufffe", "refused", "refused"],
  ["a lone high surrogate", "Martin \ud800", "refused", "refused"],
  ["a lone low surrogate", "\udc00Martin", "refused", "refused"],
  ["a Hangul filler: a name that shows nothing", "\u3164", "refused", "refused"],
  ["a Hangul filler inside", "Mar\u3164tin", "refused", "refused"],
  ["a variation selector", "Martin\ufe0f", "refused", "refused"],
  ["a combining grapheme joiner", "Mar\u034ftin", "refused", "refused"],
  ["a mark first, joining the label before it", "\u0301Martin", "refused", "refused"],
  ["five marks piled on a letter", "Mx\u0301\u0302\u0303\u0304\u0306", "refused", "refused"],
  ["the same mark twice (é + acute)", `Caf${E_NFC}\u0301`, "refused", "refused"],
  ["mixed: zero-width, override and separator", "Dupont\u200b\u202eLRAS\u2028", "refused", "refused"],
  ["empty", "", "refused", "refused"],
  ["a space alone", " ", "refused", "refused"],
  ["a space in front", " Martin", "refused", "refused"],
  ["a space at the end", "Martin ", "refused", "refused"],
  ["two spaces (a web page shows one)", "Jean  Dupont", "refused", "refused"],
  ["70 characters", A70, "accepted", A70],
  ["71 characters", `${A70}A`, "refused", "refused"],
  ["70 astral characters (140 UTF-16 units)", "\u{1d504}".repeat(MAX), "accepted", "\u{1d504}".repeat(MAX)],
  ["71 astral characters", "\u{1d504}".repeat(MAX + 1), "refused", "refused"],
  ["70 accented letters, NFC", E_NFC.repeat(MAX), "accepted", E_NFC.repeat(MAX)],
  ["35 accented letters, NFD: 70 code points", E_NFD.repeat(35), "refused", E_NFC.repeat(35)],
  ["valid only once normalized: 36 NFD é, 72 code points", E_NFD.repeat(36), "refused", E_NFC.repeat(36)],
  ["70 code points that NFC makes 71 (U+0958 decomposes)", `${"a".repeat(69)}\u0958`, "refused", "refused"],
  ["OHM SIGN, which NFC makes omega", "Studio \u2126", "refused", "Studio \u03a9"],
  ["NFD café", `Caf${E_NFD}`, "refused", `Caf${E_NFC}`],
  ["NFC café", `Caf${E_NFC}`, "accepted", `Caf${E_NFC}`],
  [
    "Latin with Cyrillic look-alikes (real names mix scripts)",
    "P\u0430yP\u0430l",
    "accepted",
    "P\u0430yP\u0430l",
  ],
  [
    "a right-to-left name (letters, no control)",
    "\u05e9\u05dc\u05d5\u05dd Martin",
    "accepted",
    "\u05e9\u05dc\u05d5\u05dd Martin",
  ],
  [
    "apostrophes, hyphens, ampersand",
    "L\u2019Or\u00e9al & Fils-Martin",
    "accepted",
    "L\u2019Or\u00e9al & Fils-Martin",
  ],
];

/**
 * Ranges of code points every one of which is refused in a name (inclusive), by the UCD's classes: a property
 * test draws from them.
 */
export const REFUSED_RANGES: readonly (readonly [min: number, max: number])[] = [
  [0x00, 0x1f], // Cc
  [0x7f, 0x9f], // Cc
  [0x00a0, 0x00a0], // Zs, not U+0020
  [0x00ad, 0x00ad], // Cf
  [0x034f, 0x034f], // Mn, Default_Ignorable_Code_Point
  [0x0378, 0x0379], // Cn
  [0x061c, 0x061c], // Cf
  [0x115f, 0x1160], // Lo, Default_Ignorable_Code_Point
  [0x1680, 0x1680], // Zs
  [0x180e, 0x180e], // Cf
  [0x2000, 0x200a], // Zs
  [0x200b, 0x200f], // Cf
  [0x2028, 0x2029], // Zl, Zp
  [0x202a, 0x202e], // Cf: embeddings, overrides
  [0x202f, 0x202f], // Zs
  [0x205f, 0x205f], // Zs
  [0x2060, 0x2069], // Cf, Cn (2065): joiners, invisible operators, isolates
  [0x3000, 0x3000], // Zs
  [0x3164, 0x3164], // Lo, Default_Ignorable_Code_Point
  [0xd800, 0xdfff], // Cs
  [0xe000, 0xf8ff], // Co
  [0xfdd0, 0xfdef], // Cn: noncharacters
  [0xfe00, 0xfe0f], // Mn, Default_Ignorable_Code_Point: variation selectors
  [0xfeff, 0xfeff], // Cf
  [0xffa0, 0xffa0], // Lo, Default_Ignorable_Code_Point
  [0xfffe, 0xffff], // Cn: noncharacters
  [0xe0000, 0xe0fff], // Cf, Mn, Cn: tags, variation selectors, reserved — all Default_Ignorable_Code_Point
  [0xf0000, 0x10ffff], // Co, planes 15–16, and their noncharacters (Cn)
];

/** A code point as a JavaScript string holds it (a surrogate alone, as strings can). */
export function codePointText(cp: number): string {
  return cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
}
