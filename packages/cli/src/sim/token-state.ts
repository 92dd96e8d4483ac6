import { closeSync, openSync, readFileSync } from "node:fs";
import { CapkitError } from "@capkit/core";
import { writeSecretJsonFile } from "@capkit/token-sim/node";
import { usage } from "../shared/output.js";

/**
 * A simulated SGpass-style token kept in a JSON file (mode 0600: it holds the seed and the PIN), so that it
 * behaves like the device across runs: the HOTP counter only moves forward and wrong PINs stay counted.
 */
export const TOKEN_FORMAT = "capkit-sim-token/1";

export interface TokenState {
  readonly format: typeof TOKEN_FORMAT;
  readonly kind: "hotp" | "totp";
  /** The seed, hex. */
  readonly secret: string;
  readonly algorithm: "SHA1" | "SHA256" | "SHA512";
  readonly digits: number;
  readonly step: number;
  /** HOTP: the next counter value. */
  readonly counter: number;
  readonly pin: string | null;
  readonly pinFailures: number;
}

export function readTokenState(path: string): TokenState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw usage(`cannot read the token file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw usage(`the token file ${path} is not valid JSON`);
  }
  const ok =
    s["format"] === TOKEN_FORMAT &&
    (s["kind"] === "hotp" || s["kind"] === "totp") &&
    typeof s["secret"] === "string" &&
    /^([0-9A-F]{2})+$/i.test(s["secret"]) &&
    ["SHA1", "SHA256", "SHA512"].includes(s["algorithm"] as string) &&
    Number.isInteger(s["digits"]) &&
    Number.isInteger(s["step"]) &&
    Number.isInteger(s["counter"]) &&
    (s["pin"] === null || (typeof s["pin"] === "string" && /^[0-9]{4,8}$/.test(s["pin"]))) &&
    Number.isInteger(s["pinFailures"]);
  if (!ok) throw new CapkitError("INPUT_INVALID", `${path} is not a ${TOKEN_FORMAT} token file`);
  return s as unknown as TokenState;
}

/** Written whole: a temporary file, flushed, renamed over the old one. */
export function writeTokenState(path: string, state: TokenState, create = false): void {
  if (create) {
    try {
      closeSync(openSync(path, "wx", 0o600));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw usage(code === "EEXIST" ? `${path} already exists` : `cannot create ${path}: ${code}`);
    }
  }
  writeSecretJsonFile(path, state);
}
