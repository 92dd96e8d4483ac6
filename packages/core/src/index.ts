/**
 * What every capkit package shares, with no dependency and no I/O: the one error type with its stable codes,
 * the checks that turn a plain-JavaScript caller's wrong argument into such an error, and byte helpers.
 *
 * @packageDocumentation
 */

// Arguments: the door of every public function (a wrong type or unit refused, never a wrong answer).
export {
  argumentError,
  describeValue,
  expectBoolean,
  expectBytes,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectRecord,
  expectString,
  isRecord,
} from "./arguments.js";
// Base64 (RFC 4648, strict).
export { fromBase64, toBase64 } from "./base64.js";

// Bytes: hex, integers, BCD, text, comparison.
export {
  asciiToBytes,
  bytesToPrintable,
  concat,
  constantTimeEqual,
  digitsToBcd,
  equalBytes,
  fromHex,
  readUint,
  toHex,
  writeUint,
  xor,
} from "./bytes.js";
// Errors: every failure capkit reports, with a stable code to branch on.
export { CapkitError, type CapkitErrorCode, type CapkitErrorOptions, isCapkitError } from "./errors.js";
