import { CapkitError, fromHex } from "@capkit/core";
import { SgpassToken, TOKEN_PIN_TRIES, type TokenScreen } from "@capkit/token-sim";
import { Countdown } from "./countdown.js";
import { el, sheet } from "./dom.js";

/**
 * `<capkit-sgpass-token>`: the SGpass-style token on a page (token-sim's SgpassToken: TOTP or HOTP on the open
 * OATH algorithms, optional PIN locking after 5 wrong tries). Press the button, read the code.
 *
 * Attributes: `token-src` — URL of the token's JSON provisioning ({@link TokenProvisioning}). What must survive
 * a reload is kept in localStorage: the HOTP counter (a code is never shown twice), the wrong PINs in a row
 * and the lock.
 * Events (bubbling, composed): `capkit-screen` (detail: the TokenScreen), `capkit-code` (detail:
 * `{ code, validUntil }`).
 */
export interface TokenProvisioning {
  readonly id: string;
  readonly kind: "totp" | "hotp";
  readonly secretHex: string;
  readonly digits?: number;
  readonly step?: number;
  readonly counter?: number;
  readonly pin?: string;
}

interface SavedToken {
  readonly counter: number;
  /** Wrong PINs in a row: a reload must not give the holder five fresh tries. */
  readonly pinFailures: number;
  readonly locked: boolean;
}

const PREFIX = "capkit-sgpass:";

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

export class SgpassTokenElement extends HTMLElement {
  static readonly observedAttributes = ["token-src"];
  readonly #root: ShadowRoot;
  #token: SgpassToken | undefined;
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

  connectedCallback(): void {
    if (!this.#lcd) this.#render();
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name !== "token-src" || !value) return;
    fetch(value, { credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json() as Promise<TokenProvisioning>;
      })
      .then((p) => this.provision(p))
      .catch((e: unknown) => {
        this.dispatchEvent(
          new CustomEvent("capkit-error", { detail: { message: String(e) }, bubbles: true, composed: true }),
        );
      });
  }

  /** Loads the token's secret and settings; the counter and lock already in this browser win. */
  provision(p: TokenProvisioning): void {
    if (typeof p.id !== "string" || !/^[\w.@:+-]{1,128}$/.test(p.id)) {
      throw new CapkitError("INPUT_INVALID", "token provisioning: bad id");
    }
    const saved = this.#load(p.id);
    this.#id = p.id;
    this.#locked = saved?.locked ?? false;
    this.#pinFailures = saved?.pinFailures ?? 0;
    this.#token = new SgpassToken({
      kind: p.kind,
      secret: fromHex(p.secretHex),
      ...(p.digits !== undefined ? { digits: p.digits } : {}),
      ...(p.step !== undefined ? { step: p.step } : {}),
      ...(p.pin !== undefined ? { pin: p.pin } : {}),
      counter: Math.max(p.counter ?? 0, saved?.counter ?? 0),
    });
    this.#token.onScreen((s) => this.#draw(s));
    if (this.#button) this.#button.disabled = false;
    this.#draw(this.#locked ? { state: "locked", text: "LOCK" } : this.#token.screen);
  }

  get screen(): TokenScreen | undefined {
    return this.#token?.screen;
  }

  /** The token's button. */
  press(): void {
    if (!this.#token) return;
    if (this.#locked) {
      this.#draw({ state: "locked", text: "LOCK" });
      return;
    }
    this.#token.press();
    this.#save();
  }

  enterPin(pin: string): void {
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
