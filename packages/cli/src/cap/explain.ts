import type { CapResult, ReaderProfile } from "@capkit/emv-cap";

/**
 * "The bank rejects my codes": every CDOL1 byte enters the cryptogram (docs/architecture.md §3.4), so the first thing
 * to compare is where each value the card asked for came from — the reader profile's constants, the holder's
 * input, or zeros because the profile has nothing for that tag (a real reader may send something there).
 */
export interface CdolSource {
  readonly tag: string;
  readonly name: string;
  readonly length: number;
  readonly sent: string;
  /** "none in this mode": an input the mode leaves empty (identify has no challenge), sent as zeros by design. */
  readonly source: "profile" | "challenge" | "amount" | "currency" | "none in this mode" | "zero-filled";
}

export interface Explanation {
  readonly profile: string;
  readonly description: string;
  readonly cdol1: readonly CdolSource[];
  /** Profile constants the card did not ask for (they change nothing for this card). */
  readonly unusedProfileTags: readonly string[];
  readonly ipb: string;
  readonly iaf: string;
  readonly notes: readonly string[];
}

const INPUT_TAGS: Readonly<Record<string, CdolSource["source"]>> = {
  "9F37": "challenge",
  "9F02": "amount",
  "5F2A": "currency",
};

export function explainCapCode(
  r: CapResult,
  profile: ReaderProfile,
  tagName: (tag: number) => string,
): Explanation {
  const constants = new Map(Object.entries(profile.terminalData).map(([t, v]) => [t.toUpperCase(), v]));
  const cdol1 = r.cdol1.map(({ tag, value }): CdolSource => {
    const t = tag.toUpperCase();
    const input = INPUT_TAGS[t];
    const used =
      input === "challenge" ? r.mode !== "identify" : input !== undefined ? r.mode === "sign" : false;
    const source = input
      ? used
        ? input
        : "none in this mode"
      : constants.has(t)
        ? "profile"
        : "zero-filled";
    return { tag: t, name: tagName(Number.parseInt(t, 16)), length: value.length / 2, sent: value, source };
  });
  const asked = new Set(cdol1.map((e) => e.tag));
  const notes: string[] = [];
  for (const e of cdol1) {
    if (e.source === "zero-filled")
      notes.push(
        `${e.tag} (${e.name}): the card asks for it and ${profile.name} sends zeros; the bank's reader may not`,
      );
    if (e.tag === "9A" && e.source === "profile")
      notes.push(
        `9A (transaction date) = ${e.sent}: Sésame and Visa DPA readers send 010101, Mastercard CAP readers 000000 — try the other profile if codes are rejected`,
      );
  }
  if (r.warnings.some((w) => w.includes("no IPB")))
    notes.push("the card has no IPB: the code uses the profile's fallback IPB, which the bank may not use");
  return {
    profile: profile.name,
    description: profile.description,
    cdol1,
    unusedProfileTags: [...constants.keys()].filter((t) => !asked.has(t)),
    ipb: r.ipb,
    iaf: r.iaf,
    notes,
  };
}

export function formatExplanation(x: Explanation): string {
  return [
    `profile ${x.profile}: ${x.description}`,
    "CDOL1, as sent:",
    ...x.cdol1.map(
      (e) => `  ${e.tag.padEnd(4)} ${e.name.slice(0, 38).padEnd(38)} ${e.sent.padEnd(12)} ${e.source}`,
    ),
    ...(x.unusedProfileTags.length
      ? [`profile constants the card did not ask for: ${x.unusedProfileTags.join(", ")}`]
      : []),
    `IPB ${x.ipb}, IAF ${x.iaf}`,
    ...x.notes.map((n) => `note: ${n}`),
  ].join("\n");
}
