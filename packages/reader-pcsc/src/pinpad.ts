import { argumentError, CapkitError, concat, expectBytes, expectInteger } from "@capkit/core";
import { encodeCommand, type PinEntry, verifyPlaintextPin } from "@capkit/emv-cap";

/**
 * PIN-pad readers (PC/SC part 10, "IFDs with Secure PIN Entry Capabilities"): the reader lists its features
 * when asked with GET_FEATURE_REQUEST (IOCTL 3400) as TLVs — tag (1) length (1 = 4) control code (4, big
 * endian) — and VERIFY_PIN_DIRECT (tag 06) takes a PIN_VERIFY_STRUCTURE: the reader shows its own prompt,
 * reads the PIN on its keypad, writes it into the APDU template and sends VERIFY to the card. The PIN never
 * reaches the host.
 */
export const FEATURE_VERIFY_PIN_DIRECT = 0x06;
/** The part 10 control code that asks a reader for its features. */
export const GET_FEATURE_REQUEST = 3400;

/**
 * A reader's answer to GET_FEATURE_REQUEST, as feature tag → control code. An entry whose value is not 4 bytes
 * is skipped, and a truncated one ends the list.
 */
export function parseFeatures(tlv: Uint8Array): Map<number, number> {
  expectBytes(tlv, "the features TLV");
  const features = new Map<number, number>();
  for (let i = 0; i + 2 <= tlv.length; ) {
    const tag = tlv[i]!;
    const len = tlv[i + 1]!;
    if (i + 2 + len > tlv.length) break;
    if (len === 4) {
      features.set(tag, ((tlv[i + 2]! << 24) | (tlv[i + 3]! << 16) | (tlv[i + 4]! << 8) | tlv[i + 5]!) >>> 0);
    }
    i += 2 + len;
  }
  return features;
}

/**
 * PIN_VERIFY_STRUCTURE (part 10 §2.5.2, multi-byte fields little-endian) for the EMV plaintext offline PIN:
 * APDU `00 20 00 80 08` + block `2n PP PP … FF` (EMV Book 3 §6.5.12.2).
 * - bmFormatString 0x89: byte units, PIN starts 1 byte into the block, left-justified, BCD;
 * - bmPINBlockString 0x48: 4 bits of PIN length, an 8-byte block;
 * - bmPINLengthFormat 0x04: the length goes 4 bits into the block (the low nibble of `2n`);
 * - wPINMaxExtraDigit 4–12 digits; validation by the OK key; the reader's default message.
 */
export function emvPinVerifyStructure(timeoutSeconds = 30): Uint8Array {
  expectInteger(timeoutSeconds, "the PIN entry timeout", 0, 255);
  // The reader fills the PIN into an empty format-2 block: control 2, length 0 (set by bmPINLengthFormat), padding.
  const apdu = encodeCommand(
    verifyPlaintextPin(Uint8Array.of(0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
  );
  const header = Uint8Array.of(
    timeoutSeconds, // bTimerOut
    timeoutSeconds, // bTimerOut2
    0x89, // bmFormatString
    0x48, // bmPINBlockString
    0x04, // bmPINLengthFormat
    12, // wPINMaxExtraDigit, low byte: maximum
    4, // … high byte: minimum
    0x02, // bEntryValidationCondition: validation key pressed
    0x01, // bNumberMessage
    0x09, // wLangId 0x0409, little-endian
    0x04,
    0x00, // bMsgIndex
    0x00, // bTeoPrologue (3 bytes, T=1 only)
    0x00,
    0x00,
    apdu.length, // ulDataLength, little-endian 32 bits
    0x00,
    0x00,
    0x00,
  );
  return concat(header, apdu);
}

/** Anything that can send a reader control code (PcscConnection). */
export interface ReaderControl {
  /** Sends a control code with data (SCardControl); resolves to the reader's answer. */
  control(code: number, data: Uint8Array): Promise<Uint8Array>;
}

/** A PinEntry that verifies on the reader's keypad; the CAP engine uses it instead of a typed PIN. */
export class PinpadEntry implements PinEntry {
  /** Always `"pinpad"`: the PIN is typed on the reader. */
  readonly kind = "pinpad";
  readonly #reader: ReaderControl;
  readonly #code: number;

  constructor(reader: ReaderControl, verifyPinDirectCode: number) {
    if (typeof reader !== "object" || reader === null || typeof reader.control !== "function")
      throw argumentError("INPUT_INVALID", "the reader", "a reader with control()", reader);
    expectInteger(verifyPinDirectCode, "the VERIFY_PIN_DIRECT control code", 0, 0xffffffff);
    this.#reader = reader;
    this.#code = verifyPinDirectCode;
  }

  /** Asks the reader to read the PIN on its keypad and VERIFY it; resolves to the card's status word. */
  async verify(): Promise<number> {
    const r = await this.#reader.control(this.#code, emvPinVerifyStructure());
    if (r.length < 2) throw new CapkitError("CARD_ERROR", "the PIN pad gave no status word");
    return (r[r.length - 2]! << 8) | r[r.length - 1]!;
  }
}
