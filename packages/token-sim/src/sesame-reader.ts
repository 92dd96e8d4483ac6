import { CapkitError } from "@capkit/core";
import {
  type CapInputs,
  type CardConnection,
  decodeTlv,
  flattenTlv,
  fromHex,
  generateCapCode,
  IAF_AMOUNT,
  type ReaderProfile,
  readerProfile,
  readPinTryCounter,
  transmitApdu,
} from "@capkit/emv-cap";
import { type Clock, systemClock } from "./clock.js";

/**
 * The Sésame reader as a state machine (docs/architecture.md §5): a 2×16 LCD, keys 0–9, OK, C (correction) and the function
 * key. Insert the card, choose a function ("Code" first), type the 4-digit PIN, read the 8-digit code for
 * 35 seconds. Pulling the card ends the session at any point. The screen is available as text and as a stream
 * of events, so a terminal or web UI can draw it.
 */
export type ReaderKey = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "OK" | "C" | "FN";

export type ReaderState =
  | "off"
  | "insert-card"
  | "menu"
  | "challenge"
  | "amount"
  | "tds"
  | "pin"
  | "working"
  | "confirm-last-try"
  | "code"
  | "pin-wrong"
  | "blocked"
  | "error";

export interface Screen {
  readonly state: ReaderState;
  readonly lines: readonly [string, string];
  /** The code shown (state "code"), digits only. */
  readonly code?: string;
}

interface ReaderFunction {
  readonly label: string;
  readonly mode: CapInputs["mode"];
  readonly tds?: boolean;
}

/** The order of the Sésame menu: "Code" (identify) first. */
export const SESAME_FUNCTIONS: readonly ReaderFunction[] = [
  { label: "CODE", mode: "identify" },
  { label: "REPONSE", mode: "respond" },
  { label: "SIGNATURE", mode: "sign" },
  { label: "CODE+DONNEES", mode: "identify", tds: true },
];

export interface SesameReaderOptions {
  readonly clock?: Clock;
  readonly profile?: ReaderProfile;
  /** The display goes off this long after the code is shown (35 s on a Sésame). */
  readonly codeDisplayMs?: number;
  /** …and this long after the last key while waiting for input. */
  readonly inactivityMs?: number;
  /** Sign amounts carry this currency when the card asks for one (ISO 4217 numeric; EUR). */
  readonly currency?: string;
}

/** A Sésame reader takes 4-digit PINs, no more, no less. */
export const SESAME_PIN_LENGTH = 4;
const PIN_LENGTH = SESAME_PIN_LENGTH;

/**
 * What the LCD says when a session ends in an error: words for the customer, never an error code (those are
 * for the support desk, which has `capkit doctor`).
 */
function customerMessage(code: string): [string, string] {
  if (code === "PIN_TRIES_LOW" || code === "PIN_TRIES_UNKNOWN") return ["OPERATION", "ANNULEE"];
  if (code === "CARD_NOT_SUPPORTED" || code === "NO_CAP_APPLICATION") return ["CARTE NON", "ACCEPTEE"];
  return ["ERREUR CARTE", "REESSAYER"];
}

/** What the reader learns from the card when it goes in, before any PIN: is it blocked. */
interface CardFacts {
  readonly triesLeft: number | undefined;
  /**
   * Whether the card signs amounts (IAF b8), when its FCI says (BF0C 9F55, as Belgian cards and ours carry it);
   * undefined when the IAF is only in the records, which a reader reads after GET PROCESSING OPTIONS (an ATC).
   */
  readonly canSign: boolean | undefined;
}

export class SesameReader {
  readonly #clock: Clock;
  readonly #profile: ReaderProfile;
  readonly #codeDisplayMs: number;
  readonly #inactivityMs: number;
  readonly #currency: string;
  readonly #listeners = new Set<(s: Screen) => void>();
  #screen: Screen = { state: "off", lines: ["", ""] };
  #card: CardConnection | undefined;
  #timer: unknown;
  #menuIndex = 0;
  #entry = "";
  #challenge = "";
  #amount = "";
  #tds: string[] = [];
  #session = 0;
  #work: Promise<void> = Promise.resolve();
  #confirm: ((ok: boolean) => void) | undefined;
  #insertion = 0;
  #facts: CardFacts | undefined;
  #inspection: Promise<void> = Promise.resolve();

  constructor(options: SesameReaderOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#profile = options.profile ?? readerProfile("sesame");
    this.#codeDisplayMs = options.codeDisplayMs ?? 35_000;
    this.#inactivityMs = options.inactivityMs ?? 30_000;
    this.#currency = options.currency ?? "978";
  }

  get screen(): Screen {
    return this.#screen;
  }

  /** Subscribes to screen changes; returns the unsubscribe function. */
  onScreen(listener: (s: Screen) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when the card exchanges in progress (if any) have finished and the screen shows their result. */
  async settled(): Promise<void> {
    for (let w = this.#work; ; w = this.#work) {
      await w;
      if (w === this.#work) return;
    }
  }

  /**
   * The card goes in: the menu shows at once, and meanwhile the reader reads the card's PIN try counter (no
   * PIN involved, no ATC spent), so a blocked card says CARTE BLOQUEE before a PIN is typed.
   */
  insertCard(card: CardConnection): void {
    this.#card = card;
    this.#facts = undefined;
    const insertion = ++this.#insertion;
    this.#toMenu();
    this.#inspection = this.#inspect(card).then(
      (facts) => {
        if (insertion !== this.#insertion || this.#card !== card) return;
        this.#facts = facts;
        this.#applyFacts();
      },
      () => {
        // A card the reader cannot read: the function itself will say so.
      },
    );
    this.#work = this.#inspection;
  }

  /** SELECT and GET DATA 9F17 only: no GET PROCESSING OPTIONS, so inserting a card costs no ATC. */
  async #inspect(card: CardConnection): Promise<CardFacts> {
    for (const aid of this.#profile.aids) {
      const r = await transmitApdu(card, {
        cla: 0x00,
        ins: 0xa4,
        p1: 0x04,
        p2: 0x00,
        data: fromHex(aid),
        le: 256,
      });
      if (r.sw === 0x9000)
        return { triesLeft: await readPinTryCounter(card), canSign: canSignFromFci(r.data) };
    }
    return { triesLeft: undefined, canSign: undefined };
  }

  /** Facts that arrive while the holder is already choosing or typing: act on them now. */
  #applyFacts(): void {
    const s = this.#screen.state;
    const entering = s === "menu" || s === "pin" || s === "challenge" || s === "amount" || s === "tds";
    if (!entering) return;
    if (this.#facts?.triesLeft === 0) this.#showBlocked();
    else if (s !== "menu" && this.#signingRefused()) this.#refuseSign();
  }

  #signingRefused(): boolean {
    return SESAME_FUNCTIONS[this.#menuIndex]!.mode === "sign" && this.#facts?.canSign === false;
  }

  /** A card without the amount flag cannot sign: say so before the holder types a challenge and an amount. */
  #refuseSign(): void {
    this.#entry = "";
    this.#show("error", ["FONCTION NON", "DISPONIBLE"], this.#inactivityMs);
  }

  #showBlocked(): void {
    this.#entry = "";
    this.#show("blocked", ["CARTE BLOQUEE", ""], this.#inactivityMs);
  }

  /** The card pulled out: whatever was happening ends, the display goes off. */
  removeCard(): void {
    this.#card = undefined;
    this.#facts = undefined;
    this.#insertion++;
    this.#off();
  }

  press(key: ReaderKey): void {
    const s = this.#screen.state;
    if (s === "off") {
      if (this.#card) this.#toMenu();
      else this.#show("insert-card", ["INSERER CARTE", ""], this.#inactivityMs);
      return;
    }
    if (s === "working") return;
    if (s === "confirm-last-try") {
      if (key === "OK" || key === "C") {
        const answer = this.#confirm;
        this.#confirm = undefined;
        this.#show("working", ["PATIENTEZ", ""]);
        answer?.(key === "OK");
      }
      return;
    }
    if (s === "insert-card") {
      this.#show("insert-card", ["INSERER CARTE", ""], this.#inactivityMs);
      return;
    }
    if (s === "code" || s === "blocked" || s === "error") {
      if (key === "C" || key === "OK") this.#toMenu();
      return;
    }
    if (s === "pin-wrong") {
      if (key === "OK") this.#toPin();
      else if (key === "C") this.#toMenu();
      return;
    }
    if (s === "menu") {
      this.#menuKey(key);
      return;
    }
    this.#entryKey(s, key);
    return;
  }

  #menuKey(key: ReaderKey): void {
    if (key === "FN") {
      this.#menuIndex = (this.#menuIndex + 1) % SESAME_FUNCTIONS.length;
      this.#showMenu();
    } else if (key === "OK") {
      const f = SESAME_FUNCTIONS[this.#menuIndex]!;
      if (this.#facts?.triesLeft === 0) {
        this.#showBlocked();
        return;
      }
      if (this.#signingRefused()) {
        this.#refuseSign();
        return;
      }
      this.#challenge = "";
      this.#amount = "";
      this.#tds = [];
      this.#entry = "";
      if (f.tds) this.#showEntry("tds");
      else if (f.mode === "identify") this.#toPin();
      else this.#showEntry("challenge");
    } else if (key === "C") {
      this.#off();
    } else {
      this.#showMenu();
    }
  }

  #entryKey(state: ReaderState, key: ReaderKey): void {
    const max =
      state === "pin"
        ? PIN_LENGTH
        : state === "challenge"
          ? this.#profile.challengeMaxDigits
          : state === "amount"
            ? 10
            : 10;
    if (/^[0-9]$/.test(key)) {
      if (this.#entry.length < max) this.#entry += key;
    } else if (key === "C") {
      if (this.#entry.length === 0) {
        this.#toMenu();
        return;
      }
      this.#entry = this.#entry.slice(0, -1);
    } else if (key === "OK") {
      this.#confirmEntry(state);
      return;
    }
    this.#showEntry(state);
  }

  #confirmEntry(state: ReaderState): void {
    const f = SESAME_FUNCTIONS[this.#menuIndex]!;
    if (state === "pin") {
      if (this.#entry.length !== PIN_LENGTH) {
        this.#showEntry(state);
        return;
      }
      const pin = this.#entry;
      this.#entry = "";
      this.#run(f, pin);
      return;
    }
    if (state === "challenge") {
      if (this.#entry.length === 0) {
        this.#showEntry(state);
        return;
      }
      this.#challenge = this.#entry;
      this.#entry = "";
      if (f.mode === "sign") this.#showEntry("amount");
      else this.#toPin();
      return;
    }
    if (state === "amount") {
      if (this.#entry.length === 0) {
        this.#showEntry(state);
        return;
      }
      this.#amount = this.#entry;
      this.#entry = "";
      this.#toPin();
      return;
    }
    // TDS: OK after a number stores it; OK on an empty line (with at least one number) goes on to the PIN.
    if (this.#entry.length > 0) {
      this.#tds.push(this.#entry);
      this.#entry = "";
      if (this.#tds.length >= 10) this.#toPin();
      else this.#showEntry("tds");
      return;
    }
    if (this.#tds.length > 0) this.#toPin();
  }

  #run(f: ReaderFunction, pin: string): void {
    const card = this.#card;
    if (!card) {
      this.#off();
      return;
    }
    const session = ++this.#session;
    const amount = this.#amount
      ? `${this.#amount.slice(0, -2) || "0"}.${this.#amount.slice(-2).padStart(2, "0")}`
      : "";
    const inputs: CapInputs =
      f.mode === "identify"
        ? f.tds
          ? { mode: "identify", tds: [...this.#tds] }
          : { mode: "identify" }
        : f.mode === "respond"
          ? { mode: "respond", challenge: this.#challenge }
          : { mode: "sign", challenge: this.#challenge, amount, currency: this.#currency };
    this.#show("working", ["PATIENTEZ", ""]);
    // After the insertion's own reading of the card: one exchange at a time.
    this.#work = this.#inspection
      .then(() =>
        generateCapCode(card, inputs, {
          profile: this.#profile,
          pin,
          confirmRisk: (tries) =>
            new Promise<boolean>((resolve) => {
              if (session !== this.#session) return resolve(false);
              this.#confirm = resolve;
              this.#show(
                "confirm-last-try",
                [tries === undefined ? "ESSAIS INCONNUS" : "DERNIER ESSAI", "OK:OUI  C:NON"],
                this.#inactivityMs,
              );
            }),
        }),
      )
      .then(
        (r) => {
          if (session !== this.#session) return;
          this.#show(
            "code",
            [SESAME_FUNCTIONS[this.#menuIndex]!.label, r.display],
            this.#codeDisplayMs,
            r.code,
          );
        },
        (e: unknown) => {
          if (session !== this.#session) return; // the card was pulled: the session is already over
          const code = e instanceof CapkitError ? e.code : "ERROR";
          if (code === "PIN_WRONG") {
            const left = (e as CapkitError).details?.["triesLeft"];
            this.#show("pin-wrong", ["PIN FAUX", `ESSAIS: ${left}`], this.#inactivityMs);
          } else if (code === "PIN_BLOCKED") {
            this.#show("blocked", ["CARTE BLOQUEE", ""], this.#inactivityMs);
          } else if (code === "CARD_REMOVED") {
            this.#off();
          } else {
            this.#show("error", customerMessage(code), this.#inactivityMs);
          }
        },
      );
  }

  #toMenu(): void {
    this.#menuIndex = 0;
    this.#entry = "";
    this.#showMenu();
  }

  #showMenu(): void {
    this.#show("menu", ["FONCTION ?", `> ${SESAME_FUNCTIONS[this.#menuIndex]!.label}`], this.#inactivityMs);
  }

  #toPin(): void {
    this.#entry = "";
    this.#showEntry("pin");
  }

  #showEntry(state: ReaderState): void {
    const e = this.#entry;
    const lines: [string, string] =
      state === "pin"
        ? ["PIN ?", "*".repeat(e.length)]
        : state === "challenge"
          ? ["DEFI ?", e]
          : state === "amount"
            ? ["MONTANT ?", e ? `${e.slice(0, -2) || "0"},${e.slice(-2).padStart(2, "0")}` : ""]
            : [`DONNEE ${this.#tds.length + 1} ?`, e];
    this.#show(state, lines, this.#inactivityMs);
  }

  #off(): void {
    this.#session++;
    this.#entry = "";
    this.#challenge = "";
    this.#amount = "";
    this.#tds = [];
    const answer = this.#confirm;
    this.#confirm = undefined;
    answer?.(false);
    this.#show("off", ["", ""]);
  }

  #show(state: ReaderState, lines: [string, string], timeoutMs?: number, code?: string): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = timeoutMs === undefined ? undefined : this.#clock.setTimeout(() => this.#off(), timeoutMs);
    this.#screen = code === undefined ? { state, lines } : { state, lines, code };
    for (const l of this.#listeners) l(this.#screen);
  }
}

/** The IAF (9F55) from a SELECT response's FCI, if the card puts it there: can it sign amounts? */
function canSignFromFci(fci: Uint8Array): boolean | undefined {
  try {
    const iaf = flattenTlv(decodeTlv(fci)).find((t) => t.tag === 0x9f55)?.value[0];
    return iaf === undefined ? undefined : (iaf & IAF_AMOUNT) !== 0;
  } catch {
    return undefined; // an FCI we cannot parse: the function itself will find out
  }
}
