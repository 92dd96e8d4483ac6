import type { Command } from "commander";
import type { Run } from "../shared/output.js";

export function registerReaders(program: Command, run: Run): void {
  program
    .command("readers")
    .description("PC/SC readers, whether a card is in each, and its ATR (--watch: live, until Ctrl-C)")
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
          // Live lines for people; with --json, one document when the watch ends (Ctrl-C).
          if (!out.json) process.stdout.write(`${list()}\nwatching: Ctrl-C to stop\n`);
          const stop = new AbortController();
          const onSignal = () => stop.abort();
          process.once("SIGINT", onSignal);
          process.once("SIGTERM", onSignal);
          const events: { at: string; type: string; reader: string; atr?: string }[] = [];
          try {
            for await (const e of ctx.events(stop.signal)) {
              if (e.reader === "") continue; // the context closing
              const at = new Date().toISOString();
              events.push({ at, ...e });
              if (!out.json)
                process.stdout.write(
                  `${at.slice(11, 19)} ${e.type.replace("-", " ")}: ${e.reader}${e.type === "card-inserted" ? ` (ATR ${e.atr})` : ""}\n`,
                );
            }
          } finally {
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
          }
          if (out.json) out.result({ readers, events }, "");
          return 0;
        } finally {
          await ctx.close();
        }
      }),
    );
}
