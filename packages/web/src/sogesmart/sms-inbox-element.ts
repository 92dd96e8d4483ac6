import { el, sheet } from "../dom.js";

/** One SMS in the inbox, as the feed gives it. */
export interface SmsMessage {
  /** Its number in the phone's outbox, growing: what tells a new message. */
  readonly seq: number;
  /** When it was sent, Unix ms. */
  readonly at: number;
  /** The message as the bank wrote it. */
  readonly text: string;
}

const POLL_MS = 2000;

const STYLE = `
:host { display: block; font-family: system-ui, sans-serif; max-width: 340px; }
.inbox { background: #f2f2f7; border-radius: 14px; padding: 10px; border: 1px solid #ccc; }
h2 { font-size: 14px; margin: 0 0 6px; }
.phone { font-weight: normal; color: #333; }
ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
li { background: #fff; border-radius: 10px; padding: 8px; font-size: 14px; line-height: 1.35;
  box-shadow: 0 1px 2px rgb(0 0 0 / 15%); }
.from { font-weight: bold; font-size: 12px; display: flex; justify-content: space-between; color: #222; }
.empty { font-size: 13px; color: #333; margin: 0; }
`;

/**
 * `<capkit-sms-inbox>`: the SMS a simulated phone received, read from the bank's development outbox (nothing
 * is really sent). It reads the feed when put on the page, then every 2 seconds (`setTimeout`, so Playwright's
 * clock drives it too), and shows the messages newest first in a log region that announces new ones. Importing
 * `@capkit/web/sogesmart` defines it.
 *
 * Attributes: `src`, the URL of the feed — JSON `{ phone, messages: [{ seq, at, text }] }` (the bank answers
 * this browser's phones only); `label`, the inbox's accessible name (« SMS reçus »). A feed that cannot be
 * read shows nothing new: it is a development aid, not the bank's channel.
 *
 * Events (bubbling, composed): `capkit-sms` (detail: the new {@link SmsMessage}s) when some arrive.
 *
 * @example
 * ```html
 * <script type="module" src="/capkit-sogesmart.js"></script> <!-- bundleCapkitWeb({ entry: "sogesmart" }) -->
 * <capkit-sms-inbox src="/dev/sms/a" label="SMS reçus"></capkit-sms-inbox>
 * <script type="module">
 *   document.querySelector("capkit-sms-inbox").addEventListener("capkit-sms", (e) => {
 *     const code = /\b\d{8}\b/.exec(e.detail.at(-1).text)?.[0]; // the activation code the bank sent
 *   });
 * </script>
 * ```
 */
export class SmsInboxElement extends HTMLElement {
  /** The attribute the element reads: `src` (a change reads the new feed at once). */
  static readonly observedAttributes = ["src"];
  readonly #root: ShadowRoot;
  #messages: SmsMessage[] = [];
  #phone = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #list: HTMLElement | undefined;
  #title: HTMLElement | undefined;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.adoptedStyleSheets = [sheet(STYLE)];
  }

  /** Draws the inbox and starts reading the feed (the custom elements' lifecycle). */
  connectedCallback(): void {
    if (!this.#list) this.#render();
    void this.refresh();
  }

  /** Stops reading the feed when taken off the page. */
  disconnectedCallback(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** `src` changed: reads the new feed now. */
  attributeChangedCallback(): void {
    if (this.isConnected) void this.refresh();
  }

  /** The messages shown, oldest first. */
  get messages(): readonly SmsMessage[] {
    return this.#messages;
  }

  /** Reads the feed now (and goes on every 2 s while on the page). */
  async refresh(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const src = this.getAttribute("src");
    try {
      if (src) {
        const r = await fetch(src, { credentials: "same-origin", cache: "no-store" });
        if (r.ok) this.#update((await r.json()) as { phone?: string; messages?: SmsMessage[] });
      }
    } catch {
      // The feed is the bank's development outbox: when it cannot be read, the phone just shows nothing new.
    }
    if (this.isConnected) this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  #update(feed: { phone?: string; messages?: SmsMessage[] }): void {
    const last = this.#messages[this.#messages.length - 1]?.seq ?? 0;
    const all = (feed.messages ?? []).filter(
      (m) => Number.isSafeInteger(m.seq) && typeof m.text === "string" && Number.isFinite(m.at),
    );
    const fresh = all.filter((m) => m.seq > last);
    this.#phone = typeof feed.phone === "string" ? feed.phone : "";
    this.#messages = all;
    this.#draw();
    if (fresh.length)
      this.dispatchEvent(new CustomEvent("capkit-sms", { detail: fresh, bubbles: true, composed: true }));
  }

  #render(): void {
    const box = el("section", { class: "inbox", "aria-label": this.getAttribute("label") ?? "SMS reçus" });
    this.#title = el("h2", {}, "Messages");
    // The log region wraps the list (a role on the <ol> itself would take its items' list semantics away).
    const log = el("div", { role: "log", "aria-live": "polite" });
    this.#list = el("ol");
    log.append(this.#list);
    box.append(this.#title, log);
    this.#root.append(box);
    this.#draw();
  }

  #draw(): void {
    if (!this.#list || !this.#title) return;
    this.#title.textContent = "Messages";
    if (this.#phone) this.#title.append(" ", el("span", { class: "phone" }, `(${this.#phone})`));
    const items = [...this.#messages].reverse().map((m) => {
      const li = el("li", { "data-seq": String(m.seq) });
      const from = el("span", { class: "from" }, "SogeSmart");
      from.append(el("time", { datetime: new Date(m.at).toISOString() }, time(m.at)));
      li.append(from, el("span", { class: "text" }, m.text));
      return li;
    });
    if (items.length) this.#list.replaceChildren(...items);
    else this.#list.replaceChildren(el("li", { class: "empty" }, "Aucun message"));
  }
}

function time(at: number): string {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
