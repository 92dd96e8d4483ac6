import { CapkitError } from "@capkit/core";

/**
 * What the QR code of a desktop-initiated activation carries (the bank's Sogenet page draws it, the app reads
 * it): the activation to join and the `web-session` feature's code, which only the customer's authenticated
 * session shows (@capkit/provision: the registration id is public, the web-session code is the QR's secret).
 * The SMS code then comes to the phone: two features, two channels (PSD2 RTS Art. 25). A URI, so a phone's
 * camera app hands it to the app: `sogesmart:activation?v=1&a=…&r=…&s=…&w=…`.
 */
export interface QrActivation {
  readonly activationId: string;
  readonly regId: string;
  readonly serverIdentity: string;
  readonly webSession: string;
}

const SCHEME = "sogesmart:activation";
const HEX32 = /^[0-9a-f]{32}$/;
const NAME = /^[A-Za-z0-9.:-]{1,255}$/;

export function qrActivationText(a: QrActivation): string {
  const q = new URLSearchParams({
    v: "1",
    a: a.activationId,
    r: a.regId,
    s: a.serverIdentity,
    w: a.webSession,
  });
  return `${SCHEME}?${q.toString()}`;
}

/** The QR's text read back; INPUT_INVALID for anything else (the app says it is not SogeSmart's QR code). */
export function parseQrActivation(text: unknown): QrActivation {
  const bad = () => new CapkitError("INPUT_INVALID", "not a SogeSmart activation QR code");
  if (typeof text !== "string" || text.length > 400 || !text.startsWith(`${SCHEME}?`)) throw bad();
  const q = new URLSearchParams(text.slice(SCHEME.length + 1));
  const [v, a, r, s, w] = ["v", "a", "r", "s", "w"].map((k) => q.get(k));
  if (v !== "1" || !a || !r || !s || !w) throw bad();
  if (!HEX32.test(a) || !HEX32.test(r) || !HEX32.test(w) || !NAME.test(s)) throw bad();
  return { activationId: a, regId: r, serverIdentity: s, webSession: w };
}
