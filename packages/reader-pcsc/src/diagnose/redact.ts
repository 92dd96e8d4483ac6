import { toHex } from "@capkit/core";
import {
  type CardConnection,
  decodeTlv,
  maskedCommandHex,
  parseResponse,
  swHex,
  TAG_CARDHOLDER_NAME,
  TAG_EXPIRY,
  TAG_PAN,
  TAG_TRACK1,
  TAG_TRACK1_DISCRETIONARY,
  TAG_TRACK2,
  type Tlv,
} from "@capkit/emv-cap";

/**
 * The card data a support bundle must never carry (EMV 4.3 Book 3 Annex A): the PAN, Track 2 (also
 * Mastercard's 9F6B), the expiry date, the cardholder name, Track 1 discretionary data and Track 1.
 */
const TAG_TRACK2_MASTERCARD = 0x9f6b;
export const REDACTED_TAGS: ReadonlySet<number> = new Set([
  TAG_PAN,
  TAG_TRACK2,
  TAG_EXPIRY,
  TAG_CARDHOLDER_NAME,
  TAG_TRACK1_DISCRETIONARY,
  TAG_TRACK1,
  TAG_TRACK2_MASTERCARD,
]);

export interface RedactedExchange {
  /** The command, with a PIN block masked. */
  readonly c: string;
  /** The response data, with the values of the tags above masked (`*` per nibble). */
  readonly r: string;
  readonly sw: string;
}

/**
 * Response data as hex with every value of a redacted tag replaced by `*`. Data that does not parse as BER-TLV
 * is masked whole: what cannot be read cannot be shown to be free of card data.
 */
export function redactResponseHex(data: Uint8Array): string {
  if (data.length === 0) return "";
  let objects: Tlv[];
  try {
    objects = decodeTlv(data);
  } catch {
    return "*".repeat(2 * data.length);
  }
  const hex = toHex(data).split("");
  const walk = (list: readonly Tlv[]) => {
    for (const o of list) {
      if (REDACTED_TAGS.has(o.tag)) {
        const start = 2 * (o.value.byteOffset - data.byteOffset);
        hex.fill("*", start, start + 2 * o.value.length);
      } else if (o.children) walk(o.children);
    }
  };
  walk(objects);
  return hex.join("");
}

/** A connection that keeps a redacted log of every exchange, for a support bundle. */
export class RedactingRecorder implements CardConnection {
  readonly #inner: CardConnection;
  readonly #log: RedactedExchange[] = [];

  constructor(inner: CardConnection) {
    this.#inner = inner;
  }

  get atr(): Uint8Array {
    return this.#inner.atr;
  }

  get exchanges(): readonly RedactedExchange[] {
    return this.#log;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const raw = await this.#inner.transmit(command);
    const r = parseResponse(raw);
    this.#log.push({ c: maskedCommandHex(command), r: redactResponseHex(r.data), sw: swHex(r.sw) });
    return raw;
  }

  async reset(kind: "warm" | "cold"): Promise<Uint8Array> {
    if (!this.#inner.reset) return this.#inner.atr;
    return this.#inner.reset(kind);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
