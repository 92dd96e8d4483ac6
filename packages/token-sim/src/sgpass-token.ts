import {
  argumentError,
  CapkitError,
  constantTimeEqual,
  expectBoolean,
  expectInteger,
  expectOneOf,
  expectRecord,
  expectString,
} from "@capkit/core";
import {
  HmacKey,
  HotpGenerator,
  OATH_ALGORITHMS,
  type OathAlgorithm,
  Ocra,
  type PskcKey,
  tokenFromOtpAuth,
  tokenFromPskcKey,
  totpStep,
} from "@capkit/oath";
import { type Clock, expectClock, systemClock } from "./clock.js";
import { DeviceDisplay } from "./display.js";
import { sgpassConfigOf } from "./token-provisioning.js";

/**
 * An SGpass-style token: a DIGIPASS-class device (button, optional 4-digit PIN locking after 5 wrong tries,
 * keypad challenge/response and signature) implemented on the open OATH algorithms — HOTP, TOTP and OCRA.
 * It does not reproduce the vendor's proprietary algorithm
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §5).
 */
export interface SgpassConfig {
  /** Time-based (the button shows the current TOTP) or counter-based. */
  readonly kind: "totp" | "hotp";
  /** The seed, as bytes (16 or more, unless `allowShortSecret`). */
  readonly secret: Uint8Array;
  /** The HMAC hash (SHA1). */
  readonly algorithm?: OathAlgorithm;
  /** The code length, 6 to 10 (6). */
  readonly digits?: number;
  /** TOTP step in seconds (30 on DIGIPASS GO-class tokens). */
  readonly step?: number;
  /** TOTP's T0, Unix seconds (0). */
  readonly t0?: number;
  /** HOTP: the next counter value. */
  readonly counter?: number;
  /** A PIN the holder types before codes are shown. */
  readonly pin?: string;
  /** Wrong PINs typed so far (restored from a saved token: the count survives a restart). */
  readonly pinFailures?: number;
  /** OCRA suite for the keypad functions (challenge/response, signature). */
  readonly ocraSuite?: string;
  /** For old tokens with 80-bit seeds. */
  readonly allowShortSecret?: boolean;
  /** The clock the codes and the display run on ({@link systemClock}). */
  readonly clock?: Clock;
  /** How long an HOTP code stays on the display (`SGPASS_DELAYS.hotpDisplay`, 30 s). */
  readonly displayMs?: number;
}

/** What the token's display is doing. */
export type TokenState = "off" | "pin" | "code" | "locked";

/** What the token's display shows. */
export interface TokenScreen {
  /** What it is doing. */
  readonly state: TokenState;
  /** The display's text (`PIN ?`, the code, `FAIL 2`, `LOCK`). */
  readonly text: string;
  /** The code shown (state `code`). */
  readonly code?: string;
  /** Until when the code is valid (Unix ms): the end of its TOTP step, or the HOTP display time. */
  readonly validUntil?: number;
  /** When the display goes off by itself, on the token's clock (Unix ms); absent: it stays. */
  readonly offAt?: number;
}

/** Wrong PINs in a row that lock the token for good. */
export const TOKEN_PIN_TRIES = 5;

/**
 * How long the token's screens stay: the PIN prompt, and an HOTP code (a TOTP code stays until the end of its
 * time step: that is when it stops being valid).
 */
export const SGPASS_DELAYS = { pinEntry: 30_000, hotpDisplay: 30_000 } as const;

const LOCKED: TokenScreen = { state: "locked", text: "LOCK" };

/**
 * An SGpass-style OATH token in software: a button that shows a code, an optional PIN, and keypad functions
 * on an OCRA suite.
 *
 * @example
 * ```ts
 * const token = SgpassToken.fromUri("otpauth://totp/SG:jo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=SG");
 * token.press().code; // the current 6-digit TOTP
 * ```
 */
export class SgpassToken {
  /** Time-based or counter-based. */
  readonly kind: "totp" | "hotp";
  /** The code length. */
  readonly digits: number;
  readonly #gen: HotpGenerator;
  readonly #config: SgpassConfig;
  readonly #clock: Clock;
  readonly #ocra: Ocra | undefined;
  #counter: number;
  #pinFailures = 0;
  #unlocked = false;
  readonly #display: DeviceDisplay<TokenScreen>;

  /**
   * @throws `INPUT_INVALID` for a malformed field (named), `OTP_SECRET_INVALID`/`OTP_SECRET_TOO_SHORT` for the
   *   seed, `PIN_INVALID` for a PIN that is not 4 to 8 digits, `OCRA_SUITE_INVALID`
   */
  constructor(config: SgpassConfig) {
    checkConfig(config);
    if (config.pin !== undefined && !/^[0-9]{4,8}$/.test(config.pin)) {
      throw new CapkitError("PIN_INVALID", "the token PIN must be 4 to 8 digits");
    }
    this.#config = config;
    this.kind = config.kind;
    this.digits = config.digits ?? 6;
    const keyOptions = config.allowShortSecret ? { allowShortSecret: true } : {};
    this.#gen = new HotpGenerator(
      new HmacKey(config.secret, config.algorithm ?? "SHA1", keyOptions),
      this.digits,
    );
    this.#ocra =
      config.ocraSuite !== undefined ? new Ocra(config.ocraSuite, config.secret, keyOptions) : undefined;
    this.#clock = config.clock ?? systemClock;
    this.#display = new DeviceDisplay<TokenScreen>(this.#clock, { state: "off", text: "" }, () => {
      this.#unlocked = false;
      this.#display.show({ state: "off", text: "" });
    });
    this.#counter = config.counter ?? 0;
    this.#pinFailures = Math.min(TOKEN_PIN_TRIES, Math.max(0, config.pinFailures ?? 0));
  }

  /**
   * Provisioning from an otpauth:// URI, read by `@capkit/oath`'s token parameters (the meaning the CLI and the
   * verifier give it): kind, hash, digits, step and counter from the URI.
   */
  static fromUri(
    uri: string,
    extra: Omit<SgpassConfig, "kind" | "secret" | "algorithm" | "digits" | "step" | "counter"> = {},
  ): SgpassToken {
    return new SgpassToken(sgpassConfigOf(tokenFromOtpAuth(uri, shortSecrets(extra)), extra));
  }

  /**
   * Provisioning from a PSKC key (RFC 6030), as DIGIPASS OATH tokens ship, read by `@capkit/oath`'s token
   * parameters: the hash from its `<Suite>`, the digits, step and counter. An OCRA key is refused (the button
   * shows HOTP or TOTP codes).
   */
  static fromPskc(key: PskcKey, extra: Omit<SgpassConfig, "kind" | "secret"> = {}): SgpassToken {
    return new SgpassToken(sgpassConfigOf(tokenFromPskcKey(key, shortSecrets(extra)), extra));
  }

  /** What the display shows now. */
  get screen(): TokenScreen {
    return this.#display.screen;
  }

  /** The next HOTP counter (persist it with the token). */
  get counter(): number {
    return this.#counter;
  }

  /** Wrong PINs in a row so far (persist it with the token). */
  get pinFailures(): number {
    return this.#pinFailures;
  }

  /** Whether five wrong PINs in a row have locked it. */
  get locked(): boolean {
    return this.#pinFailures >= TOKEN_PIN_TRIES;
  }

  /** Subscribes to screen changes; returns the unsubscribe function. */
  onScreen(listener: (s: TokenScreen) => void): () => void {
    if (typeof listener !== "function")
      throw argumentError("INPUT_INVALID", "the listener", "a function", listener);
    return this.#display.subscribe(listener);
  }

  /** The button: shows a code, or asks for the PIN first. */
  press(): TokenScreen {
    if (this.locked) return this.#display.show(LOCKED);
    if (this.#config.pin !== undefined && !this.#unlocked)
      return this.#display.show({ state: "pin", text: "PIN ?" }, SGPASS_DELAYS.pinEntry);
    return this.#showCode();
  }

  /** Types the PIN; five wrong PINs in a row lock the token for good. */
  enterPin(pin: string): TokenScreen {
    expectString(pin, "the PIN", "PIN_INVALID");
    if (this.locked) return this.#display.show(LOCKED);
    const expected = this.#config.pin;
    if (expected === undefined) return this.#showCode();
    const ok = constantTimeEqual(
      new TextEncoder().encode(pin.padEnd(8)),
      new TextEncoder().encode(expected.padEnd(8)),
    );
    if (!ok) {
      this.#pinFailures++;
      if (this.locked) return this.#display.show(LOCKED);
      return this.#display.show({ state: "pin", text: `FAIL ${this.#pinFailures}` }, SGPASS_DELAYS.pinEntry);
    }
    this.#pinFailures = 0;
    this.#unlocked = true;
    return this.#showCode();
  }

  /** Keypad challenge/response (OCRA, e.g. `OCRA-1:HOTP-SHA1-8:QN08`). */
  respond(challenge: string): string {
    return this.#ocraResponse(expectString(challenge, "the challenge", "OCRA_INPUT_INVALID"));
  }

  /** Keypad signature: the transaction fields (account digits, amount…) joined as the OCRA question. */
  sign(fields: readonly string[]): string {
    if (!Array.isArray(fields) || !fields.every((f) => typeof f === "string"))
      throw argumentError("OCRA_INPUT_INVALID", "the fields", "an array of strings", fields);
    return this.#ocraResponse(fields.join(""));
  }

  #ocraResponse(question: string): string {
    if (!this.#ocra)
      throw new CapkitError("INPUT_INVALID", "this token has no OCRA suite for keypad functions");
    if (this.locked) throw new CapkitError("PIN_BLOCKED", "the token is locked");
    if (this.#config.pin !== undefined && !this.#unlocked)
      throw new CapkitError("PIN_INVALID", "enter the PIN first");
    const s = this.#ocra.suite;
    return this.#ocra.response({
      challenge: question,
      ...(s.counter ? { counter: this.#counter++ } : {}),
      ...(s.timeStep ? { time: this.#clock.now() / 1000 } : {}),
    });
  }

  #showCode(): TokenScreen {
    const now = this.#clock.now();
    if (this.kind === "hotp") {
      const code = this.#gen.code(this.#counter++);
      const ms = this.#config.displayMs ?? SGPASS_DELAYS.hotpDisplay;
      return this.#display.show({ state: "code", text: code, code, validUntil: now + ms }, ms);
    }
    const params = { step: this.#config.step ?? 30, t0: this.#config.t0 ?? 0 };
    const step = totpStep(now / 1000, params);
    const code = this.#gen.code(step);
    const validUntil = (params.t0 + (step + 1) * params.step) * 1000;
    return this.#display.show({ state: "code", text: code, code, validUntil }, validUntil - now);
  }
}

const shortSecrets = (c: { allowShortSecret?: boolean }) =>
  c.allowShortSecret ? { allowShortSecret: true } : {};

/**
 * The door of the token's constructor: what plain JavaScript may get wrong in a configuration, refused with its
 * field named (the seed, the digits and the OCRA suite are checked by `@capkit/oath` as the token is built).
 */
function checkConfig(config: unknown): void {
  const c = expectRecord<Record<string, unknown>>(config, "the token configuration");
  expectOneOf(c["kind"], "the kind", ["totp", "hotp"] as const);
  const optional = (k: string, check: (v: unknown) => unknown) => {
    if (c[k] !== undefined) check(c[k]);
  };
  // null is no default: a plain-JavaScript caller's null algorithm must not quietly make a SHA-1 token.
  optional("algorithm", (v) => expectOneOf(v, "the algorithm", OATH_ALGORITHMS));
  optional("digits", (v) => expectInteger(v, "digits", 6, 10));
  optional("step", (v) => expectInteger(v, "the step", 1, 86_400));
  optional("t0", (v) => expectInteger(v, "T0", 0, Number.MAX_SAFE_INTEGER));
  optional("counter", (v) => expectInteger(v, "the counter", 0, Number.MAX_SAFE_INTEGER));
  optional("pin", (v) => expectString(v, "the PIN", "PIN_INVALID"));
  optional("pinFailures", (v) => expectInteger(v, "pinFailures", 0, TOKEN_PIN_TRIES));
  optional("ocraSuite", (v) => expectString(v, "the OCRA suite", "OCRA_SUITE_INVALID"));
  optional("allowShortSecret", (v) => expectBoolean(v, "allowShortSecret"));
  optional("clock", (v) => expectClock(v));
  optional("displayMs", (v) => expectInteger(v, "displayMs", 1, 86_400_000));
}
