import { readerProfile } from "@capkit/emv-cap";
import type { SimCardState } from "@capkit/token-sim";
import { type ReaderKey, type Screen, SesameReader, SimulatedCard } from "@capkit/token-sim";
import { restoreCardState, saveCardState } from "./card-storage.js";
import { Countdown } from "./countdown.js";
import { el, sheet } from "./dom.js";

/**
 * `<capkit-sesame-reader>`: the Sésame reader on a page, beside the bank's form like the physical device beside
 * the screen. The same state machine as the terminal simulator (token-sim's SesameReader) drives it; this
 * element only draws the 2-line LCD and the keys and forwards presses.
 *
 * Attributes: `card-src` — URL of the simulated card's JSON state (the issuer's copy); the card then lives in
 * localStorage (card-storage.ts). Events (bubbling, composed): `capkit-screen` (detail: the Screen) on every
 * change, `capkit-code` (detail: `{ code, display }`) when a code is shown.
 * Keyboard (when the device has focus): digits, Enter = OK, Backspace/Escape = C, F = the function key.
 */
const KEY_LABELS: Readonly<Record<string, string>> = { OK: "OK (valider)", C: "C (correction)" };
const KEYPAD: readonly ReaderKey[] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "OK"];

const STYLE = `
:host { display: inline-block; font-family: system-ui, sans-serif; }
.device { background: #1f2a44; color: #fff; border-radius: 18px 18px 28px 28px; padding: 16px; width: 220px;
  box-shadow: 0 4px 12px rgb(0 0 0 / 30%); }
.device:focus-visible { outline: 3px solid #ffbf47; outline-offset: 3px; }
.brand { font-size: 13px; letter-spacing: 0.08em; margin: 0 0 8px; text-align: center; }
.lcd { background: #b9c9a3; color: #111; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 18px;
  line-height: 24px; border-radius: 6px; padding: 6px 10px; min-height: 48px; white-space: pre; border: 2px inset #6b7a57; }
.lcd.off { background: #5d6a55; }
.countdown { font-size: 13px; min-height: 18px; margin: 4px 0 0; text-align: center; }
.keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin-top: 12px; }
button { font: inherit; font-size: 16px; min-height: 40px; border-radius: 8px; border: 1px solid #0b1220;
  background: #e8ecf4; color: #111; cursor: pointer; }
button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
button.ok { background: #1e7a34; color: #fff; }
button.c { background: #b3261e; color: #fff; }
.fn { width: 100%; margin-top: 8px; }
.slot { width: 100%; margin-top: 12px; background: #d9b44a; }
`;

export class SesameReaderElement extends HTMLElement {
  static readonly observedAttributes = ["card-src"];
  #reader = new SesameReader();
  #unsubscribe: () => void;
  readonly #root: ShadowRoot;
  #card: SimulatedCard | undefined;
  #inserted = false;
  #lines: [HTMLElement, HTMLElement] | undefined;
  #lcd: HTMLElement | undefined;
  #slot: HTMLButtonElement | undefined;
  /** While a code is shown: how long it stays, from the screen's offAt. */
  readonly #countdown = new Countdown((s) => `Code affiché encore ${s} s`);

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#unsubscribe = this.#reader.onScreen((s) => this.#draw(s));
  }

  connectedCallback(): void {
    if (!this.#lcd) this.#render();
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === "card-src" && value) {
      fetch(value, { credentials: "same-origin" })
        .then((r) => {
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          return r.json() as Promise<SimCardState>;
        })
        .then((state) => this.setCard(state))
        .catch((e: unknown) => {
          this.dispatchEvent(
            new CustomEvent("capkit-error", {
              detail: { message: String(e) },
              bubbles: true,
              composed: true,
            }),
          );
        });
    }
  }

  /** Puts this card beside the reader (not yet in it); its state is restored from and saved to localStorage. */
  setCard(issued: SimCardState): void {
    if (this.#inserted) this.removeCard();
    const state = restoreCardState(issued, localStorage);
    this.#card = new SimulatedCard(state, { onStateChange: (s) => saveCardState(s, localStorage) });
    // The reader takes the profile a bank pairs with this card (card-profiles.ts): CDOL constants, challenge
    // length and whether Sign carries the amount follow the card, as with a bank's own reader.
    this.#unsubscribe();
    this.#reader = new SesameReader({ profile: readerProfile(this.#card.profile.readerProfile) });
    this.#unsubscribe = this.#reader.onScreen((s) => this.#draw(s));
    this.#draw(this.#reader.screen);
    this.#updateSlot();
    this.dispatchEvent(
      new CustomEvent("capkit-card", { detail: { pan: state.pan }, bubbles: true, composed: true }),
    );
  }

  /** The card's current state (ATC, PIN tries), as saved. */
  get cardState(): SimCardState | undefined {
    return this.#card?.state;
  }

  get screen(): Screen {
    return this.#reader.screen;
  }

  insertCard(): void {
    if (!this.#card || this.#inserted) return;
    this.#card.insert();
    this.#inserted = true;
    this.#reader.insertCard(this.#card);
    this.#updateSlot();
  }

  removeCard(): void {
    if (!this.#card || !this.#inserted) return;
    this.#card.remove();
    this.#inserted = false;
    this.#reader.removeCard();
    this.#updateSlot();
  }

  press(key: ReaderKey): void {
    this.#reader.press(key);
  }

  #render(): void {
    this.#root.adoptedStyleSheets = [sheet(STYLE)];
    const device = el("div", {
      class: "device",
      role: "group",
      "aria-label": "Lecteur Sésame simulé",
      tabindex: "0",
    });
    device.append(el("p", { class: "brand", "aria-hidden": "true" }, "SÉSAME"));
    const lcd = el("div", { class: "lcd off", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    const l1 = el("div", { class: "line", part: "line1" });
    const l2 = el("div", { class: "line", part: "line2" });
    lcd.append(l1, l2);
    device.append(lcd, this.#countdown.element);
    const keys = el("div", { class: "keys" });
    for (const k of KEYPAD) {
      const b = el("button", { type: "button", class: k.toLowerCase(), "data-key": k }, k);
      if (KEY_LABELS[k]) b.setAttribute("aria-label", KEY_LABELS[k]!);
      keys.append(b);
    }
    device.append(keys);
    const fn = el("button", { type: "button", class: "fn", "data-key": "FN" }, "Fonction ▸");
    device.append(fn);
    const slot = el("button", { type: "button", class: "slot" }) as HTMLButtonElement;
    slot.addEventListener("click", () => (this.#inserted ? this.removeCard() : this.insertCard()));
    device.append(slot);
    device.addEventListener("click", (e) => {
      const key = (e.target as HTMLElement).closest("button")?.dataset["key"];
      if (key) this.press(key as ReaderKey);
    });
    device.addEventListener("keydown", (e) => this.#onKey(e));
    this.#root.append(device);
    this.#lcd = lcd;
    this.#lines = [l1, l2];
    this.#slot = slot;
    this.#updateSlot();
    this.#draw(this.#reader.screen);
  }

  #onKey(e: KeyboardEvent): void {
    // Enter and Space on a focused button already click it; everything else maps to the reader's keys.
    const onButton = (e.composedPath()[0] as HTMLElement | undefined)?.tagName === "BUTTON";
    if (onButton && (e.key === "Enter" || e.key === " ")) return;
    let key: ReaderKey | undefined;
    if (/^[0-9]$/.test(e.key)) key = e.key as ReaderKey;
    else if (e.key === "Enter") key = "OK";
    else if (e.key === "Backspace" || e.key === "Escape" || e.key === "Delete") key = "C";
    else if (e.key === "f" || e.key === "F") key = "FN";
    if (!key) return;
    e.preventDefault();
    this.press(key);
  }

  #updateSlot(): void {
    if (!this.#slot) return;
    this.#slot.disabled = !this.#card;
    this.#slot.textContent = this.#inserted ? "Retirer la carte" : "Insérer la carte";
  }

  #draw(s: Screen): void {
    if (this.#lines && this.#lcd) {
      this.#lines[0].textContent = s.lines[0];
      this.#lines[1].textContent = s.lines[1];
      this.#lcd.classList.toggle("off", s.state === "off");
      this.#lcd.dataset["state"] = s.state;
    }
    this.#countdown.show(s.state === "code" ? s.offAt : undefined);
    this.dispatchEvent(new CustomEvent("capkit-screen", { detail: s, bubbles: true, composed: true }));
    if (s.state === "code" && s.code !== undefined) {
      this.dispatchEvent(
        new CustomEvent("capkit-code", {
          detail: { code: s.code, display: s.lines[1] },
          bubbles: true,
          composed: true,
        }),
      );
    }
  }
}
