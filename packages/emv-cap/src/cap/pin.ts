import { CapkitError, toHex } from "@capkit/core";
import type { CardConnection } from "../connection.js";
import { transmitApdu } from "../connection.js";
import { verifyPlaintextPin } from "../protocol/commands.js";

/**
 * How the PIN reaches the card. `plaintextPin` builds the VERIFY APDU here; a PIN-pad reader (reader-pcsc)
 * implements the same interface with VERIFY_PIN_DIRECT so the PIN never reaches the host.
 */
export interface PinEntry {
  /** Runs VERIFY for the offline plaintext PIN; resolves to the card's status word. */
  verify(conn: CardConnection): Promise<number>;
  /** Shown in diagnostics: "host" or "pinpad". */
  readonly kind: "host" | "pinpad";
}

/** The control field of a plaintext offline PIN block: format 2 in the high nibble, the length in the low. */
const FORMAT_2 = 0x20;
const PIN_BLOCK_LENGTH = 8;

/** EMV PINs are 4 to 12 digits (Book 3 §6.5.12). The message never repeats the input. */
export function checkPin(pin: string): void {
  if (typeof pin !== "string" || !/^[0-9]{4,12}$/.test(pin)) {
    throw new CapkitError("PIN_INVALID", "the PIN must be 4 to 12 digits");
  }
}

/**
 * Plaintext offline PIN block (Book 3 §6.5.12.2): `2n` then the digits in BCD, padded with F to 8 bytes.
 * PIN 1234 → `24 12 34 FF FF FF FF FF`.
 */
export function pinBlock(pin: string): Uint8Array {
  checkPin(pin);
  const block = new Uint8Array(PIN_BLOCK_LENGTH).fill(0xff);
  block[0] = FORMAT_2 | pin.length;
  for (let i = 0; i < pin.length; i++) {
    const d = pin.charCodeAt(i) - 48;
    const byte = 1 + (i >> 1);
    block[byte] = i % 2 === 0 ? (d << 4) | 0x0f : (block[byte]! & 0xf0) | d;
  }
  return block;
}

/**
 * The digits of a plaintext PIN block (the card's side of `pinBlock`); undefined when the block is not
 * format 2 with 4–12 digits.
 */
export function pinBlockDigits(block: Uint8Array): string | undefined {
  const control = block[0];
  if (block.length !== PIN_BLOCK_LENGTH || control === undefined || (control & 0xf0) !== FORMAT_2)
    return undefined;
  const n = control & 0x0f;
  const digits = toHex(block.subarray(1)).slice(0, n);
  return n >= 4 && n <= 12 && /^[0-9]+$/.test(digits) ? digits : undefined;
}

export function plaintextPin(pin: string): PinEntry {
  checkPin(pin);
  return {
    kind: "host",
    async verify(conn) {
      const block = pinBlock(pin);
      try {
        return (await transmitApdu(conn, verifyPlaintextPin(block))).sw;
      } finally {
        block.fill(0);
      }
    },
  };
}
