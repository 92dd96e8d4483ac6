/**
 * Status words (SW1 SW2 as one number, `0x9000`) that capkit sends or acts on, named once, with the text a
 * person reads (ISO/IEC 7816-4 §5.1.3; EMV 4.3 Book 3 §6.3.5 and the command sections of §6.5). As for tags,
 * one table gives both the names (`SW.OK`) and the descriptions (`describeSw`).
 */
const STATUS = {
  OK: { sw: 0x9000, text: "success" },
  /** The application is blocked: SELECT still answers, with this warning. */
  SELECTED_FILE_INVALIDATED: { sw: 0x6283, text: "selected file invalidated (application blocked)" },
  MEMORY_FAILURE: { sw: 0x6581, text: "memory failure" },
  WRONG_LENGTH: { sw: 0x6700, text: "wrong length" },
  LOGICAL_CHANNEL_NOT_SUPPORTED: { sw: 0x6881, text: "logical channel not supported" },
  SECURE_MESSAGING_NOT_SUPPORTED: { sw: 0x6882, text: "secure messaging not supported" },
  /** VERIFY on a blocked PIN (EMV Book 3 §6.5.12.4). */
  AUTH_METHOD_BLOCKED: { sw: 0x6983, text: "authentication method blocked (PIN try limit exceeded)" },
  REFERENCED_DATA_INVALIDATED: { sw: 0x6984, text: "referenced data invalidated" },
  CONDITIONS_NOT_SATISFIED: { sw: 0x6985, text: "conditions of use not satisfied" },
  COMMAND_NOT_ALLOWED: { sw: 0x6986, text: "command not allowed (no current EF)" },
  INCORRECT_DATA: { sw: 0x6a80, text: "incorrect parameters in the data field" },
  FUNCTION_NOT_SUPPORTED: { sw: 0x6a81, text: "function not supported" },
  FILE_NOT_FOUND: { sw: 0x6a82, text: "file or application not found" },
  RECORD_NOT_FOUND: { sw: 0x6a83, text: "record not found" },
  INCORRECT_P1_P2: { sw: 0x6a86, text: "incorrect P1 P2" },
  REFERENCED_DATA_NOT_FOUND: { sw: 0x6a88, text: "referenced data not found" },
  WRONG_P1_P2: { sw: 0x6b00, text: "wrong parameters P1 P2" },
  INS_NOT_SUPPORTED: { sw: 0x6d00, text: "instruction code not supported" },
  CLA_NOT_SUPPORTED: { sw: 0x6e00, text: "class not supported" },
  NO_PRECISE_DIAGNOSIS: { sw: 0x6f00, text: "no precise diagnosis" },
} as const satisfies Readonly<Record<string, { readonly sw: number; readonly text: string }>>;

/** Status words by name: `SW.OK` is `0x9000`, `SW.AUTH_METHOD_BLOCKED` is `0x6983`. */
export const SW: { readonly [K in keyof typeof STATUS]: (typeof STATUS)[K]["sw"] } = Object.freeze(
  Object.fromEntries(Object.entries(STATUS).map(([key, s]) => [key, s.sw])),
) as never;

const TEXT: ReadonlyMap<number, string> = new Map(Object.values(STATUS).map((s) => [s.sw, s.text]));

/**
 * The families whose low byte is a number (ISO/IEC 7816-4 §5.1.3): `61xx` xx bytes still available (T=0: fetch
 * them with GET RESPONSE), `6Cxx` wrong Le (resend with Le = xx), `63Cx` verification failed with x tries left.
 */
const SW1_BYTES_AVAILABLE = 0x61;
const SW1_WRONG_LE = 0x6c;
const VERIFY_FAILED = 0x63c0;

/** `0x9000` → `"9000"`. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, "0");
}

/** SW1 SW2 as the two bytes a card appends to its response. */
export function swBytes(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}

/** `63Cx`: the answer of a wrong PIN with `triesLeft` (0–15) tries left. */
export function verifyFailed(triesLeft: number): number {
  return VERIFY_FAILED | (triesLeft & 0x0f);
}

/** The tries left of a `63Cx` answer; undefined for any other status word. */
export function verifyFailedTriesLeft(sw: number): number | undefined {
  return (sw & 0xfff0) === VERIFY_FAILED ? sw & 0x0f : undefined;
}

/** `61xx`: how many response bytes GET RESPONSE will fetch (xx = 00 means 256); undefined otherwise. */
export function bytesAvailable(sw: number): number | undefined {
  return sw >> 8 === SW1_BYTES_AVAILABLE ? lowByteCount(sw) : undefined;
}

/** `61xx` for `length` bytes (a T=0 card answering a case-4 command: ISO/IEC 7816-3 §12.2.3). */
export function responseBytesAvailable(length: number): number {
  return (SW1_BYTES_AVAILABLE << 8) | (length & 0xff);
}

/** `6Cxx`: the Le the card wants the command sent again with (xx = 00 means 256); undefined otherwise. */
export function correctLe(sw: number): number | undefined {
  return sw >> 8 === SW1_WRONG_LE ? lowByteCount(sw) : undefined;
}

function lowByteCount(sw: number): number {
  return (sw & 0xff) === 0 ? 256 : sw & 0xff;
}

/** A readable text for a status word, including the families 61xx, 6Cxx and 63Cx. */
export function describeSw(sw: number): string {
  const known = TEXT.get(sw);
  if (known) return known;
  const available = bytesAvailable(sw);
  if (available !== undefined) return `${available} response bytes still available (GET RESPONSE)`;
  const le = correctLe(sw);
  if (le !== undefined) return `wrong Le: resend with Le=${sw & 0xff}`;
  const left = verifyFailedTriesLeft(sw);
  if (left !== undefined) return `verification failed, ${left} tries left`;
  const sw1 = sw >> 8;
  if (sw1 === 0x62 || sw1 === 0x63) return "warning: state of non-volatile memory changed or unchanged";
  if (sw1 === 0x64 || sw1 === 0x65) return "execution error";
  return "unknown status";
}
