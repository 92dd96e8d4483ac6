import { CapkitError } from "@capkit/core";
import type { CardConnection } from "@capkit/emv-cap";
import type { Command } from "commander";
import { type CardSourceOptions, cardSourceOptions, openCard } from "../shared/card-source.js";
import { type Run, usage } from "../shared/output.js";

interface Exchange {
  c: string;
  r: string;
  sw: string;
  meaning: string;
  /** Sent by capkit itself (the PIN try counter read before a VERIFY), not one of the user's commands. */
  by?: "capkit";
}

export function registerApdu(program: Command, run: Run): void {
  cardSourceOptions(
    program
      .command("apdu")
      .description("send raw APDUs to a card (PIN blocks and cardholder data masked in all output)")
      .argument("<hex...>", "command APDUs in hex")
      .option("--force", "send a VERIFY even with one PIN try left, or an unknown number")
      .option(
        "--unredacted",
        "show the cardholder data (PAN, track 2, expiry, name) in clear: a lab's own cards only",
      ),
  ).action((hex: string[], o: CardSourceOptions & { force?: boolean; unredacted?: boolean }) =>
    run(async (out) => {
      const emv = await import("@capkit/emv-cap");
      // Every argument is checked before the card is touched: a bad third APDU must not cost the PIN try
      // the second one would spend.
      const commands = hex.map((h, i) => {
        let bytes: Uint8Array;
        try {
          bytes = emv.fromHex(h, `APDU ${i + 1}`);
          emv.parseCommand(bytes);
        } catch (e) {
          // The argument itself is not echoed: it may be a VERIFY with a PIN in it.
          if (e instanceof CapkitError)
            throw usage(
              `APDU ${i + 1} of ${hex.length}: ${e.message.replace(/^APDU \d+: /, "")}`,
              "nothing was sent",
            );
          throw e;
        }
        return bytes;
      });
      const c = await openCard(o, out);
      const exchanges: Exchange[] = [];
      const send = async (cmd: Uint8Array, by?: "capkit") => {
        const raw = await c.conn.transmit(cmd);
        const r = emv.parseResponse(raw);
        exchanges.push({
          c: emv.maskedCommandHex(cmd),
          r: emv.toHex(r.data),
          sw: emv.swHex(r.sw),
          meaning: emv.describeSw(r.sw),
          ...(by ? { by } : {}),
        });
        return raw;
      };
      // What is shown goes through the same redaction as a shared trace (docs/transcript-format.md): a terminal,
      // a scrollback or a pasted ticket never holds a PAN, track 2, expiry or name unless asked for.
      const shown = (list: readonly Exchange[]): Exchange[] => {
        if (o.unredacted) return [...list];
        const t = emv.redactTranscript({
          format: emv.TRANSCRIPT_FORMAT,
          atr: emv.toHex(c.conn.atr),
          exchanges: list.map((e) => ({ c: e.c, r: e.r + e.sw })),
        });
        return list.map((e, i) => ({ ...e, c: t.exchanges[i]!.c, r: t.exchanges[i]!.r.slice(0, -4) }));
      };
      const print = (e: Exchange) =>
        `${e.by ? "(capkit) " : ""}> ${e.c}\n${e.by ? "(capkit) " : ""}< ${e.r} ${e.sw} (${e.meaning})`;
      try {
        for (const cmd of commands) {
          if (cmd[1] === emv.INS.VERIFY && cmd.length > 5)
            await guardPinTry(cmd, o.force ?? false, c.conn, send);
          await send(cmd);
        }
      } catch (e) {
        // The exchanges that happened are shown even when a later step fails: they may have changed the card.
        await c.close().catch(() => {});
        if (!(e instanceof CapkitError) || exchanges.length === 0) throw e;
        if (!out.json) process.stdout.write(`${shown(exchanges).map(print).join("\n")}\n`);
        throw new CapkitError(e.code, e.message, {
          ...(e.hint ? { hint: e.hint } : {}),
          details: { ...e.details, exchanges: shown(exchanges) },
        });
      }
      await c.close();
      const result = shown(exchanges);
      out.result({ exchanges: result, redacted: !o.unredacted }, () => result.map(print).join("\n"));
      return 0;
    }),
  );
}

/**
 * A VERIFY through `apdu` follows the PIN-try rule of `cap code` (emv-cap's pin-safety.ts, docs/architecture.md
 * §3.9): the try counter is read first (GET DATA 9F17, shown as capkit's own exchange), and the last try, or one
 * that cannot be counted, is not spent without --force.
 */
async function guardPinTry(
  verify: Uint8Array,
  force: boolean,
  conn: CardConnection,
  send: (cmd: Uint8Array, by: "capkit") => Promise<Uint8Array>,
): Promise<void> {
  const emv = await import("@capkit/emv-cap");
  let answered: number | undefined;
  const tries = await emv.readPinTryCounter({
    atr: conn.atr,
    transmit: async (cmd) => {
      const raw = await send(cmd, "capkit");
      answered = emv.parseResponse(raw).sw;
      return raw;
    },
    close: async () => {},
  });
  const verdict = emv.pinTryVerdict(tries, { force });
  if (verdict === "verify") return;
  throw emv.pinTryRefusal(verdict, tries, {
    ...(verdict === "unknown"
      ? { context: `GET DATA 9F17 answered ${emv.swHex(answered ?? 0)}: select the application first` }
      : {}),
    details: { verify: emv.maskedCommandHex(verify) },
  });
}
