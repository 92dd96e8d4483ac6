import type { CodeFunction, StoredCredential } from "./model.js";
import type { VerifyResult } from "./verifier.js";

/**
 * The door `Verifier` opens to the approvals beside it in this package (src/approvals/): keyed by a symbol no
 * entry point exports, so not part of the public API.
 */
export const VERIFIER_INTERNALS: unique symbol = Symbol("capkit.verifierInternals");

/** A code for an operation, judged against the challenge the operation itself derives. */
export interface BoundCode {
  /** The code as typed (the verifier's input rules: spaces allowed, anything else non-numeric is a failure). */
  readonly code: string;
  readonly function: Extract<CodeFunction, "sign" | "ocra">;
  /**
   * The challenge derived from the operation (an OCRA question, a CAP Sign challenge): no server-issued
   * challenge is taken, since the operation is itself single-use and what binds the code.
   */
  readonly challenge: string;
  /** CAP Sign: the amount and ISO 4217 numeric currency, as typed on the reader. */
  readonly amount?: string;
  readonly currency?: string;
  /** Names the operation in the replay check: an accepted code answers again only for the same operation. */
  readonly bindsTo: string;
}

export interface VerifierInternals {
  /** The credential as stored (its kind, parameters, state and user), or undefined. */
  credential(id: string): Promise<StoredCredential | undefined>;
  /**
   * Judges a code for one credential as `verify` does — in the credential's lockout subject, one at a time, the
   * same work whatever the outcome, one-time use — against the given challenge.
   */
  verifyBound(id: string, code: BoundCode): Promise<VerifyResult>;
}
