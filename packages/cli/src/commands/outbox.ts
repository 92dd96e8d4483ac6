import { existsSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type { Command } from "commander";
import { type Run, usage } from "../shared/output.js";
import { tablePrefix, tablePrefixOption } from "../shared/store.js";
import { DEFAULT_OUTBOX } from "./provision.js";

/**
 * `capkit outbox`: the development outbox, where `capkit provision start` (and the example bank in development)
 * put the codes they "send". It holds codes in clear: development only.
 */
export function registerOutbox(program: Command, run: Run): void {
  tablePrefixOption(
    program
      .command("outbox")
      .description("development only: the SMS and letters the activation codes went to (codes in clear)")
      .option("--outbox <file>", "the development outbox file", DEFAULT_OUTBOX),
  )
    .option("--to <recipient>", "only the messages to this phone number or address")
    .option("--limit <n>", "the newest this many (1–1000)", "20")
    .option("--clear", "forget every message")
    .action((o: { outbox: string; to?: string; limit: string; clear?: boolean; tablePrefix?: string }) =>
      run(async (out) => {
        if (!/^[0-9]{1,4}$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 1000)
          throw usage("--limit is 1 to 1000");
        if (!existsSync(o.outbox))
          throw new CapkitError("STORE_UNAVAILABLE", `no outbox at ${o.outbox}`, {
            hint: "capkit provision start makes it; or give --outbox",
          });
        const { SqliteDevOutbox } = await import("@capkit/verify/sqlite");
        const prefix = tablePrefix(o);
        const box = new SqliteDevOutbox(o.outbox, prefix === undefined ? {} : { tablePrefix: prefix });
        try {
          if (o.clear) {
            const cleared = await box.clear();
            out.result({ cleared }, `${cleared} message(s) forgotten`);
            return 0;
          }
          const messages = await box.list({ limit: Number(o.limit), ...(o.to ? { to: o.to } : {}) });
          out.result({ messages }, () =>
            messages.length === 0
              ? "no message"
              : messages
                  .map(
                    (m) => `#${m.seq} ${new Date(m.at).toISOString()} ${m.feature} to ${m.to}\n  ${m.text}`,
                  )
                  .join("\n"),
          );
          return 0;
        } finally {
          await box.close();
        }
      }),
    );
}
