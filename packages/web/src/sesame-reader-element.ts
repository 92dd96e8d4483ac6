import { readerProfile } from "@capkit/emv-cap";
import type { SimCardState } from "@capkit/token-sim";
import { type ReaderKey, type Screen, SesameReader, SimulatedCard } from "@capkit/token-sim";
import { restoreCardState, saveCardState } from "./card-storage.js";
import { Countdown } from "./countdown.js";
import { el, sheet } from "./dom.js";
import { loadAttribute } from "./door.js";

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

/**
 * `<capkit-sesame-reader>`: the Sésame reader on a page, beside the bank's form like the physical device beside
 * the screen — a 2-line LCD, keys 0–9, OK, C, « Fonction » and a card slot. token-sim's `SesameReader` (the
 * same state machine as the terminal simulator) drives it: this element only draws the LCD and the keys and
 * forwards presses. Importing `@capkit/web` defines it.
 *
 * Provisioning: the attribute `card-src`, the URL of a simulated card's JSON state as the issuer hands it
 * (`newSimCardState()` of `@capkit/token-sim`), or {@link SesameReaderElement.setCard}. The card then lives in
 * this browser's `localStorage` (`capkit-sim-card:<PAN>`, see {@link restoreCardState}): a reload never repeats
 * an ATC. The reader takes the reader profile the card's profile names.
 *
 * Events (bubbling, composed): `capkit-screen` (detail: token-sim's `Screen`) on every change of the LCD;
 * `capkit-code` (detail: `{ code, display }`, e.g. `{ code: "12345678", display: "1234 5678" }`) when a code
 * is shown; `capkit-card` (detail: `{ pan }`) when a card is put beside the reader; `capkit-error` (detail:
 * {@link ErrorDetail}) when the card at `card-src` cannot be read or is refused.
 *
 * Keyboard (when the device has focus): digits, Enter = OK, Backspace/Escape = C, F = the function key; the
 * LCD is a polite live region.
 *
 * @example
 * ```html
 * <script type="module" src="/capkit-web.js"></script> <!-- bundleCapkitWeb() -->
 * <capkit-sesame-reader card-src="/devices/card.json"></capkit-sesame-reader>
 * <script type="module">
 *   const reader = document.querySelector("capkit-sesame-reader");
 *   reader.addEventListener("capkit-code", (e) => console.log(e.detail.display)); // "1234 5678"
 *   reader.addEventListener("capkit-error", (e) => console.error(e.detail.code, e.detail.message));
 *   // Or from script: the card, then the customer's presses.
 *   reader.setCard(await (await fetch("/devices/card.json")).json());
 *   reader.insertCard();
 *   for (const key of ["OK", "1", "2", "3", "4", "OK"]) reader.press(key); // CODE, PIN 1234
 * </script>
 * ```
 */
export class SesameReaderElement extends HTMLElement {
  /** The attribute the element reads: `card-src`. */
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

  /** Draws the device when the element is put on the page (the custom elements' lifecycle). */
  connectedCallback(): void {
    if (!this.#lcd) this.#render();
  }

  /** `card-src` set: fetches the card and hands it to {@link SesameReaderElement.setCard}. */
  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === "card-src" && value)
      loadAttribute(this, "card-src", value, (state) => this.setCard(state as SimCardState));
  }

  /**
   * Puts this card beside the reader (not yet in it), in place of the one there; its state is restored from
   * and saved to `localStorage` ({@link restoreCardState}).
   *
   * @param issued - the card's state as the issuer hands it (`newSimCardState()` of `@capkit/token-sim`)
   * @throws `INPUT_INVALID` for a state `parseSimCardState` refuses, before the card in the reader is touched
   */
  setCard(issued: SimCardState): void {
    const state = restoreCardState(issued, localStorage);
    if (this.#inserted) this.removeCard();
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

  /** What the LCD shows now. */
  get screen(): Screen {
    return this.#reader.screen;
  }

  /** Inserts the card given by `card-src` or `setCard` (nothing without one, or when it is in already). */
  insertCard(): void {
    if (!this.#card || this.#inserted) return;
    this.#card.insert();
    this.#inserted = true;
    this.#reader.insertCard(this.#card);
    this.#updateSlot();
  }

  /** Takes the card out of the reader (the reader then sends it nothing more). */
  removeCard(): void {
    if (!this.#card || !this.#inserted) return;
    this.#card.remove();
    this.#inserted = false;
    this.#reader.removeCard();
    this.#updateSlot();
  }

  /**
   * Presses one of the reader's keys, as the customer does.
   *
   * @param key - `"0"` to `"9"`, `"OK"`, `"C"` or `"FN"` (the function key)
   * @throws `INPUT_INVALID` for any other key
   */
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
