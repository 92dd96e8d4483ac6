import { existsSync, readFileSync, statSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import type { CardConnection, PinEntry, ReaderProfile } from "@capkit/emv-cap";
import type { Command } from "commander";
import type { Output } from "./output.js";
import { usage } from "./output.js";
import { TraceFile } from "./trace-file.js";

/** The options that choose the card a command talks to. */
export function cardSourceOptions(cmd: Command): Command {
  return cmd
    .option(
      "--reader <name>",
      "PC/SC reader: its name or a unique part of it (default: the one holding a card)",
    )
    .option("--sim <file>", "a simulated card file instead")
    .option("--transcript <file>", "a recorded session instead");
}

/**
 * A transcript is a few kilobytes (one CAP session is ~20 exchanges); anything past this is not one, and
 * parsing it whole would take seconds and gigabytes before failing.
 */
export const MAX_TRANSCRIPT_BYTES = 1024 * 1024;

/** A transcript's text, refused by size before it is read. */
export function readTranscriptText(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw usage(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (size > MAX_TRANSCRIPT_BYTES)
    throw new CapkitError(
      "TRANSCRIPT_TOO_LARGE",
      `${path} is ${size} bytes: a transcript is at most ${MAX_TRANSCRIPT_BYTES} bytes`,
      {
        hint: "give the file written by capkit cap code --trace",
        details: { size, max: MAX_TRANSCRIPT_BYTES },
      },
    );
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw usage(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

export interface CardSourceOptions {
  readonly reader?: string;
  readonly transcript?: string;
  readonly sim?: string;
  readonly trace?: string;
  /**
   * Keep PAN, expiry, track 2, name and the cryptogram in the trace (a lab's own cards); redacted by default,
   * so that a trace attached to a ticket carries no usable code.
   */
  readonly traceUnredacted?: boolean;
}

export interface OpenCard {
  readonly conn: CardConnection;
  readonly source: string;
  /** The reader's PIN pad, when it has one. */
  readonly pinpad: PinEntry | undefined;
  close(): Promise<void>;
}

/**
 * The card a command talks to: a simulated card file (--sim), a recorded transcript (--transcript), or a
 * PC/SC reader (--reader, or the first reader with a card). PC/SC is imported only here, when needed, so
 * commands that never touch a reader start without it.
 */
export async function openCard(o: CardSourceOptions, out: Output): Promise<OpenCard> {
  const chosen = [o.sim, o.transcript, o.reader].filter((x) => x !== undefined).length;
  if (chosen > 1) throw usage("choose one of --reader, --transcript and --sim");
  const emv = await import("@capkit/emv-cap");
  if (o.traceUnredacted && o.trace === undefined) throw usage("--trace-unredacted goes with --trace <file>");
  // The trace path is checked (and the file claimed) before anything reaches the card.
  const traceFile = o.trace === undefined ? undefined : TraceFile.claim(o.trace);
  try {
    return await openTraced(o, out, emv, traceFile);
  } catch (e) {
    traceFile?.discard();
    throw e;
  }
}

async function openTraced(
  o: CardSourceOptions,
  out: Output,
  emv: typeof import("@capkit/emv-cap"),
  traceFile: TraceFile | undefined,
): Promise<OpenCard> {
  let opened: OpenCard;
  if (o.sim !== undefined) {
    const { openCardStateFile } = await import("@capkit/token-sim/node");
    const card = openCardStateFile(o.sim);
    opened = { conn: card, source: `simulated card ${o.sim}`, pinpad: undefined, close: () => card.close() };
  } else if (o.transcript !== undefined) {
    const text = readTranscriptText(o.transcript);
    const conn = new emv.ReplayConnection(text);
    opened = { conn, source: `transcript ${o.transcript}`, pinpad: undefined, close: () => conn.close() };
  } else {
    const { PcscContext, chooseReader } = await import("@capkit/reader-pcsc");
    const ctx = await PcscContext.open();
    try {
      // One rule for which reader (reader-pcsc's chooseReader): two cards and no --reader is an error.
      let chosen = chooseReader(await ctx.readers(), o.reader);
      if (!chosen) {
        out.info("Insert the card (waiting up to 60 s)…");
        chosen = await ctx.waitForCard({ timeoutMs: 60_000 });
      }
      const reader = chosen.name;
      // Held exclusively for the whole session: a second program gets CARD_BUSY instead of interleaving.
      const conn = await ctx.connect(reader);
      out.info(`Card in ${reader}: held by capkit until this command ends`);
      const pinpad = await conn.pinpad();
      opened = {
        conn,
        source: `reader ${reader}`,
        pinpad,
        close: async () => {
          await conn.close();
          await ctx.close();
        },
      };
    } catch (e) {
      await ctx.close();
      throw e;
    }
  }
  if (traceFile === undefined) return opened;
  const traced = new emv.TracingConnection(opened.conn, { note: `capkit ${opened.source}` });
  return {
    ...opened,
    conn: traced,
    close: async () => {
      try {
        await opened.close();
      } finally {
        const t = traced.transcript();
        traceFile.write(o.traceUnredacted ? t : emv.redactTranscript(t));
        out.info(
          `APDU trace written to ${traceFile.path} (PIN masked${o.traceUnredacted ? "; cardholder data and cryptogram NOT redacted: it replays to the code" : ", cardholder data and cryptogram redacted: it carries no usable code"})`,
        );
      }
    },
  };
}

/** A profile by name, or a JSON file with a custom one. */
export async function loadProfile(nameOrFile: string | undefined): Promise<ReaderProfile | undefined> {
  if (nameOrFile === undefined) return undefined;
  const { parseReaderProfile, readerProfile } = await import("@capkit/emv-cap");
  if (existsSync(nameOrFile)) {
    try {
      return parseReaderProfile(JSON.parse(readFileSync(nameOrFile, "utf8")));
    } catch (e) {
      if ((e as { code?: string }).code === "PROFILE_INVALID") throw e;
      throw usage(`${nameOrFile} is not a valid JSON profile`);
    }
  }
  return readerProfile(nameOrFile);
}
