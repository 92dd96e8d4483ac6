import { CapkitError, concat, toHex } from "@capkit/core";

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

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, "0");
}

/** Status words capkit acts on (ISO/IEC 7816-4 §5.1.3, EMV 4.3 Book 3 §6.3.5). */
export const SW_SUCCESS = 0x9000;
export const SW_PIN_BLOCKED = 0x6983;
export const SW_FILE_NOT_FOUND = 0x6a82;
/** 63Cx: verification failed, x tries left (mask with 0xfff0). */
export const SW_VERIFY_FAILED_FAMILY = 0x63c0;

const SW_TEXT: ReadonlyMap<number, string> = new Map([
  [0x9000, "success"],
  [0x6283, "selected file invalidated (application blocked)"],
  [0x6581, "memory failure"],
  [0x6700, "wrong length"],
  [0x6881, "logical channel not supported"],
  [0x6882, "secure messaging not supported"],
  [0x6983, "authentication method blocked (PIN try limit exceeded)"],
  [0x6984, "referenced data invalidated"],
  [0x6985, "conditions of use not satisfied"],
  [0x6986, "command not allowed (no current EF)"],
  [0x6a80, "incorrect parameters in the data field"],
  [0x6a81, "function not supported"],
  [0x6a82, "file or application not found"],
  [0x6a83, "record not found"],
  [0x6a86, "incorrect P1 P2"],
  [0x6a88, "referenced data not found"],
  [0x6b00, "wrong parameters P1 P2"],
  [0x6d00, "instruction code not supported"],
  [0x6e00, "class not supported"],
  [0x6f00, "no precise diagnosis"],
]);

/** A readable text for a status word, including the families 61xx, 6Cxx and 63Cx. */
export function describeSw(sw: number): string {
  const known = SW_TEXT.get(sw);
  if (known) return known;
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61) return `${sw2 === 0 ? 256 : sw2} response bytes still available (GET RESPONSE)`;
  if (sw1 === 0x6c) return `wrong Le: resend with Le=${sw2}`;
  if ((sw & 0xfff0) === 0x63c0) return `verification failed, ${sw & 0x0f} tries left`;
  if (sw1 === 0x62 || sw1 === 0x63) return "warning: state of non-volatile memory changed or unchanged";
  if (sw1 === 0x64 || sw1 === 0x65) return "execution error";
  return "unknown status";
}

export function isSuccess(sw: number): boolean {
  return sw === 0x9000;
}

/**
 * The hex of a command for messages and traces, with the data of PIN commands (VERIFY `20`, CHANGE
 * REFERENCE DATA `24`) replaced by `*` per nibble: a PIN never reaches a log, an error or a transcript.
 */
export function maskedCommandHex(command: Uint8Array): string {
  const hex = toHex(command);
  const ins = command[1];
  if ((ins === 0x20 || ins === 0x24) && command.length > 5) {
    const lc = command[4]!;
    return hex.slice(0, 10) + "*".repeat(2 * lc) + hex.slice(10 + 2 * lc);
  }
  return hex;
}
