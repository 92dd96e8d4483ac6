import { CapkitError, fromHex, isCapkitError } from "@capkit/core";
import { IAF_AMOUNT, readerProfile } from "@capkit/emv-cap";
import { parseOcraSuite } from "@capkit/oath";
import {
  type ApprovalMethod,
  type CapSignInputs,
  capSignInputs,
  type OcraQuestion,
  type OperationDocument,
  ocraQuestion,
} from "@capkit/provision";
import type { StoredCredential } from "../model.js";
import type { BoundCode } from "../verifier-internals.js";

/**
 * What each approval method binds and how its answer is judged (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12.1), one place for the
 * three: what the bank's page (or the app) shows, which credentials can answer, and what the verifier checks.
 *
 * | method     | the customer sees / types                             | the code or signature binds                     |
 * | ---------- | ----------------------------------------------------- | ----------------------------------------------- |
 * | `device`   | the whole document, from its bank-signed copy, in app | the digest — every field — and accept/decline   |
 * | `ocra`     | amount, last 8 IBAN digits, an 8-digit reference      | those, and through the reference the digest     |
 * | `cap-sign` | the amount and the last 8 IBAN digits (the challenge) | what was typed: amount (currency if the card    |
 * |            |                                                       | signs it) and those 8 digits, nothing more      |
 *
 * Only `device` binds the decision itself: a keypad or reader code says the customer saw the amount and payee,
 * and the bank's page says whether it was to approve or to decline.
 */
export const APPROVAL_METHODS: readonly ApprovalMethod[] = ["device", "ocra", "cap-sign"];

/** What the customer is shown to decide, by method. */
export type ApprovalPrompt =
  | { readonly method: "device" }
  | ({ readonly method: "ocra"; readonly suite: string } & OcraQuestion)
  | ({ readonly method: "cap-sign" } & Omit<CapSignInputs, "mode">);

function unsuitable(message: string): CapkitError {
  return new CapkitError("APPROVAL_METHOD_INVALID", message);
}

/**
 * The prompt of `method` for `doc`, once the credential is known to be able to answer it: an OCRA token whose
 * suite takes numeric questions long enough, a CAP card whose IAF puts the amount in the cryptogram, with an
 * amount it can carry. APPROVAL_METHOD_INVALID otherwise (nothing stored).
 */
export function promptFor(
  method: ApprovalMethod,
  doc: OperationDocument,
  credential: StoredCredential,
): ApprovalPrompt {
  const p = credential.params;
  switch (method) {
    case "device":
      return { method };
    case "ocra": {
      if (p.kind !== "ocra") throw unsuitable(`credential ${credential.id} is not an OCRA token (${p.kind})`);
      const suite = parseOcraSuite(p.suite);
      const q = binding(() => ocraQuestion(doc));
      if (suite.challenge.format !== "N" || suite.challenge.maxLength < q.question.length)
        throw unsuitable(
          `the suite ${suite.text} takes no numeric question of ${q.question.length} digits (QN${q.question.length} or more is needed)`,
        );
      return { method, suite: suite.text, ...q };
    }
    case "cap-sign": {
      if (p.kind !== "cap") throw unsuitable(`credential ${credential.id} is not a CAP card (${p.kind})`);
      if ((fromHex(p.record.iaf)[0]! & IAF_AMOUNT) === 0)
        throw unsuitable(`the card ${credential.id} does not sign amounts (its IAF has no amount flag)`);
      const { mode: _, ...inputs } = binding(() => capSignInputs(doc));
      if (inputs.challenge.length > readerProfile(p.record.profile).challengeMaxDigits)
        throw unsuitable(`the reader of ${credential.id} takes a shorter challenge`);
      return { method, ...inputs };
    }
  }
}

/** A document this method cannot carry (a keypad has no amount of a link activation): the method's error. */
function binding<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isCapkitError(e, "OPERATION_INVALID")) throw unsuitable(e.message);
    throw e;
  }
}

/** What the verifier judges a code against for a keypad or reader method (`device` has no code). */
export function boundCode(prompt: ApprovalPrompt, code: string, operation: string): BoundCode {
  const bindsTo = `operation:${operation}`;
  if (prompt.method === "ocra") return { code, function: "ocra", challenge: prompt.question, bindsTo };
  if (prompt.method === "cap-sign")
    return {
      code,
      function: "sign",
      challenge: prompt.challenge,
      amount: prompt.amount,
      currency: prompt.currency,
      bindsTo,
    };
  throw new CapkitError("APPROVAL_METHOD_INVALID", "a device operation is decided by the device's signature");
}
