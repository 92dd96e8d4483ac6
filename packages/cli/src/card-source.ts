import { existsSync, readFileSync } from "node:fs";
import type { CardConnection, PinEntry, ReaderProfile } from "@capkit/emv-cap";
import type { Output } from "./output.js";
import { usage } from "./output.js";
import { TraceFile } from "./trace-file.js";

export interface CardSourceOptions {
  readonly reader?: string;
  readonly transcript?: string;
  readonly sim?: string;
  readonly trace?: string;
  /** Keep PAN, expiry, track 2 and name in the trace (a lab's own cards); redacted by default. */
  readonly traceUnredacted?: boolean;
  readonly exclusive?: boolean;
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
    let text: string;
    try {
      text = readFileSync(o.transcript, "utf8");
    } catch (e) {
      throw usage(`cannot read ${o.transcript}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
    }
    const conn = new emv.ReplayConnection(text);
    opened = { conn, source: `transcript ${o.transcript}`, pinpad: undefined, close: () => conn.close() };
  } else {
    const { PcscContext } = await import("@capkit/reader-pcsc");
    const ctx = await PcscContext.open();
    try {
      let reader = o.reader;
      if (reader === undefined) {
        const withCard = (await ctx.readers()).find((r) => r.cardPresent);
        if (!withCard) out.info("Insert the card (waiting up to 60 s)…");
        reader = withCard?.name ?? (await ctx.waitForCard({ timeoutMs: 60_000 })).name;
      }
      const conn = await ctx.connect(reader, { share: o.exclusive ? "exclusive" : "shared" });
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
          `APDU trace written to ${traceFile.path} (PIN masked${o.traceUnredacted ? "; cardholder data NOT redacted" : ", cardholder data redacted"})`,
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
