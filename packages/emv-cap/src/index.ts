/**
 * EMV-CAP / Visa DPA in pure TypeScript, without I/O: the reader's transaction that makes a Sésame or
 * PINsentry code from a chip card, the issuer's model that recomputes those codes, the protocol's vocabulary
 * (tags, status words, commands, TLV, DOLs), transcripts, and the EMV cryptography under them (DES/3DES, AES,
 * ISO 9797-1 MACs, key derivation, cryptograms).
 *
 * @packageDocumentation
 */

// APDUs, BER-TLV and Data Object Lists (ISO/IEC 7816-4, EMV 4.3 Book 3 Annex B and §5.4).
export {
  type CommandApdu,
  encodeCommand,
  maskedCommandHex,
  parseCommand,
  parseResponse,
  type ResponseApdu,
} from "./apdu.js";
export {
  AID_BANCONTACT,
  AID_MAESTRO,
  AID_MASTERCARD_CAP,
  AID_VISA,
  AID_VISA_DPA,
  isCapAid,
} from "./cap/aids.js";
export {
  belgianCodeBits,
  belgianCodeValue,
  type CapCodeInput,
  type CodeRule,
  capCodeValue,
  displayCode,
  formatCode,
  IAF_AMOUNT,
  IAF_AMOUNT_ONLY,
  IAF_PSN_IN_IPB,
  ipbBitCount,
  MAX_IPB_BITS,
  selectIpbBits,
  tdsMac,
  validateTds,
} from "./cap/code.js";
// A code from a card: the reader's transaction (EMV-CAP Mode 1, Mode 2, Mode 2 + TDS) and its parts.
export {
  type CapApplication,
  type CapOptions,
  type CapResult,
  type CapStep,
  generateCapCode,
  type ListedApplication,
  listApplications,
  type ReadOptions,
  readCapApplication,
  readPinTryCounter,
  type SelectedApplication,
  selectApplication,
} from "./cap/engine.js";
// From the GENERATE AC answer to the number the reader shows.
export { CID_AAC, CID_ARQC, CID_TC, cryptogramType, type GacResponse, parseGacResponse } from "./cap/gac.js";
export type { CapInputs, CapMode } from "./cap/inputs.js";
// The inputs' rules on their own, for a server that checks a request before any card or model sees it.
export { amountToMinorUnits } from "./cap/inputs.js";
// The issuer's side: a card's record, and the model that recomputes its codes.
export {
  CAP_ISSUER_FORMAT,
  CapCodeModel,
  type CapCodeRecord,
  type CapIssuerRecord,
  parseCapIssuerRecord,
  testIccMasterKey,
} from "./cap/issuer.js";
// The PIN: how it reaches the card, and the one rule that never spends the last try.
export { type PinEntry, pinBlock, pinBlockDigits, plaintextPin } from "./cap/pin.js";
export {
  PIN_TRY_MESSAGES,
  type PinTryMessage,
  type PinTryVerdict,
  pinTryRefusal,
  pinTryVerdict,
  RESERVED_PIN_TRIES,
} from "./cap/pin-safety.js";
// Reader profiles: the constants each reader sends, per application, and which set a card gets.
export {
  type CardCondition,
  type CodeFormula,
  DEFAULT_PROFILE,
  parseReaderProfile,
  READER_PROFILES,
  type ReaderApplication,
  type ReaderProfile,
  readerProfile,
  STATIC_VISA_IPB,
} from "./cap/profiles.js";
export {
  type CardApplicationFacts,
  cardFactsOf,
  profilesFor,
  type ResolvedApplication,
  readerApplicationFor,
} from "./cap/reader-application.js";
// The seam to a card, and recorded dialogues: replay, tracing, redaction.
export { type CardConnection, transmitApdu } from "./connection.js";
export { aesCmac, aesCommonSessionKey } from "./crypto/aes.js";
export {
  arpcMethod1,
  arpcMethod2,
  type CardDataRule,
  CRYPTOGRAM_VERSIONS,
  CryptogramCalculator,
  type CryptogramInput,
  type CryptogramMac,
  type CryptogramSpec,
  type CryptogramVersionName,
  cryptogramSpec,
  type SessionKeyMethod,
} from "./crypto/cryptogram.js";
export {
  AC_TERMINAL_TAGS,
  CryptogramDataSelection,
  missingCryptogramTags,
} from "./crypto/data-selection.js";
// Cryptography: DES/3DES and ISO 9797-1 MACs, EMV key derivation, session keys, cryptograms, ARPCs.
export { TdesKey } from "./crypto/des.js";
export {
  deriveIccMasterKey,
  iccMasterKeyData,
  keyCheckValue,
  type MasterKeyDerivation,
  withOddParity,
} from "./crypto/keys.js";
export { type MacPrefix, macAlg1, macAlg3, type Padding, pad, RetailMacKey } from "./crypto/mac.js";
export {
  commonSessionKey,
  emvSessionKey,
  type MasterKey,
  mastercardSessionKey,
  type TreeParameters,
  treeSessionKey,
  visaSmSessionKey,
} from "./crypto/session-keys.js";
export { type DolEntry, describeDol, fillDol, parseDol } from "./dol.js";
export {
  CLA,
  COMMAND_TEMPLATE,
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
  STATUS_WORDS,
  SW,
  swBytes,
  swHex,
  verifyFailed,
  verifyFailedTriesLeft,
} from "./protocol/status.js";
// The protocol's vocabulary, for both ends: tags, status words, instructions and one builder per command.
export {
  DATA_ELEMENTS,
  formatTagValue,
  TAG,
  type TagFormat,
  type TagInfo,
  tagInfo,
  tagName,
} from "./protocol/tags.js";
export { CARDHOLDER_DATA_TAGS, redactTranscript } from "./redact.js";
export { ReplayConnection, type ReplayOptions } from "./replay.js";
export {
  decodeTlv,
  encodeTlv,
  findTlv,
  flattenTlv,
  type Tlv,
  type TlvLimits,
  tagFromHex,
  tagToHex,
  tlv,
} from "./tlv.js";
export { TracingConnection, type TracingOptions } from "./tracing.js";
export {
  parseTranscript,
  TRANSCRIPT_FORMAT,
  type Transcript,
  type TranscriptExchange,
} from "./transcript.js";
