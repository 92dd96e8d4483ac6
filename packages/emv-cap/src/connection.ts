import { CapkitError, concat } from "@capkit/core";
import {
  type CommandApdu,
  encodeCommand,
  maskedCommandHex,
  parseResponse,
  type ResponseApdu,
} from "./apdu.js";
import { getResponse } from "./protocol/commands.js";
import { bytesAvailable, correctLe, swHex } from "./protocol/status.js";

/**
 * The seam between the CAP engine and a card (docs/architecture.md §2). Implementations: PcscConnection (reader-pcsc),
 * SimulatedCard (token-sim), ReplayConnection and TracingConnection (here).
 */
export interface CardConnection {
  readonly atr: Uint8Array;
  /** Sends a command APDU; resolves to the response data followed by SW1 SW2. */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** Resets the card and resolves to its new ATR (French cards need a warm reset before the EMV session). */
  reset?(kind: "warm" | "cold"): Promise<Uint8Array>;
  close(): Promise<void>;
  /**
   * Recordings only (ReplayConnection): true once a GENERATE AC answer it gave had its cryptogram masked — a
   * trace shared for support (docs/transcript-format.md) — so no code may be computed from it.
   */
  cryptogramMasked?(): boolean;
}

/** GET RESPONSE chains are bounded so a broken card cannot keep us looping. */
const MAX_CHAINED = 32;

/**
 * Sends one command and hides the T=0 transport details (ISO/IEC 7816-3, EMV Book 1 §9.3), once, for every
 * transport: `61xx` → GET RESPONSE for xx bytes, concatenating chained answers; `6Cxx` → the same command
 * again with Le = xx. A T=1 transport never sees these status words, so this is harmless there.
 */
export async function transmitApdu(conn: CardConnection, command: CommandApdu): Promise<ResponseApdu> {
  let raw = encodeCommand(command);
  let response = parseResponse(await conn.transmit(raw));
  for (let i = 0, le = correctLe(response.sw); le !== undefined; i++, le = correctLe(response.sw)) {
    if (i >= MAX_CHAINED) throw loopError(raw, response.sw);
    raw = encodeCommand({ ...command, le });
    response = parseResponse(await conn.transmit(raw));
  }
  const chunks: Uint8Array[] = [response.data];
  for (let i = 0, le = bytesAvailable(response.sw); le !== undefined; i++, le = bytesAvailable(response.sw)) {
    if (i >= MAX_CHAINED) throw loopError(raw, response.sw);
    response = parseResponse(await conn.transmit(encodeCommand(getResponse(le))));
    chunks.push(response.data);
  }
  return chunks.length === 1 ? response : { data: concat(...chunks), sw: response.sw };
}

function loopError(raw: Uint8Array, sw: number): CapkitError {
  return new CapkitError("CARD_ERROR", `card keeps answering ${swHex(sw)} to ${maskedCommandHex(raw)}`);
}
