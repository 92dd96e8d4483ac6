/**
 * The main job until the CLI and the simulators exist: a Sésame-style "Code" (identify, Mode 2) computed by
 * the CAP engine from a recorded French Visa DPA card session (doegox/EMV-CAP's public trace).
 */
import { readFileSync } from "node:fs";
import { generateCapCode, ReplayConnection, readerProfile, TracingConnection } from "@capkit/emv-cap";

const transcriptUrl = new URL(
  "../../packages/emv-cap/test/fixtures/transcripts/french-visa-dpa-identify.json",
  import.meta.url,
);
const card = new TracingConnection(new ReplayConnection(JSON.parse(readFileSync(transcriptUrl, "utf8"))), {
  onExchange: (e) => console.log(`  > ${e.c}\n  < ${e.r}`),
});

console.log("capkit demo: Sésame 'Code' on a recorded French Visa DPA card (PIN masked in the trace)\n");
const result = await generateCapCode(
  card,
  { mode: "identify" },
  { profile: readerProfile("sesame"), pin: "1234" },
);
console.log(`\napplication ${result.aid} "${result.label}", ATC ${result.atc}, ${result.bits}-bit IPB`);
console.log(
  `\n  ┌───────────┐\n  │ ${result.display} │   (expected from the trace: 3465 6023)\n  └───────────┘`,
);
if (result.code !== "34656023") {
  console.error("demo: unexpected code");
  process.exit(1);
}
