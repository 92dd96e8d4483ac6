/**
 * What the QR code of a desktop-initiated SogeSmart activation carries, written by the bank's page and read by
 * the app: no DOM, so a Node server imports it to draw the QR code.
 *
 * @packageDocumentation
 */

/**
 * A desktop-initiated activation, as its QR code carries it (the bank's Sogenet page draws it, the app reads
 * it): the activation to join and the `web-session` feature's code, which only the customer's authenticated
 * session shows (`@capkit/provision`: the registration id is public, the web-session code is the QR's secret).
 * The SMS code then comes to the phone: two features, two channels (PSD2 RTS Art. 25).
 */
export interface QrActivation {
  /** The activation's id (32 lower-case hex digits), as the bank's Provisioner made it. */
  readonly activationId: string;
  /** The registration id (32 lower-case hex digits). */
  readonly regId: string;
  /** The bank's identity in the activation protocol (1 to 255 of `A–Z a–z 0–9 . : -`). */
  readonly serverIdentity: string;
  /** The `web-session` feature's code (32 lower-case hex digits): the QR's secret. */
  readonly webSession: string;
}

// (The imports follow the first export: a .d.ts drops a runtime-only import, and the package comment with it.)
import { argumentError, CapkitError, expectRecord } from "@capkit/core";
import { expectFormat } from "../door.js";

const SCHEME = "sogesmart:activation";
const HEX32 = /^[0-9a-f]{32}$/;
const NAME = /^[A-Za-z0-9.:-]{1,255}$/;
/** Each field's rule, for both directions: a QR written is one that reads back. */
const FIELDS = [
  ["activationId", "a", HEX32, "32 lower-case hex digits"],
  ["regId", "r", HEX32, "32 lower-case hex digits"],
  ["serverIdentity", "s", NAME, "1 to 255 letters, digits or . : -"],
  ["webSession", "w", HEX32, "32 lower-case hex digits"],
] as const;
/** The longest text a valid QR makes, with room: anything longer is refused before it is parsed. */
const MAX_TEXT = 400;

/**
 * The QR code's text for an activation: a URI, so a phone's camera app hands it to the app —
 * `sogesmart:activation?v=1&a=…&r=…&s=…&w=…`.
 *
 * @throws `INPUT_INVALID` naming the field that does not follow its format (never a QR the app cannot read)
 *
 * @example
 * ```ts
 * import { qrActivationText } from "@capkit/web/sogesmart/qr";
 *
 * const text = qrActivationText({ activationId, regId, serverIdentity: "bank.example", webSession });
 * // draw `text` as a QR code on the customer's Sogenet page (e.g. with the `qr` package)
 * ```
 */
export function qrActivationText(activation: QrActivation): string {
  const a = expectRecord<Record<string, unknown>>(
    activation,
    "the activation",
    "an object ({ activationId, regId, serverIdentity, webSession })",
  );
  const q = new URLSearchParams({ v: "1" });
  for (const [field, key, format, expected] of FIELDS)
    q.set(key, expectFormat(a[field], field, format, expected));
  return `${SCHEME}?${q.toString()}`;
}

/**
 * A QR code's text read back, as the app does when it scans one.
 *
 * @param text - what the camera read
 * @throws `INPUT_INVALID` for anything but an activation QR code's text (the app then says it is not
 *   SogeSmart's QR code)
 *
 * @example
 * ```ts
 * import { parseQrActivation } from "@capkit/web/sogesmart/qr";
 *
 * const { activationId, webSession } = parseQrActivation(scannedText);
 * ```
 */
export function parseQrActivation(text: unknown): QrActivation {
  if (typeof text !== "string")
    throw argumentError("INPUT_INVALID", "the QR code's text", "a string (sogesmart:activation?…)", text);
  const bad = () => new CapkitError("INPUT_INVALID", "not a SogeSmart activation QR code");
  if (text.length > MAX_TEXT || !text.startsWith(`${SCHEME}?`)) throw bad();
  const q = new URLSearchParams(text.slice(SCHEME.length + 1));
  if (q.get("v") !== "1") throw bad();
  const out: Record<string, string> = {};
  for (const [field, key, format] of FIELDS) {
    const value = q.get(key);
    if (value === null || !format.test(value)) throw bad();
    out[field] = value;
  }
  return out as unknown as QrActivation;
}
