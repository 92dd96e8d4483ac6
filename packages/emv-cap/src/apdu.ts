import { CapkitError, concat, toHex } from "@capkit/core";
import { carriesPin } from "./protocol/commands.js";

/**
 * ISO/IEC 7816-4 short APDUs. A command is one of four cases: 1 (header only), 2 (expects data: Le),
 * 3 (sends data: Lc + data), 4 (both). Le 256 is written as `00`.
 */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data?: Uint8Array;
  /** Expected response length, 1–256; absent for cases 1 and 3. */
  readonly le?: number;
}

export interface ResponseApdu {
  readonly data: Uint8Array;
  /** SW1 SW2 as one number, e.g. 0x9000. */
  readonly sw: number;
}

export function encodeCommand(c: CommandApdu): Uint8Array {
  for (const [name, v] of [
    ["CLA", c.cla],
    ["INS", c.ins],
    ["P1", c.p1],
    ["P2", c.p2],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255)
      throw new CapkitError("APDU_INVALID", `${name} must be a byte`);
  }
  const header = Uint8Array.of(c.cla, c.ins, c.p1, c.p2);
  const parts: Uint8Array[] = [header];
  if (c.data !== undefined && c.data.length > 0) {
    if (c.data.length > 255) throw new CapkitError("APDU_INVALID", "command data longer than 255 bytes");
    parts.push(Uint8Array.of(c.data.length), c.data);
  }
  if (c.le !== undefined) {
    if (!Number.isInteger(c.le) || c.le < 1 || c.le > 256)
      throw new CapkitError("APDU_INVALID", "Le must be 1–256");
    parts.push(Uint8Array.of(c.le & 0xff));
  }
  return concat(...parts);
}

/** Parses a short command APDU back into its parts (replay matching, masking, the simulated card). */
export function parseCommand(bytes: Uint8Array): CommandApdu {
  if (bytes.length < 4) throw new CapkitError("APDU_INVALID", "command shorter than 4 bytes");
  const [cla, ins, p1, p2] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  if (bytes.length === 4) return { cla, ins, p1, p2 };
  if (bytes.length === 5) return { cla, ins, p1, p2, le: bytes[4]! === 0 ? 256 : bytes[4]! };
  const lc = bytes[4]!;
  if (lc === 0) throw new CapkitError("APDU_INVALID", "extended-length APDUs are not supported");
  const data = bytes.slice(5, 5 + lc);
  if (bytes.length === 5 + lc) return { cla, ins, p1, p2, data };
  if (bytes.length === 6 + lc) {
    const le = bytes[5 + lc]!;
    return { cla, ins, p1, p2, data, le: le === 0 ? 256 : le };
  }
  throw new CapkitError("APDU_INVALID", `command length ${bytes.length} does not match Lc ${lc}`);
}

export function parseResponse(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2)
    throw new CapkitError("APDU_INVALID", "response shorter than 2 bytes (no status word)");
  const n = bytes.length;
  return { data: bytes.subarray(0, n - 2), sw: (bytes[n - 2]! << 8) | bytes[n - 1]! };
}

/**
 * The hex of a command for messages and traces, with the data of PIN commands (VERIFY, PIN CHANGE/UNBLOCK)
 * replaced by `*` per nibble: a PIN never reaches a log, an error or a transcript.
 */
export function maskedCommandHex(command: Uint8Array): string {
  const hex = toHex(command);
  if (carriesPin(command[1]) && command.length > 5) {
    const lc = command[4]!;
    return hex.slice(0, 10) + "*".repeat(2 * lc) + hex.slice(10 + 2 * lc);
  }
  return hex;
}
