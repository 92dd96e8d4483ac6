import { CapkitError, concat } from "@capkit/core";
import {
  type CommandApdu,
  encodeCommand,
  maskedCommandHex,
  parseResponse,
  type ResponseApdu,
  swHex,
} from "./apdu.js";

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
  for (let i = 0; response.sw >> 8 === 0x6c; i++) {
    if (i >= MAX_CHAINED) throw loopError(raw, response.sw);
    raw = encodeCommand({ ...command, le: (response.sw & 0xff) === 0 ? 256 : response.sw & 0xff });
    response = parseResponse(await conn.transmit(raw));
  }
  const chunks: Uint8Array[] = [response.data];
  for (let i = 0; response.sw >> 8 === 0x61; i++) {
    if (i >= MAX_CHAINED) throw loopError(raw, response.sw);
    const le = response.sw & 0xff;
    response = parseResponse(
      await conn.transmit(encodeCommand({ cla: 0x00, ins: 0xc0, p1: 0, p2: 0, le: le === 0 ? 256 : le })),
    );
    chunks.push(response.data);
  }
  return chunks.length === 1 ? response : { data: concat(...chunks), sw: response.sw };
}

function loopError(raw: Uint8Array, sw: number): CapkitError {
  return new CapkitError("CARD_ERROR", `card keeps answering ${swHex(sw)} to ${maskedCommandHex(raw)}`);
}
