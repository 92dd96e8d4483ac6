import { CapkitError } from "@capkit/core";
import type { CredentialParams } from "../model.js";
import { own } from "../requests.js";
import { capKind } from "./cap.js";
import { hotpKind } from "./hotp.js";
import type { KindRules } from "./kind.js";
import { ocraKind } from "./ocra.js";
import { totpKind } from "./totp.js";

export type { CapEnrollRequest } from "./cap.js";
export type { HotpEnrollRequest } from "./hotp.js";
export type { OcraEnrollRequest } from "./ocra.js";
export type { TotpEnrollRequest } from "./totp.js";

/** The four kinds by name: the one place the verifier looks a kind up. */
// biome-ignore lint/suspicious/noExplicitAny: each entry is typed by its own file; the shell treats them alike
export const KINDS: Record<CredentialParams["kind"], KindRules<any, any, any>> = {
  cap: capKind,
  hotp: hotpKind,
  totp: totpKind,
  ocra: ocraKind,
};

/** A kind's rules, looked up among KINDS' own keys: a stored "constructor" is no kind (CREDENTIAL_INVALID). */
// biome-ignore lint/suspicious/noExplicitAny: as KINDS
export function rulesOf(kind: string): KindRules<any, any, any> {
  const rules = own(KINDS, kind);
  if (!rules)
    throw new CapkitError("CREDENTIAL_INVALID", `unknown credential kind "${String(kind).slice(0, 32)}"`);
  return rules;
}
