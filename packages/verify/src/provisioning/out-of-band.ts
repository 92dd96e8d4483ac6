import type { ActivationFeature } from "@capkit/provision";

/**
 * How activation codes leave the bank: an `SmsSender` for the `sms` feature, a `LetterSender` for `letter`.
 * No vendor SDK: a bank wraps its SMS gateway or mail house in one method. The message carries the code in
 * its text, so a sender must not log it; capkit never logs, audits or stores it (the dev outboxes, for
 * development only, keep what they are given).
 */
export interface OutOfBandMessage {
  /** The phone number (sms) or postal address (letter) from the bank's directory. */
  readonly to: string;
  /** The text to deliver, code included. */
  readonly text: string;
  /** Which feature's code it carries: `sms` or `letter`. */
  readonly feature: Extract<ActivationFeature, "sms" | "letter">;
}

/**
 * The bank's SMS gateway, for the `sms` feature: one method to wrap a vendor's API in. A rejection (a
 * CapkitError's code, or "the sender failed") is audited and listed in `StartAnswer.delivered`, never thrown at
 * the app.
 *
 * @example
 * ```ts
 * const sms: SmsSender = {
 *   async sendSms({ to, text }) {
 *     await gateway.send({ to, body: text }); // never log `text`: it holds the code
 *   },
 * };
 * ```
 */
export interface SmsSender {
  /**
   * Delivers one message; resolves once the gateway took it.
   *
   * @param message - the number and the text (code included)
   */
  sendSms(message: OutOfBandMessage): Promise<void>;
}

/** The bank's mail house (or any second channel), for the `letter` feature: as {@link SmsSender}. */
export interface LetterSender {
  /**
   * Delivers one message; resolves once the channel took it.
   *
   * @param message - the address and the text (code included)
   */
  sendLetter(message: OutOfBandMessage): Promise<void>;
}

/** Where the bank reaches a customer: what its directory returns for an identifiant it knows. */
export interface Contact {
  /** For the `sms` feature. */
  readonly phone?: string;
  /** For the `letter` feature. */
  readonly address?: string;
}

/** `12345678` as the customer reads it: `1234 5678` (groups of four). */
export function groupedCode(code: string): string {
  return code.replace(/(.{4})(?=.)/g, "$1 ");
}

/**
 * The activation code's text (the design notes' proposal, https://github.com/capkit/capkit/blob/main/docs/architecture.md §11): what it is for, when it
 * dies, and that nobody — not even an adviser — may ask for it (the phishing script every bank warns about).
 */
export function activationCodeText(
  feature: OutOfBandMessage["feature"],
  code: string,
  minutes: number,
  appName?: string,
): string {
  const head = appName ? `${appName} : v` : "V";
  const what = feature === "sms" ? "mot de passe d'activation" : "code d'activation (courrier)";
  return `${head}otre ${what} est ${groupedCode(code)}. Il expire dans ${minutes} minutes. Ne le communiquez à personne, pas même à un conseiller.`;
}
