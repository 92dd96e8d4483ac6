import { CapkitError } from "@capkit/core";
import { loadNodeHid } from "./load.js";

/**
 * USB HID for support staff: which OTP tokens and readers are plugged in, and whether a token is a
 * keyboard-wedge one (it "types" the code as a USB keyboard, then Enter).
 */
export const KNOWN_HID_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x1050, "Yubico"],
  [0x096e, "Feitian"],
  [0x1a44, "OneSpan (Vasco)"],
  [0x08e6, "Gemalto"],
  [0x072f, "ACS"],
  [0x04e6, "Identiv (SCM)"],
  [0x076b, "HID Omnikey"],
  [0x046a, "Cherry"],
  [0x20a0, "Nitrokey"],
  [0x349e, "Token2"],
  [0x0c27, "RF IDeas"],
]);

/** A USB HID device of a known token or reader vendor. */
export interface HidToken {
  /** The vendor's name (Yubico, OneSpan…). */
  readonly vendor: string;
  /** The USB vendor id, 4 hex digits. */
  readonly vendorId: string;
  /** The USB product id, 4 hex digits. */
  readonly productId: string;
  /** The product string the device reports, if any. */
  readonly product: string | undefined;
  /** The HID device path, if the platform gives one. */
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
    const vendor = KNOWN_HID_VENDORS.get(d.vendorId);
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
