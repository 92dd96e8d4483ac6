import { expectInteger, expectOneOf, expectRecord, expectString, fromHex } from "@capkit/core";
import { SgpassToken, TOKEN_PIN_TRIES, type TokenScreen } from "@capkit/token-sim";
import { Countdown } from "./countdown.js";
import { el, sheet } from "./dom.js";
import { expectFormat, loadAttribute } from "./door.js";

/**
 * What provisions an SGpass-style token (`token-src`'s JSON, or {@link SgpassTokenElement.provision}'s
 * argument): its seed and settings as the bank issues them. Checked at the door: a field of the wrong type is
 * refused with its name, never read as something else.
 */
export interface TokenProvisioning {
  /** The token's id (1 to 128 letters, digits, `_ . @ : + -`): what keeps its counter and lock in this browser. */
  readonly id: string;
  /** `totp` (the code of the current time step) or `hotp` (the next counter's code). */
  readonly kind: "totp" | "hotp";
  /** The OATH seed, in hex (16 bytes or more). */
  readonly secretHex: string;
  /** The HMAC hash (`SHA1`, as DIGIPASS GO-class tokens). */
  readonly algorithm?: "SHA1" | "SHA256" | "SHA512";
  /** The code's length, 6 to 10 (6). */
  readonly digits?: number;
  /** TOTP: the time step in seconds (30). */
  readonly step?: number;
  /** TOTP: T0, in Unix seconds (0). */
  readonly t0?: number;
  /** HOTP: the next counter value as issued (0); the one already reached in this browser wins when larger. */
  readonly counter?: number;
  /** A PIN (4 to 8 digits) the holder types before a code is shown; 5 wrong ones in a row lock the token. */
  readonly pin?: string;
}

interface SavedToken {
  readonly counter: number;
  /** Wrong PINs in a row: a reload must not give the holder five fresh tries. */
  readonly pinFailures: number;
  readonly locked: boolean;
}

const PREFIX = "capkit-sgpass:";
const ID = /^[\w.@:+-]{1,128}$/;

const STYLE = `
:host { display: inline-block; font-family: system-ui, sans-serif; }
.device { background: #e4002b; color: #fff; border-radius: 16px; padding: 14px; width: 200px;
  box-shadow: 0 4px 12px rgb(0 0 0 / 30%); }
.brand { font-size: 13px; letter-spacing: 0.08em; margin: 0 0 8px; text-align: center; font-weight: bold; }
.lcd { background: #c8d3bd; color: #111; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 24px;
  text-align: center; border-radius: 6px; padding: 6px; min-height: 32px; letter-spacing: 0.1em; }
.lcd.off { background: #6d7766; }
.countdown { font-size: 13px; min-height: 18px; margin: 4px 0 0; text-align: center; }
button { font: inherit; font-size: 15px; min-height: 40px; border-radius: 20px; border: 1px solid #400;
  background: #fff; color: #111; cursor: pointer; width: 100%; margin-top: 10px; }
button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
form { margin-top: 10px; }
form[hidden] { display: none; }
label { display: block; font-size: 14px; }
input { font: inherit; width: 100%; box-sizing: border-box; margin-top: 4px; padding: 6px; }
`;

/**
 * `<capkit-sgpass-token>`: the SGpass-style token on a page (token-sim's `SgpassToken`: TOTP or HOTP on the open
 * OATH algorithms, with an optional PIN that locks after 5 wrong tries). Press « Afficher un code », read the
 * code and « Valable encore n s » under it. Importing `@capkit/web` defines it.
 *
 * Provisioning: the attribute `token-src`, the URL of a {@link TokenProvisioning} JSON document, or
 * {@link SgpassTokenElement.provision}. What must survive a reload is kept in `localStorage`
 * (`capkit-sgpass:<id>`): the HOTP counter (a code is never shown twice), the wrong PINs in a row and the lock.
 *
 * Events (bubbling, composed): `capkit-screen` (detail: token-sim's `TokenScreen`) on every change of the
 * display; `capkit-code` (detail: `{ code, validUntil }`, Unix ms) when a code is shown; `capkit-error` (detail:
 * {@link ErrorDetail}) when the document at `token-src` cannot be read or is refused.
 *
 * @example
 * ```html
 * <script type="module" src="/capkit-web.js"></script> <!-- bundleCapkitWeb() -->
 * <capkit-sgpass-token token-src="/devices/sgpass.json"></capkit-sgpass-token>
 * <script type="module">
 *   const token = document.querySelector("capkit-sgpass-token");
 *   token.addEventListener("capkit-code", (e) => console.log(e.detail.code, new Date(e.detail.validUntil)));
 *   // Or from script (the RFC 6238 seed "12345678901234567890"):
 *   token.provision({ id: "demo", kind: "totp", secretHex: "3132333435363738393031323334353637383930" });
 *   token.press();
 * </script>
 * ```
 */
export class SgpassTokenElement extends HTMLElement {
  /** The attribute the element reads: `token-src`. */
  static readonly observedAttributes = ["token-src"];
  readonly #root: ShadowRoot;
  #token: SgpassToken | undefined;
  #unsubscribe: (() => void) | undefined;
  #id = "";
  #locked = false;
  #pinFailures = 0;
  #lcd: HTMLElement | undefined;
  #pinForm: HTMLFormElement | undefined;
  #pinInput: HTMLInputElement | undefined;
  #button: HTMLButtonElement | undefined;
  /** While a code is shown: how long it stays valid, from the screen's offAt. */
  readonly #countdown = new Countdown((s) => `Valable encore ${s} s`);

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
  }

  /** Draws the device when the element is put on the page (the custom elements' lifecycle). */
  connectedCallback(): void {
    if (!this.#lcd) this.#render();
  }

  /** `token-src` set: fetches the document and hands it to {@link SgpassTokenElement.provision}. */
  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === "token-src" && value)
      loadAttribute(this, "token-src", value, (p) => this.provision(p as TokenProvisioning));
  }

  /**
   * Loads the token's seed and settings, in place of the token there; the counter, wrong PINs and lock
   * already kept in this browser for this id win.
   *
   * @throws `INPUT_INVALID` naming the field (`HEX_INVALID` for `secretHex` that is not hex,
   *   `OTP_SECRET_INVALID`/`OTP_SECRET_TOO_SHORT` for the seed, `PIN_INVALID` for the PIN), before anything
   *   changes: the token there stays as it was
   */
  provision(p: TokenProvisioning): void {
    const doc = expectRecord<Record<string, unknown>>(
      p,
      "the token provisioning",
      "an object ({ id, kind, secretHex, … })",
    );
    expectFormat(doc["id"], "the token's id", ID, "1 to 128 letters, digits or _ . @ : + -");
    if (p.counter !== undefined) expectInteger(p.counter, "the counter", 0, Number.MAX_SAFE_INTEGER);
    // Checked here: SgpassToken reads a null algorithm as its default, SHA-1 (a SHA-256 token's codes wrong).
    if (p.algorithm !== undefined) expectOneOf(p.algorithm, "the algorithm", ["SHA1", "SHA256", "SHA512"]);
    const saved = this.#load(p.id);
    const token = new SgpassToken({
      kind: p.kind,
      secret: fromHex(p.secretHex, "secretHex"),
      ...(p.algorithm !== undefined ? { algorithm: p.algorithm } : {}),
      ...(p.digits !== undefined ? { digits: p.digits } : {}),
      ...(p.step !== undefined ? { step: p.step } : {}),
      ...(p.t0 !== undefined ? { t0: p.t0 } : {}),
      ...(p.pin !== undefined ? { pin: p.pin } : {}),
      counter: Math.max(p.counter ?? 0, saved?.counter ?? 0),
    });
    this.#unsubscribe?.();
    this.#token = token;
    this.#id = p.id;
    this.#locked = saved?.locked ?? false;
    this.#pinFailures = saved?.pinFailures ?? 0;
    this.#unsubscribe = token.onScreen((s) => this.#draw(s));
    if (this.#button) this.#button.disabled = false;
    this.#draw(this.#locked ? { state: "locked", text: "LOCK" } : token.screen);
  }

  /** What the display shows now (undefined before the token is provisioned). */
  get screen(): TokenScreen | undefined {
    return this.#token?.screen;
  }

  /** Presses the token's button: a code, or « PIN ? » first when the token has a PIN. */
  press(): void {
    if (!this.#token) return;
    if (this.#locked) {
      this.#draw({ state: "locked", text: "LOCK" });
      return;
    }
    this.#token.press();
    this.#save();
  }

  /**
   * Types the token's PIN (after a press showed « PIN ? »): the code on the right one, `FAIL n` on a wrong one,
   * `LOCK` after 5 wrong ones in a row.
   *
   * @throws `PIN_INVALID` when `pin` is not a string (nothing is counted)
   */
  enterPin(pin: string): void {
    expectString(pin, "the PIN", "PIN_INVALID");
    if (!this.#token || this.#locked) return;
    const screen = this.#token.enterPin(pin);
    // The token counts wrong PINs per instance (a fresh one after a reload); the count kept here spans reloads.
    this.#pinFailures = screen.state === "code" ? 0 : this.#pinFailures + 1;
    if (this.#token.locked || this.#pinFailures >= TOKEN_PIN_TRIES) {
      this.#locked = true;
      this.#draw({ state: "locked", text: "LOCK" });
    } else if (screen.state === "pin") {
      this.#draw({ state: "pin", text: `FAIL ${this.#pinFailures}` });
    }
    this.#save();
  }

  #load(id: string): SavedToken | undefined {
    try {
      const text = localStorage.getItem(PREFIX + id);
      const v = text ? (JSON.parse(text) as Partial<SavedToken>) : undefined;
      if (!v || !Number.isSafeInteger(v.counter) || typeof v.locked !== "boolean") return undefined;
      if (!Number.isSafeInteger(v.pinFailures)) return undefined;
      return v as SavedToken;
    } catch {
      return undefined;
    }
  }

  #save(): void {
    if (!this.#token) return;
    const saved: SavedToken = {
      counter: this.#token.counter,
      pinFailures: this.#pinFailures,
      locked: this.#locked,
    };
    localStorage.setItem(PREFIX + this.#id, JSON.stringify(saved));
  }

  #render(): void {
    this.#root.adoptedStyleSheets = [sheet(STYLE)];
    const device = el("div", { class: "device", role: "group", "aria-label": "SGpass simulé" });
    device.append(el("p", { class: "brand", "aria-hidden": "true" }, "SGpass"));
    const lcd = el("div", { class: "lcd off", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    device.append(lcd, this.#countdown.element);
    const button = el("button", { type: "button", class: "press" }, "Afficher un code") as HTMLButtonElement;
    button.disabled = !this.#token;
    button.addEventListener("click", () => this.press());
    device.append(button);
    const form = el("form", { class: "pin" }) as HTMLFormElement;
    form.hidden = true;
    const label = el("label", {}, "PIN du SGpass");
    const input = el("input", {
      type: "password",
      inputmode: "numeric",
      autocomplete: "off",
      maxlength: "8",
    }) as HTMLInputElement;
    label.append(input);
    form.append(label, el("button", { type: "submit" }, "OK"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const pin = input.value;
      input.value = "";
      this.enterPin(pin);
    });
    device.append(form);
    this.#root.append(device);
    this.#lcd = lcd;
    this.#pinForm = form;
    this.#pinInput = input;
    this.#button = button;
    if (this.#token) this.#draw(this.#locked ? { state: "locked", text: "LOCK" } : this.#token.screen);
  }

  #draw(s: TokenScreen): void {
    if (this.#lcd) {
      this.#lcd.textContent = s.text;
      this.#lcd.classList.toggle("off", s.state === "off");
      this.#lcd.dataset["state"] = s.state;
    }
    this.#countdown.show(s.state === "code" ? s.offAt : undefined);
    if (this.#pinForm) {
      const wasHidden = this.#pinForm.hidden;
      this.#pinForm.hidden = s.state !== "pin";
      if (wasHidden && !this.#pinForm.hidden) this.#pinInput?.focus();
    }
    this.dispatchEvent(new CustomEvent("capkit-screen", { detail: s, bubbles: true, composed: true }));
    if (s.state === "code" && s.code !== undefined) {
      this.dispatchEvent(
        new CustomEvent("capkit-code", {
          detail: { code: s.code, validUntil: s.validUntil },
          bubbles: true,
          composed: true,
        }),
      );
    }
  }
}
