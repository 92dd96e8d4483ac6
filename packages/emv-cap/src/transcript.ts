import { CapkitError, fromHex, toHex } from "@capkit/core";

/**
 * `capkit-transcript/1`: one recorded session between a reader and a card
 * (https://github.com/capkit/capkit/blob/main/docs/transcript-format.md).
 * `c` is the command in hex where `*` stands for an unrecorded nibble (PIN blocks are always masked);
 * `r` is the response data followed by SW1 SW2, where `*` in the data stands for a redacted nibble
 * (cardholder data, `redactTranscript`); the status word is always recorded.
 */
export const TRANSCRIPT_FORMAT = "capkit-transcript/1";

/** One command and its answer. */
export interface TranscriptExchange {
  /** The command, hex; `*` for a nibble not recorded (a PIN block's). */
  readonly c: string;
  /** The response data and SW1 SW2, hex; `*` in the data for a redacted nibble. */
  readonly r: string;
}

/** A recorded session (`capkit-transcript/1`). */
export interface Transcript {
  /** Always {@link TRANSCRIPT_FORMAT}. */
  readonly format: typeof TRANSCRIPT_FORMAT;
  /** The card's ATR, hex. */
  readonly atr: string;
  /** Free text: what was recorded, with which reader. */
  readonly note?: string;
  /** The exchanges, in the order they happened. */
  readonly exchanges: readonly TranscriptExchange[];
}

const COMMAND_PATTERN = /^[0-9A-F*]+$/;
const RESPONSE_PATTERN = /^[0-9A-F*]*[0-9A-F]{4}$/;

/** Validates and normalises (uppercase, no spaces) a transcript read from JSON. */
export function parseTranscript(input: unknown): Transcript {
  const obj = typeof input === "string" ? parseJson(input) : input;
  if (typeof obj !== "object" || obj === null) throw invalid("not a JSON object");
  const t = obj as Record<string, unknown>;
  if (t["format"] !== TRANSCRIPT_FORMAT) throw invalid(`"format" must be "${TRANSCRIPT_FORMAT}"`);
  if (typeof t["atr"] !== "string") throw invalid('"atr" must be a hex string');
  const atr = toHex(fromHex(t["atr"], "transcript atr"));
  if (!Array.isArray(t["exchanges"])) throw invalid('"exchanges" must be an array');
  const exchanges = t["exchanges"].map((e: unknown, i: number): TranscriptExchange => {
    if (typeof e !== "object" || e === null) throw invalid(`exchange ${i} is not an object`);
    const { c, r } = e as Record<string, unknown>;
    if (typeof c !== "string" || typeof r !== "string")
      throw invalid(`exchange ${i} needs string "c" and "r"`);
    const cc = c.replace(/\s+/g, "").toUpperCase();
    if (cc.length < 8 || cc.length % 2 !== 0 || !COMMAND_PATTERN.test(cc)) {
      throw invalid(`exchange ${i}: "c" must be a command APDU in hex (with * for masked nibbles)`);
    }
    const rr = r.replace(/\s+/g, "").toUpperCase();
    if (rr.length % 2 !== 0 || !RESPONSE_PATTERN.test(rr)) {
      throw invalid(
        `exchange ${i}: "r" must be hex response data (with * for redacted nibbles) then SW1 SW2`,
      );
    }
    return { c: cc, r: rr };
  });
  const note = t["note"];
  if (note !== undefined && typeof note !== "string") throw invalid('"note" must be a string');
  return note === undefined
    ? { format: TRANSCRIPT_FORMAT, atr, exchanges }
    : { format: TRANSCRIPT_FORMAT, atr, note, exchanges };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("not valid JSON");
  }
}

function invalid(message: string): CapkitError {
  return new CapkitError("TRANSCRIPT_INVALID", `transcript: ${message}`);
}
