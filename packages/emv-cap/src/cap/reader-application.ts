import { asciiToBytes, CapkitError, fromHex, toHex } from "@capkit/core";
import { TAG } from "../protocol/tags.js";
import { findTlv, type Tlv } from "../tlv.js";
import type { CodeRule } from "./code.js";
import { READER_PROFILES, type ReaderApplication, type ReaderProfile } from "./profiles.js";

/**
 * Which of a reader profile's sets of constants a card's application gets (docs/architecture.md §3.4): the one
 * rule the CAP engine, the issuer-side model and `--explain` share.
 */

/** What a reader knows of the card's application when it fills the PDOL: the AID and the FCI. */
export interface CardApplicationFacts {
  readonly aid: string;
  /**
   * A Belgian card, as a Vasco DIGIPASS 810 tells one (doegox/EMV-CAP): the FCI's issuer discretionary data
   * holds cardholder nationality (5F2C) 0056 and a DF07 starting "BKS056". Undefined: not known (an issuer
   * record names its reader application instead).
   */
  readonly belgian: boolean | undefined;
}

/** The cardholder nationality of a Belgian card (ISO 3166 numeric 056, n3 in 2 bytes). */
const BELGIUM = "0056";
const BELGIAN_CARD_ID_PREFIX = toHex(asciiToBytes("BKS056"));

/** The facts of a selected application, from its FCI. */
export function cardFactsOf(aid: string, fci: readonly Tlv[]): CardApplicationFacts {
  const nationality = findTlv(fci, TAG.CARDHOLDER_NATIONALITY)?.value;
  const id = findTlv(fci, TAG.BANKSYS_ID)?.value;
  const belgian =
    nationality !== undefined &&
    toHex(nationality) === BELGIUM &&
    id !== undefined &&
    toHex(id).startsWith(BELGIAN_CARD_ID_PREFIX);
  return { aid, belgian };
}

export interface ResolvedApplication {
  readonly application: ReaderApplication;
  /** The profile has no constants for this application: `application` is its first set, and a warning says so. */
  readonly fallback: boolean;
}

function fits(a: ReaderApplication, facts: CardApplicationFacts): boolean {
  return a.aids.includes(facts.aid) && (a.cards !== "belgian" || facts.belgian === true);
}

/** The constants a reader following `profile` sends to the application described by `facts`. */
export function readerApplicationFor(
  profile: ReaderProfile,
  facts: CardApplicationFacts,
): ResolvedApplication {
  if (
    facts.belgian === undefined &&
    profile.applications.some((a) => a.cards && a.aids.includes(facts.aid))
  ) {
    const ids = profile.applications.filter((a) => a.aids.includes(facts.aid)).map((a) => a.id);
    throw new CapkitError(
      "PROFILE_INVALID",
      `the ${profile.name} profile fills ${facts.aid} differently for Belgian cards and others: name the reader application`,
      { hint: `one of: ${ids.join(", ")}`, details: { aid: facts.aid, applications: ids } },
    );
  }
  const application = profile.applications.find((a) => fits(a, facts));
  return application
    ? { application, fallback: false }
    : { application: profile.applications[0]!, fallback: true };
}

/** A profile's constants by id (what an issuer record names); PROFILE_INVALID for an id it does not have. */
export function readerApplicationById(profile: ReaderProfile, id: string, aid: string): ResolvedApplication {
  const application = profile.applications.find((a) => a.id === id);
  if (!application)
    throw new CapkitError("PROFILE_INVALID", `the ${profile.name} profile has no application "${id}"`, {
      hint: `it has: ${profile.applications.map((a) => a.id).join(", ")}`,
    });
  return { application, fallback: !application.aids.includes(aid) };
}

/** The AIDs of a profile's payment applications, in the order its reader tries them. */
export function paymentAids(profile: ReaderProfile): string[] {
  return [...new Set(profile.applications.filter((a) => a.payment).flatMap((a) => a.aids))];
}

/** The built-in profiles that have constants for an AID (to suggest one). */
export function profilesFor(aid: string): string[] {
  return Object.values(READER_PROFILES)
    .filter((p) => p.applications.some((a) => a.aids.includes(aid)))
    .map((p) => p.name);
}

/**
 * What to tell the holder about the constants used: none for a set the profile was made for; a warning for an
 * application it has no constants for, for a payment application (the bank must accept codes from it), and
 * for constants no public recording shows.
 */
export function readerApplicationWarnings(
  profile: ReaderProfile,
  aid: string,
  resolved: ResolvedApplication,
): string[] {
  const a = resolved.application;
  const out: string[] = [];
  if (resolved.fallback) {
    const others = profilesFor(aid).filter((p) => p !== profile.name);
    out.push(
      `the ${profile.name} profile has no constants for application ${aid}: it sent its ${a.name} ones, and a reader made for this application may send others (each enters the code)${others.length ? `; profiles with constants for it: ${others.join(", ")}` : ""}`,
    );
  }
  if (a.payment && !resolved.fallback)
    out.push(
      `no CAP/DPA application answered: used the payment application ${aid} (${a.name}), as the ${profile.name} reader does; the bank must accept codes from this application`,
    );
  if (a.assumed) out.push(`${a.name}: ${a.source}`);
  return out;
}

/**
 * How the code is made for this application and card (docs/architecture.md §3.5): the reader's formula, and
 * the card's IPB or the profile's fallback. `fallbackIpb` is true when the card had no IPB and the profile's
 * stands in (a warning).
 */
export function codeRuleFor(
  application: ReaderApplication,
  cardIpb: Uint8Array | undefined,
  profile: ReaderProfile,
): { readonly rule: CodeRule; readonly fallbackIpb: boolean } {
  if (application.code === "belgian" || (application.code === "ipb-else-belgian" && !cardIpb))
    return { rule: { kind: "belgian" }, fallbackIpb: false };
  if (cardIpb) return { rule: { kind: "ipb", ipb: cardIpb }, fallbackIpb: false };
  return { rule: { kind: "ipb", ipb: fromHex(profile.fallbackIpb) }, fallbackIpb: true };
}
