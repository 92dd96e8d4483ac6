import { CapkitError } from "@capkit/core";
import type { TokenParameters } from "@capkit/oath";
import type { SgpassConfig } from "./sgpass-token.js";

/**
 * The SGpass-style token a provisioning file describes: @capkit/oath reads the otpauth URI or PSKC key into
 * token parameters — the one meaning `capkit otp` and `capkit verify enroll` use too — and this takes what an
 * SGpass shows on its button. A SHA-256 key makes SHA-256 codes, a TOTP key its step, an HOTP key its counter.
 */
export function sgpassConfigOf(
  token: TokenParameters,
  extra: Omit<SgpassConfig, "kind" | "secret">,
): SgpassConfig {
  if (token.kind === "ocra") {
    throw new CapkitError(
      "INPUT_INVALID",
      `${token.serial !== undefined ? `token ${token.serial}` : "this token"} is OCRA (${token.suite}): an SgpassToken's button shows HOTP or TOTP codes`,
      {
        hint: "provision an HOTP or TOTP key, and give the OCRA suite as ocraSuite for the keypad functions",
      },
    );
  }
  return {
    ...extra,
    kind: token.kind,
    secret: token.secret,
    algorithm: token.algorithm,
    digits: token.digits,
    ...(token.step !== undefined ? { step: token.step } : {}),
    ...(token.t0 !== undefined ? { t0: token.t0 } : {}),
    ...(token.counter !== undefined ? { counter: token.counter } : {}),
  };
}
