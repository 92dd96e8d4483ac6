import { toHex } from "@capkit/core";
import { maskedCommandHex } from "./apdu.js";
import type { CardConnection } from "./connection.js";
import { TRANSCRIPT_FORMAT, type Transcript, type TranscriptExchange } from "./transcript.js";

export interface TracingOptions {
  /** Called after each exchange with the masked command and the response, for live logs. */
  readonly onExchange?: (exchange: TranscriptExchange) => void;
  readonly note?: string;
}

/**
 * Wraps a connection and records every exchange as a `capkit-transcript/1`, PIN commands masked
 * (`maskedCommandHex`), so a recording can be handed to support staff without exposing the PIN.
 */
export class TracingConnection implements CardConnection {
  readonly #inner: CardConnection;
  readonly #exchanges: TranscriptExchange[] = [];
  readonly #options: TracingOptions;
  readonly #atr: Uint8Array;
  /** Present only when the wrapped connection can reset, so callers can tell. */
  readonly reset?: (kind: "warm" | "cold") => Promise<Uint8Array>;
  /** Present only when the wrapped connection is a recording that can say so. */
  readonly cryptogramMasked?: () => boolean;

  constructor(inner: CardConnection, options: TracingOptions = {}) {
    this.#inner = inner;
    this.#options = options;
    this.#atr = inner.atr;
    if (inner.reset) this.reset = (kind) => inner.reset!(kind);
    if (inner.cryptogramMasked) this.cryptogramMasked = () => inner.cryptogramMasked!();
  }

  get atr(): Uint8Array {
    return this.#inner.atr;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const response = await this.#inner.transmit(command);
    const exchange = { c: maskedCommandHex(command), r: toHex(response) };
    this.#exchanges.push(exchange);
    this.#options.onExchange?.(exchange);
    return response;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** The recording so far; the ATR is the one seen when tracing began. */
  transcript(): Transcript {
    const base = {
      format: TRANSCRIPT_FORMAT,
      atr: toHex(this.#atr),
      exchanges: [...this.#exchanges],
    } as const;
    return this.#options.note === undefined ? base : { ...base, note: this.#options.note };
  }
}
