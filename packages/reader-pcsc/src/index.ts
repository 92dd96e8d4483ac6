/**
 * Physical card readers through PC/SC (pcscd on Linux and macOS, WinSCard on Windows) for the CAP engine: the
 * context and its reader events, connections held exclusively, PIN-pad VERIFY, the diagnosis `capkit doctor`
 * prints and its support bundle, and USB HID tokens. `pcsclite` and `node-hid` are optional and loaded on
 * first use.
 *
 * @packageDocumentation
 */

export { chooseReader } from "./choose-reader.js";
// A card in a reader as a CardConnection, and the seam it is written against.
export { PcscConnection, type PcscConnectOptions } from "./connection.js";
// Readers and cards: the context, its events, and the one rule that chooses a reader.
export { PcscContext, type ReaderEvent, type ReaderInfo } from "./context.js";
export { type DecodedAtr, decodeAtr, spacedAtr } from "./diagnose/atr.js";
export { type Check, type Verdict, worstVerdict } from "./diagnose/check.js";

// Diagnosis (`capkit doctor`): checks as data, the ATR decoded and named, the support bundle.
export {
  type DiagnoseOptions,
  type Diagnosis,
  diagnose,
  profileGuess,
} from "./diagnose/diagnose.js";
export { type RedactedExchange, RedactingRecorder } from "./diagnose/redact.js";
export { SUPPORT_REPORT_FORMAT, type SupportReport, supportReport } from "./diagnose/report.js";
export {
  nameAtr,
  parseSmartcardList,
  SMARTCARD_LIST_PATHS,
  type SmartcardListEntry,
} from "./diagnose/smartcard-list.js";
export { type ReaderDriver, type SystemProbe, systemProbe } from "./diagnose/system.js";
// USB HID tokens (keyboard-wedge OTP tokens and their kin).
export { type HidToken, KNOWN_HID_VENDORS, listHidTokens } from "./hid.js";
// PIN pads (PC/SC part 10): the PIN typed on the reader, never seen by the host.
export {
  emvPinVerifyStructure,
  FEATURE_VERIFY_PIN_DIRECT,
  GET_FEATURE_REQUEST,
  PinpadEntry,
  parseFeatures,
  type ReaderControl,
} from "./pinpad.js";
export type { ReaderHandle } from "./reader-handle.js";
