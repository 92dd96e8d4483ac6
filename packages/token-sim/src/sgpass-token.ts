import { CapkitError, constantTimeEqual } from "@capkit/core";
import {
  HmacKey,
  HotpGenerator,
  type OathAlgorithm,
  Ocra,
  type PskcKey,
  tokenFromOtpAuth,
  tokenFromPskcKey,
  totpStep,
} from "@capkit/oath";
import { type Clock, systemClock } from "./clock.js";
import { DeviceDisplay } from "./display.js";
import { sgpassConfigOf } from "./token-provisioning.js";

/**
 * An SGpass-style token: a DIGIPASS-class device (button, optional 4-digit PIN locking after 5 wrong tries,
 * keypad challenge/response and signature) implemented on the open OATH algorithms — HOTP, TOTP and OCRA.
 * It does not reproduce the vendor's proprietary algorithm (docs/architecture.md §5).
 */
export interface SgpassConfig {
  readonly kind: "totp" | "hotp";
  readonly secret: Uint8Array;
  readonly algorithm?: OathAlgorithm;
  readonly digits?: number;
  /** TOTP step in seconds (30 on DIGIPASS GO-class tokens). */
  readonly step?: number;
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
  readonly clock?: Clock;
  /** How long an HOTP code stays on the display (`SGPASS_DELAYS.hotpDisplay`, 30 s). */
  readonly displayMs?: number;
}

export type TokenState = "off" | "pin" | "code" | "locked";

export interface TokenScreen {
  readonly state: TokenState;
  readonly text: string;
  /** The code shown, and until when it is valid (Unix ms). */
  readonly code?: string;
  readonly validUntil?: number;
  /** When the display goes off by itself, on the token's clock (Unix ms); absent: it stays. */
  readonly offAt?: number;
}

export const TOKEN_PIN_TRIES = 5;

/**
 * How long the token's screens stay: the PIN prompt, and an HOTP code (a TOTP code stays until the end of its
 * time step: that is when it stops being valid).
 */
export const SGPASS_DELAYS = { pinEntry: 30_000, hotpDisplay: 30_000 } as const;

const LOCKED: TokenScreen = { state: "locked", text: "LOCK" };

export class SgpassToken {
  readonly kind: "totp" | "hotp";
  readonly digits: number;
  readonly #gen: HotpGenerator;
  readonly #config: SgpassConfig;
  readonly #clock: Clock;
  readonly #ocra: Ocra | undefined;
  #counter: number;
  #pinFailures = 0;
  #unlocked = false;
  readonly #display: DeviceDisplay<TokenScreen>;

  constructor(config: SgpassConfig) {
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
    this.#ocra = config.ocraSuite ? new Ocra(config.ocraSuite, config.secret, keyOptions) : undefined;
    this.#clock = config.clock ?? systemClock;
    this.#display = new DeviceDisplay<TokenScreen>(this.#clock, { state: "off", text: "" }, () => {
      this.#unlocked = false;
      this.#display.show({ state: "off", text: "" });
    });
    this.#counter = config.counter ?? 0;
    this.#pinFailures = Math.min(TOKEN_PIN_TRIES, Math.max(0, config.pinFailures ?? 0));
  }

  /**
   * Provisioning from an otpauth:// URI, read by @capkit/oath's token parameters (the meaning the CLI and the
   * verifier give it): kind, hash, digits, step and counter from the URI.
   */
  static fromUri(
    uri: string,
    extra: Omit<SgpassConfig, "kind" | "secret" | "algorithm" | "digits" | "step" | "counter"> = {},
  ): SgpassToken {
    return new SgpassToken(sgpassConfigOf(tokenFromOtpAuth(uri, shortSecrets(extra)), extra));
  }

  /**
   * Provisioning from a PSKC key (RFC 6030), as DIGIPASS OATH tokens ship, read by @capkit/oath's token
   * parameters: the hash from its `<Suite>`, the digits, step and counter. An OCRA key is refused (the button
   * shows HOTP or TOTP codes).
   */
  static fromPskc(key: PskcKey, extra: Omit<SgpassConfig, "kind" | "secret"> = {}): SgpassToken {
    return new SgpassToken(sgpassConfigOf(tokenFromPskcKey(key, shortSecrets(extra)), extra));
  }

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

  get locked(): boolean {
    return this.#pinFailures >= TOKEN_PIN_TRIES;
  }

  onScreen(listener: (s: TokenScreen) => void): () => void {
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
    return this.#ocraResponse(challenge);
  }

  /** Keypad signature: the transaction fields (account digits, amount…) joined as the OCRA question. */
  sign(fields: readonly string[]): string {
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
