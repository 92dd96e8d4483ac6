import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  READER_EVENTS,
  READER_STATES,
  type ReaderState,
  SESAME_DELAYS,
  SESAME_MACHINE,
  type Transition,
} from "../src/index.js";

/**
 * The Sésame reader's table as docs/architecture.md §5.1 draws it: the diagram there is this function's output,
 * so the doc cannot drift from src/sesame/machine.ts. After changing the table, `CAPKIT_DOCS=1` rewrites it.
 */
const DOC = new URL("../../../docs/architecture.md", import.meta.url);
const BEGIN = "<!-- sesame-machine: generated from packages/token-sim/src/sesame/machine.ts -->";
const END = "<!-- /sesame-machine -->";

const id = (s: ReaderState) => s.replace(/-/g, "_");
const label = (event: string, t: Transition) =>
  `${event}${t.guard ? ` [${t.guard}]` : ""}${t.action ? ` / ${t.action}` : ""}`;

function sesameMermaid(): string {
  const out = ["```mermaid", "stateDiagram-v2"];
  for (const s of READER_STATES) if (s.includes("-")) out.push(`  state "${s}" as ${id(s)}`);
  out.push("  [*] --> off");
  // The card slot is the same in every state (a test below checks it): drawn once, as a note.
  const slot = (["cardIn", "cardOut"] as const).map((e) => `${e} → ${SESAME_MACHINE.off.on[e]![0]!.target}`);
  for (const s of READER_STATES) {
    const node = SESAME_MACHINE[s];
    for (const event of READER_EVENTS) {
      if (event === "cardIn" || event === "cardOut") continue;
      for (const t of node.on[event] ?? []) out.push(`  ${id(s)} --> ${id(t.target)} : ${label(event, t)}`);
    }
    if (node.after)
      out.push(
        `  ${id(s)} --> ${id(node.after.target)} : after ${node.after.delay} (${SESAME_DELAYS[node.after.delay] / 1000} s)`,
      );
    if (node.entry) out.push(`  note right of ${id(s)} : on entry / ${node.entry}`);
  }
  out.push(`  note left of off : from every state, ${slot.join(", ")}`);
  out.push("```");
  return out.join("\n");
}

describe("docs/architecture.md §5.1", () => {
  it("draws the Sésame reader's table as it is", () => {
    const doc = readFileSync(DOC, "utf8");
    const from = doc.indexOf(BEGIN);
    const to = doc.indexOf(END);
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    const drawn = doc.slice(from + BEGIN.length, to).trim();
    const expected = sesameMermaid();
    if (drawn !== expected && process.env["CAPKIT_DOCS"] === "1")
      writeFileSync(DOC, `${doc.slice(0, from + BEGIN.length)}\n${expected}\n${doc.slice(to)}`);
    else expect(drawn).toBe(expected);
  });

  it("may draw the card slot once because every state has the same", () => {
    for (const s of READER_STATES)
      for (const e of ["cardIn", "cardOut"] as const)
        expect(SESAME_MACHINE[s].on[e]).toEqual(SESAME_MACHINE.off.on[e]);
  });
});
