/**
 * Every failure capkit reports to a caller is a `CapkitError` with a stable `code` string, so programs can
 * branch on it and the CLI can print one clear line plus a hint. Messages never carry a PIN, key or seed:
 * whoever builds an error passes only what is safe to show.
 */
export type CapkitErrorCode =
  | "HEX_INVALID"
  | "INPUT_INVALID"
  | "TLV_MALFORMED"
  | "TLV_LIMIT"
  | "APDU_INVALID"
  | "CARD_ERROR"
  | "CARD_NOT_SUPPORTED"
  | "NO_CAP_APPLICATION"
  | "CARD_DECLINED"
  | "CODE_NOT_KEPT"
  | "PIN_INVALID"
  | "PIN_WRONG"
  | "PIN_BLOCKED"
  | "PIN_TRIES_LOW"
  | "PIN_TRIES_UNKNOWN"
  | "TRANSCRIPT_INVALID"
  | "TRANSCRIPT_MISMATCH"
  | "PROFILE_INVALID"
  | "CDOL_INCOMPLETE"
  | "KEY_INVALID"
  | "KEY_UNAVAILABLE"
  | "CRYPTO_UNSUPPORTED"
  | "CARD_REMOVED"
  | "PCSC_UNAVAILABLE"
  | "PCSCD_NOT_RUNNING"
  | "NO_READER"
  | "NO_CARD"
  | "CARD_BUSY"
  | "READER_AMBIGUOUS"
  | "TIMEOUT"
  | "PINPAD_UNSUPPORTED"
  | "HID_UNAVAILABLE"
  | "STORE_UNAVAILABLE"
  | "RATE_LIMITED"
  | "CREDENTIAL_UNKNOWN"
  | "CREDENTIAL_EXISTS"
  | "CREDENTIAL_INVALID"
  | "OTP_SECRET_INVALID"
  | "OTP_SECRET_TOO_SHORT"
  | "OTP_URI_INVALID"
  | "OCRA_SUITE_INVALID"
  | "OCRA_INPUT_INVALID"
  | "PSKC_INVALID"
  | "PSKC_XML_REJECTED"
  | "PSKC_DECRYPT_FAILED"
  | "PSKC_MAC_INVALID"
  | "TRANSCRIPT_TOO_LARGE"
  | "CARD_FILE_IN_USE"
  // @capkit/verify's approvals, security events and grants (@capkit/verify/approvals).
  | "OPERATION_EXISTS"
  | "OPERATION_UNKNOWN"
  | "APPROVAL_METHOD_INVALID"
  | "GRANT_UNKNOWN"
  | "GRANT_INVALID"
  // @capkit/provision: SPAKE2, the activation protocol, operation documents, receipts.
  | "PAKE_INPUT_INVALID"
  | "ACTIVATION_POLICY_INVALID"
  | "ACTIVATION_MESSAGE_INVALID"
  | "ACTIVATION_TAMPERED"
  | "ACTIVATION_REFUSED"
  | "ACTIVATION_OUT_OF_ORDER"
  | "ACTIVATION_EXPIRED"
  | "ACTIVATION_CODE_DEAD"
  | "ACTIVATION_FINISHED"
  | "IDEMPOTENCY_KEY_REUSED"
  | "CANONICAL_JSON_INVALID"
  | "OPERATION_INVALID"
  | "OPERATION_SIGNATURE_INVALID"
  | "RECEIPT_INVALID"
  | "DEVICE_NOT_ACTIVATED"
  // @capkit/verify's Provisioner: activation sessions on the bank's side.
  | "ACTIVATION_UNKNOWN"
  | "ACTIVATION_RATE_LIMITED"
  | "APP_VERSION_UNSUPPORTED";

export class CapkitError extends Error {
  override readonly name = "CapkitError";
  readonly code: CapkitErrorCode;
  /** One line for a person: what to do about it. */
  readonly hint: string | undefined;
  /** Safe, structured context (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: CapkitErrorCode,
    message: string,
    options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function isCapkitError(value: unknown, code?: CapkitErrorCode): value is CapkitError {
  return value instanceof CapkitError && (code === undefined || value.code === code);
}
