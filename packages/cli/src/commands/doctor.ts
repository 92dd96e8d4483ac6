import { closeSync, openSync, writeSync } from "node:fs";
import type { Check } from "@capkit/reader-pcsc";
import type { Command } from "commander";
import { type Run, usage } from "../shared/output.js";

const ICON = { ok: "✔", warn: "!", fail: "✘" } as const;

export function registerDoctor(program: Command, run: Run): void {
  program
    .command("doctor")
    .description(
      "support diagnosis: pcscd, readers, cards, CAP applications (no ATC spent unless --full), PIN tries, PIN pads, USB tokens",
    )
    .option(
      "--report <file>",
      "also write a support bundle to attach to a ticket (no PAN, PIN, key or usable code)",
    )
    .option(
      "--full",
      "also read the application's records (IPB, CDOL1): starts a transaction, so the card's ATC goes up by one",
    )
    .action((o: { report?: string; full?: boolean }) =>
      run(async (out) => {
        const pcsc = await import("@capkit/reader-pcsc");
        // The bundle's file is created (never overwritten, mode 0600) before the card is touched, so a bad
        // path fails first.
        let fd: number | undefined;
        if (o.report !== undefined) {
          try {
            fd = openSync(o.report, "wx", 0o600);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            throw usage(
              code === "EEXIST" ? `${o.report} already exists` : `cannot create ${o.report}: ${code}`,
              code === "EEXIST" ? "give a new file name: a report never overwrites a file" : undefined,
            );
          }
        }
        // Each check is printed the moment it is made (a JSON line with --json): a slow reader or card shows
        // where it is, and the result line at the end carries everything again.
        const line = (c: Check) =>
          `${ICON[c.verdict]} ${c.check}: ${c.detail}${c.hint ? `\n    hint: ${c.hint}` : ""}`;
        let diagnosis: Awaited<ReturnType<typeof pcsc.diagnose>>;
        try {
          // Without --full the card is only SELECTed: a diagnosis spends no ATC unless asked to, and says so first.
          diagnosis = await pcsc.diagnose({
            capkitVersion: program.version() ?? "unknown",
            onCheck: (c) => out.event({ type: "check", ...c }, line(c)),
            ...(o.full ? { full: true } : {}),
          });
          if (fd !== undefined) writeSync(fd, `${JSON.stringify(pcsc.supportReport(diagnosis), null, 2)}\n`);
        } finally {
          if (fd !== undefined) closeSync(fd);
        }
        const { checks, versions } = diagnosis;
        const worst = pcsc.worstVerdict(checks);
        if (out.json || o.report !== undefined)
          out.event(
            {
              type: "result",
              verdict: worst,
              checks,
              versions,
              ...(o.report !== undefined ? { report: o.report } : {}),
            },
            `support bundle written to ${o.report} (no PAN, PIN, key or usable code)`,
          );
        // 0 only when every check passed: a warning (no card, one PIN try left…) needs someone to act.
        return worst === "ok" ? 0 : 1;
      }),
    );
}
