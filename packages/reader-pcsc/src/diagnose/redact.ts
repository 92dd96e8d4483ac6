import { argumentError, expectBytes, expectOneOf, toHex } from "@capkit/core";
import {
  type CardConnection,
  maskedCommandHex,
  redactTranscript,
  TRANSCRIPT_FORMAT,
  type TranscriptExchange,
} from "@capkit/emv-cap";

/** One APDU exchange, redacted. */
export interface RedactedExchange {
  /** The command, with a PIN block masked. */
  readonly c: string;
  /**
   * The response data, cardholder data masked (`*` per nibble) as
   * https://github.com/capkit/capkit/blob/main/docs/transcript-format.md specifies.
   */
  readonly r: string;
  /** SW1 SW2, hex. */
  readonly sw: string;
}

/**
 * A connection that logs every exchange for a support bundle. The log is handed out only through
 * `redactTranscript` (emv-cap), the same redaction as a shared `--trace`: PAN, track data, expiry, name and
 * service code in any template, then the PAN's bytes anywhere else in the session; PIN blocks are masked as
 * each command is logged.
 */
export class RedactingRecorder implements CardConnection {
  readonly #inner: CardConnection;
  readonly #log: TranscriptExchange[] = [];

  constructor(inner: CardConnection) {
    if (
      typeof inner !== "object" ||
      inner === null ||
      typeof inner.transmit !== "function" ||
      typeof inner.close !== "function"
    )
      throw argumentError("INPUT_INVALID", "the connection to record", "a CardConnection", inner);
    this.#inner = inner;
  }

  /** The wrapped card's ATR. */
  get atr(): Uint8Array {
    return this.#inner.atr;
  }

  /** The exchanges so far, redacted. */
  get exchanges(): readonly RedactedExchange[] {
    const t = redactTranscript({ format: TRANSCRIPT_FORMAT, atr: toHex(this.atr), exchanges: this.#log });
    return t.exchanges.map((e) => ({ c: e.c, r: e.r.slice(0, -4), sw: e.r.slice(-4) }));
  }

  /** Sends to the wrapped card and logs the exchange. */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    expectBytes(command, "the command");
    const raw = await this.#inner.transmit(command);
    this.#log.push({ c: maskedCommandHex(command), r: toHex(raw) });
    return raw;
  }

  /** Resets the wrapped card. */
  async reset(kind: "warm" | "cold"): Promise<Uint8Array> {
    expectOneOf(kind, "the reset", ["warm", "cold"]);
    if (!this.#inner.reset) return this.#inner.atr;
    return this.#inner.reset(kind);
  }

  /** Closes the wrapped connection. */
  close(): Promise<void> {
    return this.#inner.close();
  }
}
