import { createRequire } from "node:module";
import { CapkitError } from "@capkit/core";
import type { PcscliteFactory } from "./pcsclite-types.js";

/**
 * The native modules are optional dependencies, loaded on first use: importing `@capkit/reader-pcsc` works
 * everywhere, and only using a reader needs pcsclite (and libpcsclite + pcscd) or node-hid.
 */
const require = createRequire(import.meta.url);

let pcsclite: PcscliteFactory | undefined;

export function loadPcsclite(): PcscliteFactory {
  if (pcsclite) return pcsclite;
  try {
    pcsclite = require("pcsclite") as PcscliteFactory;
    return pcsclite;
  } catch (e) {
    throw new CapkitError(
      "PCSC_UNAVAILABLE",
      "the PC/SC module (npm pcsclite) is not installed or failed to load",
      {
        hint: "Debian: apt-get install pcscd libpcsclite-dev, then reinstall capkit so pcsclite builds",
        cause: e,
      },
    );
  }
}

export function loadNodeHid(): typeof import("node-hid") {
  try {
    return require("node-hid") as typeof import("node-hid");
  } catch (e) {
    throw new CapkitError(
      "HID_UNAVAILABLE",
      "USB HID support (npm node-hid) is not installed or failed to load",
      {
        hint: "install node-hid; at run time it needs libusb and libudev",
        cause: e,
      },
    );
  }
}
