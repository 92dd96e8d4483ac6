import { describeValue } from "./arguments.js";

/**
 * The stable code of a {@link CapkitError}: programs branch on it (the message is for people and may be
 * reworded). One code names one cause, for every package.
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
  // A table with capkit's name (its prefix, its schema) that is not capkit's: choose another prefix or schema.
  | "STORE_SCHEMA_CONFLICT"
  // The database's capkit tables were written by a newer @capkit/verify: never downgraded.
  | "STORE_SCHEMA_NEWER"
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

/** What a {@link CapkitError} may carry besides its code and message. */
export interface CapkitErrorOptions {
  /** One line for a person: what to do about it. */
  readonly hint?: string;
  /** Safe, structured context (never a secret). */
  readonly details?: Record<string, unknown>;
  /** The error this one explains (a driver's, a parser's). */
  readonly cause?: unknown;
}

/**
 * Every failure capkit reports to a caller: a stable `code` string, so programs can branch on it and the CLI
 * can print one clear line plus a hint. Messages never carry a PIN, key or seed: whoever builds an error
 * passes only what is safe to show.
 *
 * @example
 * ```ts
 * try {
 *   await generateCapCode(card, { mode: "identify" }, { profile: readerProfile("sesame"), pin });
 * } catch (e) {
 *   if (isCapkitError(e, "PIN_WRONG")) console.log(`wrong PIN, ${e.details?.triesLeft} tries left`);
 *   else throw e;
 * }
 * ```
 */
export class CapkitError extends Error {
  /** Always `"CapkitError"`. */
  override readonly name = "CapkitError";
  /** What went wrong, for a program to branch on. */
  readonly code: CapkitErrorCode;
  /** One line for a person: what to do about it. */
  readonly hint: string | undefined;
  /** Safe, structured context (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /**
   * @param code - the stable code
   * @param message - one line for a person, with no secret in it
   * @param options - a hint, safe details, the cause
   */
  constructor(code: CapkitErrorCode, message: string, options: CapkitErrorOptions = {}) {
    // Checked here, not with the argument helpers (which build CapkitErrors): a wrong argument is refused,
    // never turned into an error with a meaningless code or message.
    const wrong = !isCode(code)
      ? ["the error code", 'a code in capitals (such as "INPUT_INVALID")', code]
      : typeof message !== "string"
        ? ["the error message", "a string", message]
        : options === null || typeof options !== "object" || Array.isArray(options)
          ? ["the error options", "an object", options]
          : undefined;
    if (wrong !== undefined) {
      const [what, expected, value] = wrong as [string, string, unknown];
      throw new CapkitError("INPUT_INVALID", `${what} must be ${expected}; got ${describeValue(value)}`, {
        details: { argument: what, expected },
      });
    }
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/**
 * Whether a value is a {@link CapkitError}, and of the given code when one is given.
 *
 * @example
 * ```ts
 * if (isCapkitError(e, "NO_CARD")) console.log("insert the card");
 * ```
 */
export function isCapkitError(value: unknown, code?: CapkitErrorCode): value is CapkitError {
  if (code !== undefined && !isCode(code))
    throw new CapkitError(
      "INPUT_INVALID",
      `the error code must be a code in capitals (such as "INPUT_INVALID"), or nothing; got ${describeValue(code)}`,
      { details: { argument: "the error code", expected: "a code in capitals" } },
    );
  return value instanceof CapkitError && (code === undefined || value.code === code);
}

/** Whether a value can be a {@link CapkitErrorCode}: capitals and underscores (the list is a type only). */
function isCode(value: unknown): value is CapkitErrorCode {
  return typeof value === "string" && /^[A-Z][A-Z0-9_]*$/.test(value);
}
