import type { Command } from "commander";
import type { Run } from "../shared/output.js";

export function registerReaders(program: Command, run: Run): void {
  program
    .command("readers")
    .description(
      "PC/SC readers, whether a card is in each, and its ATR (--watch: live, until Ctrl-C; JSON lines with --json)",
    )
    .option("--watch", "then show readers and cards coming and going, until Ctrl-C")
    .action((o: { watch?: boolean }) =>
      run(async (out) => {
        const { PcscContext } = await import("@capkit/reader-pcsc");
        const ctx = await PcscContext.open();
        try {
          const readers = await ctx.readers();
          const list = () =>
            readers.length
              ? readers
                  .map((r) => `${r.name}: ${r.cardPresent ? `card, ATR ${r.atr}` : "no card"}`)
                  .join("\n")
              : "no reader";
          if (!o.watch) {
            out.result({ readers }, list);
            return 0;
          }
          // Live, line by line, until Ctrl-C: for people, and with --json as JSON lines (the readers now, then one
          // object per event the moment pcscd reports it), so a script reads each event as it happens.
          out.event({ type: "readers", readers }, `${list()}\nwatching: Ctrl-C to stop`);
          const stop = new AbortController();
          const onSignal = () => stop.abort();
          process.once("SIGINT", onSignal);
          process.once("SIGTERM", onSignal);
          try {
            for await (const e of ctx.events(stop.signal)) {
              if (e.reader === "") continue; // the context closing
              const at = new Date().toISOString();
              out.event(
                { at, ...e },
                `${at.slice(11, 19)} ${e.type.replace("-", " ")}: ${e.reader}${e.type === "card-inserted" ? ` (ATR ${e.atr})` : ""}`,
              );
            }
          } finally {
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
          }
          return 0;
        } finally {
          await ctx.close();
        }
      }),
    );
}
