import { CapkitError, type CapkitErrorCode } from "@capkit/core";

/**
 * The PIN-try rule, in one place (docs/architecture.md §3.9): the card's PIN try counter (9F17) is the payment
 * PIN's, so a wrong PIN typed here blocks the card at shops and ATMs too. Before any VERIFY capkit reads the
 * counter and never spends the last try — nor a try it cannot count — unless the caller forces it. The CAP
 * engine (`verifyPinSafely`), `capkit apdu` (its VERIFY guard) and `capkit doctor` (reader-pcsc's diagnosis)
 * all ask `pinTryVerdict` and word their answers from `PIN_TRY_MESSAGES`.
 */

/** Tries capkit keeps in hand: it sends no VERIFY when only this many are left, unless forced. */
export const RESERVED_PIN_TRIES = 1;

/**
 * - `verify`: enough tries left (or forced), VERIFY may be sent;
 * - `last-try`: only the reserved try is left;
 * - `unknown`: the card does not say (GET DATA 9F17 refused or malformed);
 * - `blocked`: no try left; not even force sends a VERIFY that can only fail.
 */
export type PinTryVerdict = "verify" | "last-try" | "unknown" | "blocked";

export function pinTryVerdict(
  triesLeft: number | undefined,
  options: { readonly force?: boolean } = {},
): PinTryVerdict {
  if (triesLeft === 0) return "blocked";
  if (options.force) return "verify";
  if (triesLeft === undefined) return "unknown";
  return triesLeft <= RESERVED_PIN_TRIES ? "last-try" : "verify";
}

interface PinTryMessage {
  /** The error code of a refusal. */
  readonly code: CapkitErrorCode;
  /** The state of the card, as a sentence a holder and a support desk both read. */
  readonly state: string;
  readonly hint: string;
}

/** What capkit says for each verdict that stops a VERIFY: one wording for the engine, `apdu` and `doctor`. */
export const PIN_TRY_MESSAGES: Readonly<Record<Exclude<PinTryVerdict, "verify">, PinTryMessage>> = {
  blocked: {
    code: "PIN_BLOCKED",
    state: "the card's PIN is blocked (no tries left)",
    hint: "only the bank can unblock it (it sends an unblock code or a new card); an ATM or a correct PIN cannot",
  },
  "last-try": {
    code: "PIN_TRIES_LOW",
    state: `only ${RESERVED_PIN_TRIES} PIN try left: one wrong PIN blocks the card, for payments too`,
    hint: "a correct PIN (at a bank ATM too) resets the counter; use --force only if you are sure of the PIN",
  },
  unknown: {
    code: "PIN_TRIES_UNKNOWN",
    state: "the card does not report how many PIN tries are left",
    hint: "use --force only if you are sure of the PIN: a wrong one may block the card for payments too",
  },
};

/**
 * The error for a VERIFY not sent: the verdict's message, `context` (what the caller knows of why, e.g. the
 * status word GET DATA got) before its hint, and the tries left in `details`.
 */
export function pinTryRefusal(
  verdict: Exclude<PinTryVerdict, "verify">,
  triesLeft: number | undefined,
  extra: { readonly context?: string; readonly details?: Readonly<Record<string, unknown>> } = {},
): CapkitError {
  const m = PIN_TRY_MESSAGES[verdict];
  return new CapkitError(m.code, `${m.state}: the PIN was not sent`, {
    hint: extra.context ? `${extra.context}; ${m.hint}` : m.hint,
    ...(triesLeft !== undefined || extra.details
      ? { details: { ...(triesLeft !== undefined ? { triesLeft } : {}), ...extra.details } }
      : {}),
  });
}
