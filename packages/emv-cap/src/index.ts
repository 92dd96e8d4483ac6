export * from "@capkit/core";
export * from "./apdu.js";
export * from "./cap/aids.js";
export * from "./cap/atc-bits.js";
export * from "./cap/code.js";
export * from "./cap/engine.js";
export * from "./cap/gac.js";
export * from "./cap/inputs.js";
export * from "./cap/issuer.js";
export * from "./cap/pin.js";
export {
  PIN_TRY_MESSAGES,
  type PinTryVerdict,
  pinTryRefusal,
  pinTryVerdict,
  RESERVED_PIN_TRIES,
} from "./cap/pin-safety.js";
export * from "./cap/profiles.js";
export * from "./cap/reader-application.js";
export * from "./connection.js";
export * from "./crypto/aes.js";
export * from "./crypto/cryptogram.js";
export * from "./crypto/data-selection.js";
export * from "./crypto/des.js";
export * from "./crypto/keys.js";
export * from "./crypto/mac.js";
export * from "./crypto/session-keys.js";
export * from "./dol.js";
export {
  CLA,
  COMMAND_TEMPLATE,
  carriesPin,
  FIRST_OCCURRENCE,
  GAC_REFERENCE,
  generateAc,
  getData,
  getDataTag,
  getProcessingOptions,
  getResponse,
  INS,
  INS_CLASS,
  PLAINTEXT_PIN,
  readRecord,
  readRecordTarget,
  SELECT_BY_NAME,
  selectByName,
  verifyPlaintextPin,
} from "./protocol/commands.js";
export {
  bytesAvailable,
  correctLe,
  describeSw,
  responseBytesAvailable,
  SW,
  swBytes,
  swHex,
  verifyFailed,
  verifyFailedTriesLeft,
} from "./protocol/status.js";
export {
  formatTagValue,
  TAG,
  type TagFormat,
  type TagInfo,
  tagInfo,
  tagName,
} from "./protocol/tags.js";
export * from "./redact.js";
export * from "./replay.js";
export * from "./tlv.js";
export * from "./tracing.js";
export * from "./transcript.js";
