import { CapkitError } from "@capkit/core";
import type { Command } from "commander";
import { type CardSourceOptions, cardSourceOptions, openCard } from "../shared/card-source.js";
import { type Run, usage } from "../shared/output.js";

const INS_VERIFY = 0x20;

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
        const r = emv.parseResponse(await c.conn.transmit(cmd));
        exchanges.push({
          c: emv.maskedCommandHex(cmd),
          r: emv.toHex(r.data),
          sw: emv.swHex(r.sw),
          meaning: emv.describeSw(r.sw),
          ...(by ? { by } : {}),
        });
        return r;
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
          if (cmd[1] === INS_VERIFY && cmd.length > 5) await guardPinTry(cmd, o.force ?? false, send);
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
 * A VERIFY through `apdu` is as careful as `cap code` (docs/architecture.md §3.9): read the try counter (GET DATA 9F17)
 * first, and do not spend the last try, or one that cannot be counted, without --force.
 */
async function guardPinTry(
  verify: Uint8Array,
  force: boolean,
  send: (cmd: Uint8Array, by?: "capkit") => Promise<{ data: Uint8Array; sw: number }>,
): Promise<void> {
  const emv = await import("@capkit/emv-cap");
  const r = await send(Uint8Array.of(0x80, 0xca, 0x9f, 0x17, 0x00), "capkit");
  let tries: number | undefined;
  if (r.sw === emv.SW_SUCCESS) {
    try {
      const v = emv.findTlv(emv.decodeTlv(r.data), emv.TAG_PIN_TRY_COUNTER)?.value;
      tries = v?.length === 1 ? v[0] : undefined;
    } catch {
      tries = undefined;
    }
  }
  if (tries === 0)
    throw new CapkitError("PIN_BLOCKED", "the card's PIN is blocked (no tries left): VERIFY not sent", {
      hint: "only the bank can unblock it",
    });
  if (force) return;
  if (tries === undefined)
    throw new CapkitError("PIN_TRIES_UNKNOWN", "the card does not report its PIN tries: VERIFY not sent", {
      hint: `select the application first (GET DATA 9F17 answered ${emv.swHex(r.sw)}), or use --force if you are sure of the PIN`,
    });
  if (tries <= 1)
    throw new CapkitError("PIN_TRIES_LOW", "only 1 PIN try left: VERIFY not sent", {
      hint: "a wrong PIN would block the card; use --force if you are sure",
      details: { triesLeft: tries, verify: emv.maskedCommandHex(verify) },
    });
}
