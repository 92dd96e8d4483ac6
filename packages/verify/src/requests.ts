import { CapkitError, isRecord } from "@capkit/core";
import { amountToMinorUnits, validateTds } from "@capkit/emv-cap";
import type { CodeFunction } from "./model.js";

/**
 * The door (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6, "Input"): every argument of every public method is checked here before
 * anything is counted or stored. A bad one is INPUT_INVALID, with a message that names the argument and what
 * it must be; it never reaches a store, never counts as a failure and never looks like an outage. Records are
 * read only through their own keys: a field named "constructor" or "__proto__" is a field like any other.
 */

/** Credential and user ids as at enrolment. */
const ID = /^[\w.@:+-]{1,128}$/;

/** A code as typed is short: anything longer is not a code a person typed (nor an id to write to the audit). */
export const MAX_CODE_LENGTH = 64;

const FUNCTIONS: readonly CodeFunction[] = ["identify", "respond", "sign", "ocra"];

/** Challenge ids are the 16 CSPRNG bytes issueChallenge hands out, in hex. */
const CHALLENGE_ID = /^[0-9a-f]{32}$/;

/** The fields a verification request may carry; anything else is a typo, refused rather than ignored. */
const VERIFY_FIELDS = new Set([
  "id",
  "user",
  "code",
  "function",
  "challengeId",
  "amount",
  "currency",
  "tds",
  "requestId",
  "source",
]);

export function invalid(message: string, hint?: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message, hint === undefined ? {} : { hint });
}

/** An id as enrolled: CREDENTIAL_INVALID at enrolment, INPUT_INVALID in a request that names one. */
export function checkId(
  id: unknown,
  what: string,
  code: "CREDENTIAL_INVALID" | "INPUT_INVALID" = "INPUT_INVALID",
): asserts id is string {
  if (typeof id !== "string" || !ID.test(id)) {
    throw new CapkitError(code, `${what} is 1–128 letters, digits or . @ : + - _`);
  }
}

/** The value of own key `key`, never an inherited one ("constructor", "toString", "__proto__"). */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A request object: a plain object whose fields are all known ones. */
export function checkFields(req: unknown, what: string, fields: ReadonlySet<string>): void {
  // A Date, bytes or a Map given for a request would read as one with every field missing: refused as itself.
  if (!isRecord(req)) throw invalid(`${what} is an object`);
  for (const k in req) {
    if (!fields.has(k) && Object.hasOwn(req, k) && (req as Record<string, unknown>)[k] !== undefined)
      throw invalid(
        `${what} has an unknown field "${k.slice(0, 32)}"`,
        `its fields: ${[...fields].join(", ")}`,
      );
  }
}

/** A code as typed: a string of at most MAX_CODE_LENGTH characters (what it holds is judged, and counted). */
export function checkCode(code: unknown, what = "the code"): asserts code is string {
  if (typeof code !== "string")
    throw invalid(
      `${what} is a string, as typed (got ${code === null ? "null" : typeof code})`,
      'send "123456", not 123456: a number loses its leading zeros',
    );
  if (code.length > MAX_CODE_LENGTH) throw invalid(`${what} is at most ${MAX_CODE_LENGTH} characters`);
}

/**
 * verify(): the shape of the request. What the request names (which credential, whether the code is right) is
 * judged later; what no credential could accept is refused here. With `function` named, the inputs must go
 * with it; without, the credential's own default function decides (an OCRA token's is "ocra"), so a missing or
 * superfluous challenge is then judged — and counted — like any wrong code, whatever kind the id has or lacks.
 */
export function checkVerifyRequest(req: unknown): void {
  checkFields(req, "a verification request", VERIFY_FIELDS);
  const r = req as Record<string, unknown>;
  const { id, user, code, challengeId, amount, currency, tds, requestId } = r;
  const fn = r["function"];
  if (id === undefined && user === undefined) throw invalid("verify needs an id or a user");
  if (id !== undefined && user !== undefined) throw invalid("verify takes an id or a user, not both");
  if (id !== undefined) checkId(id, "the credential id");
  if (user !== undefined) checkId(user, "the user id");
  checkCode(code);
  if (fn !== undefined && (typeof fn !== "string" || !FUNCTIONS.includes(fn as CodeFunction)))
    throw invalid(`the function is one of ${FUNCTIONS.join(", ")}`);
  if (challengeId !== undefined && (typeof challengeId !== "string" || !CHALLENGE_ID.test(challengeId)))
    throw invalid("the challenge id is the 32 hex digits issueChallenge returned");
  if (amount !== undefined) {
    if (typeof amount !== "string" || amount.length > 32)
      throw invalid("the amount is a string like 1234.56");
    amountToMinorUnits(amount);
  }
  if (currency !== undefined && (typeof currency !== "string" || !/^[0-9]{3}$/.test(currency)))
    throw invalid("the currency is a 3-digit ISO 4217 numeric code (EUR 978, GBP 826)");
  if (tds !== undefined) {
    if (!Array.isArray(tds) || tds.length > 10 || !tds.every((t) => typeof t === "string"))
      throw invalid("tds is an array of 1 to 10 strings of digits");
    validateTds(tds as string[]);
  }
  if (requestId !== undefined) checkId(requestId, "the request id");
  checkSource(r["source"]);
  if (user !== undefined && ((fn !== undefined && fn !== "identify") || challengeId !== undefined))
    throw invalid("by user, only identify codes: a challenge is issued for one credential", "verify by id");
  if (fn === "identify" && challengeId !== undefined) throw invalid("identify takes no challenge");
  if (fn !== undefined && fn !== "identify" && challengeId === undefined)
    throw invalid(`${fn} answers a challenge: give its challengeId`);
  if ((amount !== undefined || currency !== undefined) && fn !== "sign")
    throw invalid("an amount and a currency go with function sign");
  if (fn === "sign" && amount === undefined) throw invalid("sign needs the amount typed on the reader");
  if (tds !== undefined && fn !== undefined && fn !== "identify")
    throw invalid("TDS numbers go with identify");
}

/** Who asks (a throttle's key, an actor): an address, a session id, a name; printable, at most 256 characters. */
export function checkSource(source: unknown, what = "the source"): void {
  if (source !== undefined && (typeof source !== "string" || !/^[\x21-\x7e]{1,256}$/.test(source)))
    throw invalid(`${what} is 1–256 printable characters (an address, a session id, a name)`);
}

/** auditTrail's query: a page after a seq, by credential or user, by time. */
export function checkAuditQuery(q: unknown): void {
  checkFields(q, "the audit query", new Set(["after", "limit", "credential", "user", "since", "until"]));
  const r = q as Record<string, unknown>;
  if (r["after"] !== undefined) integerIn(r["after"], 0, Number.MAX_SAFE_INTEGER, "after (a seq)");
  if (r["credential"] !== undefined) checkId(r["credential"], "the credential id");
  if (r["user"] !== undefined) checkId(r["user"], "the user id");
  if (r["since"] !== undefined) checkTime(r["since"], "since");
  if (r["until"] !== undefined) checkTime(r["until"], "until");
}

/** The function a challenge is issued for. */
export function checkChallengeFunction(fn: unknown): asserts fn is Exclude<CodeFunction, "identify"> {
  if (fn !== "respond" && fn !== "sign" && fn !== "ocra")
    throw invalid("a challenge is issued for respond, sign or ocra");
}

/** An integer in [min, max] or INPUT_INVALID (NaN, fractions, strings and unsafe integers are refused). */
export function integerIn(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * An optional integer in [min, max]: `fallback` when not given. Only `undefined` is "not given": `null` is a
 * value (plain JavaScript's, or JSON's), refused like any other that is not a number.
 */
export function integerOr(value: unknown, fallback: number, min: number, max: number, what: string): number {
  return integerIn(value === undefined ? fallback : value, min, max, what);
}

/** A point in time: a valid Date or milliseconds since the epoch. */
export function checkTime(at: unknown, what: string): number {
  const ms = at instanceof Date ? at.getTime() : at;
  if (typeof ms !== "number" || !Number.isSafeInteger(ms))
    throw invalid(`${what} is a valid Date or a whole number of ms since the epoch`);
  return ms;
}

/** An options object (undefined: none), with only the fields given. */
export function checkOptions(options: unknown, what: string, fields: readonly string[]): void {
  if (options !== undefined) checkFields(options, what, new Set(fields));
}
