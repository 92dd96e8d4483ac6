import type { Command } from "commander";
import { type CardSourceOptions, cardSourceOptions, loadProfile, openCard } from "../shared/card-source.js";
import { maskPan, type Run } from "../shared/output.js";

export function registerCard(program: Command, run: Run): void {
  const card = program.command("card").description("chip card information");
  cardSourceOptions(
    card
      .command("info")
      .description("the card's CAP/DPA application data (no PIN needed; GPO counts one ATC)"),
  )
    .option("--profile <name|file>", "reader profile used to select the application")
    .option("--show-pan", "show the whole PAN (masked by default)")
    .action((o: CardSourceOptions & { profile?: string; showPan?: boolean }) =>
      run(async (out) => {
        const emv = await import("@capkit/emv-cap");
        const { profileGuess } = await import("@capkit/reader-pcsc");
        const profile = await loadProfile(o.profile);
        const c = await openCard(o, out);
        try {
          const app = await emv.readCapApplication(c.conn, profile ? { profile } : {});
          const tries = await emv.readPinTryCounter(c.conn);
          const panValue = app.data.get(emv.TAG.PAN);
          const expiry = app.data.get(emv.TAG.EXPIRY);
          const pan = panValue ? emv.formatTagValue(emv.TAG.PAN, panValue) : undefined;
          const info = {
            atr: emv.toHex(c.conn.atr),
            aid: app.aid,
            label: app.label ?? null,
            pan: pan ? (o.showPan ? pan : maskPan(pan)) : null,
            psn: app.psn ? emv.toHex(app.psn) : null,
            expiry: expiry ? emv.toHex(expiry) : null,
            aip: emv.toHex(app.aip),
            afl: emv.toHex(app.afl),
            iaf: emv.toHex(Uint8Array.of(app.iaf)),
            ipb: app.ipb ? emv.toHex(app.ipb) : null,
            ipbBits: app.ipb ? emv.ipbBitCount(app.ipb) : null,
            cdol1: emv.describeDol(app.cdol1),
            cdol2: app.cdol2 ? emv.describeDol(app.cdol2) : null,
            pinTriesLeft: tries ?? null,
            profileGuess: profileGuess(app.aid, app.label),
            readerApplication: app.reader.application.id,
            warnings: app.warnings,
          };
          out.result(info, () =>
            Object.entries(info)
              .map(([k, v]) => `${k.padEnd(13)} ${v ?? "—"}`)
              .join("\n"),
          );
          return 0;
        } finally {
          await c.close();
        }
      }),
    );
}
