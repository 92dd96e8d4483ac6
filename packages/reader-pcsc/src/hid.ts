import { CapkitError } from "@capkit/core";
import { loadNodeHid } from "./load.js";

/**
 * USB HID for support staff: which OTP tokens and readers are plugged in, and capturing an OTP typed by a
 * keyboard-wedge token (it "types" the code as a USB keyboard, then Enter).
 */
export const KNOWN_HID_VENDORS: Readonly<Record<number, string>> = {
  4176: "Yubico",
  2414: "Feitian",
  6724: "OneSpan (Vasco)",
  2278: "Gemalto",
  1839: "ACS",
  1254: "Identiv (SCM)",
  1899: "HID Omnikey",
  1130: "Cherry",
  8352: "Nitrokey",
  13470: "Token2",
  3111: "RF IDeas",
};

export interface HidToken {
  readonly vendor: string;
  readonly vendorId: string;
  readonly productId: string;
  readonly product: string | undefined;
  readonly path: string | undefined;
  /** Presents itself as a keyboard (usage page 1, usage 6): a keyboard-wedge OTP token. */
  readonly keyboard: boolean;
}

const hex4 = (n: number) => n.toString(16).padStart(4, "0");

/** HID devices of known token and reader vendors; an empty list when there are none. */
export function listHidTokens(): HidToken[] {
  const hid = loadNodeHid();
  let devices: ReturnType<typeof hid.devices>;
  try {
    devices = hid.devices();
  } catch (e) {
    throw new CapkitError("HID_UNAVAILABLE", `cannot list USB HID devices: ${(e as Error).message}`, {
      hint: "USB HID access needs libusb and libudev, and permission on /dev/hidraw* (udev rules)",
      cause: e,
    });
  }
  const seen = new Set<string>();
  const out: HidToken[] = [];
  for (const d of devices) {
    const vendor = KNOWN_HID_VENDORS[d.vendorId];
    if (!vendor) continue;
    const keyboard = d.usagePage === 1 && d.usage === 6;
    const key = `${d.vendorId}:${d.productId}:${d.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      vendor,
      vendorId: hex4(d.vendorId),
      productId: hex4(d.productId),
      product: d.product,
      path: d.path,
      keyboard,
    });
  }
  return out;
}

export type KeyboardLayout = "us" | "fr";

const US_ROW = ["1234567890", "!@#$%^&*()"] as const;
const FR_ROW = ["&é\"'(-è_çà", "1234567890"] as const;
const US_LETTERS = "abcdefghijklmnopqrstuvwxyz";
// AZERTY letters by the US key they sit on (usages 0x04–0x1D), and usage 0x33 is 'm'.
const FR_LETTERS = "qbcdefghijkl,noparstuvzxyw";
const KEYPAD = "1234567890"; // usages 0x59–0x62, the same on every layout (NumLock on)

/** The character a key usage (HID Keyboard page 0x07) types on a host with `layout`. */
function charFor(usage: number, shift: boolean, layout: KeyboardLayout): string | undefined {
  if (usage >= 0x04 && usage <= 0x1d) {
    const c = (layout === "fr" ? FR_LETTERS : US_LETTERS)[usage - 0x04]!;
    return shift ? c.toUpperCase() : c;
  }
  if (usage >= 0x1e && usage <= 0x27) return (layout === "fr" ? FR_ROW : US_ROW)[shift ? 1 : 0][usage - 0x1e];
  if (usage >= 0x59 && usage <= 0x62) return KEYPAD[usage - 0x59];
  if (usage === 0x2c) return " ";
  if (usage === 0x33) return layout === "fr" ? (shift ? "M" : "m") : shift ? ":" : ";";
  return undefined;
}

export interface DecodedKeys {
  readonly text: string;
  /** Enter (0x28) or keypad Enter (0x58) was typed: the token finished. */
  readonly complete: boolean;
}

/**
 * Boot-protocol keyboard reports (8 bytes: modifiers, reserved, up to 6 key usages; a leading report ID is
 * dropped) → the text a host with `layout` would see. A key counts when it appears in a report, not while it
 * stays held.
 */
export function decodeKeyboardReports(reports: readonly Uint8Array[], layout: KeyboardLayout): DecodedKeys {
  let held = new Set<number>();
  let text = "";
  for (const raw of reports) {
    const r = raw.length === 9 ? raw.subarray(1) : raw;
    if (r.length < 8) continue;
    const shift = (r[0]! & 0x22) !== 0; // left or right Shift
    const now = new Set<number>();
    for (let i = 2; i < 8; i++) if (r[i]! >= 0x04) now.add(r[i]!);
    for (const usage of now) {
      if (held.has(usage)) continue;
      if (usage === 0x28 || usage === 0x58) return { text, complete: true };
      const c = charFor(usage, shift, layout);
      if (c !== undefined) text += c;
    }
    held = now;
  }
  return { text, complete: false };
}

/** Waits for a keyboard-wedge token at `path` to type a code and Enter; resolves to what it typed. */
export async function captureKeyboardOtp(
  path: string,
  options: { layout: KeyboardLayout; timeoutMs?: number; signal?: AbortSignal },
): Promise<string> {
  const hid = loadNodeHid();
  let device: InstanceType<typeof hid.HID>;
  try {
    device = new hid.HID(path);
  } catch (e) {
    throw new CapkitError("HID_UNAVAILABLE", `cannot open ${path}: ${(e as Error).message}`, {
      hint: "reading a keyboard directly needs permission on its /dev/hidraw* node",
      cause: e,
    });
  }
  const reports: Uint8Array[] = [];
  return new Promise<string>((resolve, reject) => {
    const finish = (err?: unknown, text?: string) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      device.removeAllListeners();
      device.close();
      if (err) reject(err);
      else resolve(text!);
    };
    const onAbort = () => finish(options.signal?.reason ?? new CapkitError("TIMEOUT", "capture cancelled"));
    const timer = setTimeout(
      () => finish(new CapkitError("TIMEOUT", "no code typed in time", { hint: "press the token's button" })),
      options.timeoutMs ?? 30_000,
    );
    options.signal?.addEventListener("abort", onAbort);
    device.on("data", (data: Buffer) => {
      reports.push(new Uint8Array(data));
      const d = decodeKeyboardReports(reports, options.layout);
      if (d.complete) finish(undefined, d.text);
    });
    device.on("error", (e: unknown) =>
      finish(new CapkitError("HID_UNAVAILABLE", `HID read failed: ${String(e)}`)),
    );
  });
}
