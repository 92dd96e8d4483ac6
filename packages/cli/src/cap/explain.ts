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
  /** The profile's set of constants the reader sent to this application, and where they come from. */
  readonly constants: {
    readonly id: string;
    readonly name: string;
    readonly source: string;
    /** No public recording shows them: assumed. */
    readonly assumed: boolean;
    /** The profile has none for this application: its first set stood in. */
    readonly fallback: boolean;
  };
  readonly cdol1: readonly CdolSource[];
  /** Profile constants the card did not ask for (they change nothing for this card). */
  readonly unusedProfileTags: readonly string[];
  readonly formula: CapResult["formula"];
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
  const app = profile.applications.find((a) => a.id === r.readerApplication) ?? profile.applications[0]!;
  const fallback = !app.aids.includes(r.aid);
  const constants = new Map(Object.entries(app.terminalData).map(([t, v]) => [t.toUpperCase(), v]));
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
  if (fallback)
    notes.push(
      `${profile.name} has no constants for ${r.aid}: it sent its ${app.name} ones, which a reader made for this application may not send`,
    );
  if (app.assumed) notes.push(`no public recording shows these constants: ${app.source}`);
  if (r.formula === "belgian")
    notes.push(
      "the code is the Belgian readers' formula over the AC and ATC (docs/architecture.md §3.5), not an IPB selection",
    );
  if (r.warnings.some((w) => w.includes("no IPB")))
    notes.push("the card has no IPB: the code uses the profile's fallback IPB, which the bank may not use");
  for (const u of profile.unsupported ?? []) if (u.modes.includes(r.mode)) notes.push(u.text);
  return {
    profile: profile.name,
    description: profile.description,
    constants: { id: app.id, name: app.name, source: app.source, assumed: app.assumed, fallback },
    cdol1,
    unusedProfileTags: [...constants.keys()].filter((t) => !asked.has(t)),
    formula: r.formula,
    ipb: r.ipb,
    iaf: r.iaf,
    notes,
  };
}

export function formatExplanation(x: Explanation): string {
  return [
    `profile ${x.profile}: ${x.description}`,
    `constants "${x.constants.id}" (${x.constants.name})${x.constants.fallback ? ", not made for this application" : ""}${x.constants.assumed ? ", assumed" : ""}: from ${x.constants.source}`,
    "CDOL1, as sent:",
    ...x.cdol1.map(
      (e) => `  ${e.tag.padEnd(4)} ${e.name.slice(0, 38).padEnd(38)} ${e.sent.padEnd(12)} ${e.source}`,
    ),
    ...(x.unusedProfileTags.length
      ? [`profile constants the card did not ask for: ${x.unusedProfileTags.join(", ")}`]
      : []),
    x.formula === "belgian" ? `code: the Belgian formula, IAF ${x.iaf}` : `IPB ${x.ipb}, IAF ${x.iaf}`,
    ...x.notes.map((n) => `note: ${n}`),
  ].join("\n");
}
