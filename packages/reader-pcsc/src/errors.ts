import { CapkitError } from "@capkit/core";

/**
 * PC/SC failures as typed errors with a hint for a person. pcsclite reports errors as text ending in the
 * SCARD_* code, e.g. "SCardConnect error: Sharing violation.(0x8010000b)" (pcsc-lite's winscard.h).
 */
const BY_CODE: ReadonlyMap<number, [CapkitError["code"], string, string]> = new Map([
  [
    0x8010001d,
    [
      "PCSCD_NOT_RUNNING",
      "the PC/SC service (pcscd) is not running",
      "start it: sudo systemctl start pcscd (or run pcscd --foreground)",
    ],
  ],
  [
    0x80100013,
    [
      "PCSCD_NOT_RUNNING",
      "lost the connection to pcscd (it stopped or restarted)",
      "start pcscd again; capkit reconnects on the next call",
    ],
  ],
  [
    0x8010000b,
    [
      "CARD_BUSY",
      "another program is using the card",
      "wait until it is done (another capkit, the bank's software, a PC/SC tool), then retry; capkit readers shows the card as in use",
    ],
  ],
  [0x80100069, ["CARD_REMOVED", "the card was removed", "insert the card again and retry"]],
  [0x80100068, ["CARD_REMOVED", "the card was reset by another program", "retry"]],
  [0x8010000c, ["NO_CARD", "no card in the reader", "insert the card"]],
  [
    0x80100066,
    [
      "NO_CARD",
      "the card does not answer (mute)",
      "check the card is inserted chip first and the right way up",
    ],
  ],
  [0x80100009, ["NO_READER", "unknown reader", "list readers with: capkit readers"]],
  [0x80100017, ["NO_READER", "the reader is unavailable", "plug the reader in again"]],
  [
    0x8010002e,
    ["NO_READER", "no smart card reader is connected", "plug in a reader (pcsc_scan lists what pcscd sees)"],
  ],
  [0x8010000a, ["TIMEOUT", "the PC/SC operation timed out", "retry"]],
  [
    0x80100016,
    ["CARD_ERROR", "the exchange with the card failed", "check the card is inserted properly and retry"],
  ],
  [
    0x8010001f,
    [
      "PINPAD_UNSUPPORTED",
      "the reader does not support this feature",
      "enter the PIN on the computer instead",
    ],
  ],
]);

export function scardCode(error: unknown): number | undefined {
  const m = /\(0x([0-9a-fA-F]{8})\)/.exec(String((error as Error)?.message ?? error));
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

export function pcscError(error: unknown, what: string): CapkitError {
  if (error instanceof CapkitError) return error;
  const code = scardCode(error);
  const known = code === undefined ? undefined : BY_CODE.get(code);
  if (known) {
    return new CapkitError(known[0], `${what}: ${known[1]}`, {
      hint: known[2],
      cause: error,
      details: { scard: `0x${code!.toString(16)}` },
    });
  }
  return new CapkitError("CARD_ERROR", `${what}: ${String((error as Error)?.message ?? error)}`, {
    cause: error,
  });
}
