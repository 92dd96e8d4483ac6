import { type CardConnection, type ReaderProfile, readerProfile } from "@capkit/emv-cap";
import { type Clock, systemClock } from "../clock.js";
import { DeviceDisplay } from "../display.js";
import {
  type ActionName,
  type CardFacts,
  type DelayName,
  maxEntryDigits,
  type ReaderEvent,
  type ReaderState,
  SESAME_DELAYS,
  SESAME_FUNCTIONS,
  SESAME_MACHINE,
  transitionFor,
} from "./machine.js";
import { type CustomerError, screenLines } from "./screens.js";
import { cardInSlot, inspectCard, runFunction, type SessionOutcome } from "./session.js";

/**
 * The Sésame reader (docs/architecture.md §5): a 2×16 LCD, keys 0–9, OK, C (correction) and the function key.
 * Insert the card, choose a function ("Code" first), type the 4-digit PIN, read the 8-digit code until the
 * display goes off. Pulling the card ends the session at any point. The screen is available as text and as a
 * stream of events, so a terminal or web UI can draw it; each screen says when it goes off (`offAt`).
 *
 * What the reader does is the table of machine.ts; this class keeps the session's data, runs the table's
 * actions and talks to the card through session.ts.
 */
export type ReaderKey = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "OK" | "C" | "FN";

export interface Screen {
  readonly state: ReaderState;
  readonly lines: readonly [string, string];
  /** The code shown (state "code"), digits only. */
  readonly code?: string;
  /** When the display goes off by itself, on the reader's clock (ms since the epoch); absent: it stays. */
  readonly offAt?: number;
}

export interface SesameReaderOptions {
  readonly clock?: Clock;
  readonly profile?: ReaderProfile;
  /** The display goes off this long after the code is shown (`SESAME_DELAYS.codeDisplay`, 35 s). */
  readonly codeDisplayMs?: number;
  /** …and this long after the last key while waiting for input (`SESAME_DELAYS.inactivity`, 30 s). */
  readonly inactivityMs?: number;
  /** Sign amounts carry this currency when the card asks for one (ISO 4217 numeric; EUR). */
  readonly currency?: string;
  /**
   * Told of every event the reader meets, with the state it met it in and the state it went to (undefined: the
   * table ignores the event there) — for tracing a session, and for the model-based test of the table.
   */
  readonly onEvent?: (step: {
    readonly state: ReaderState;
    readonly event: ReaderEvent;
    readonly target: ReaderState | undefined;
  }) => void;
}

/** An event with what it carries. */
type ReaderInput =
  | { readonly type: "digit"; readonly digit: string }
  | { readonly type: Exclude<ReaderEvent, "digit" | "askConfirm" | SessionOutcome["type"]> }
  | { readonly type: "askConfirm"; readonly triesLeft: number | undefined }
  | SessionOutcome;

const OFF: Screen = { state: "off", lines: ["", ""] };

export class SesameReader {
  readonly #profile: ReaderProfile;
  readonly #delays: Readonly<Record<DelayName, number>>;
  readonly #currency: string;
  readonly #onEvent: SesameReaderOptions["onEvent"];
  readonly #display: DeviceDisplay<Screen>;
  #state: ReaderState = "off";
  /** The card as the reader's contacts reach it (cut off when it comes out). */
  #card: CardConnection | undefined;
  #insertion = 0;
  #facts: CardFacts | undefined;
  #session = 0;
  #menuIndex = 0;
  #entry = "";
  #challenge = "";
  #amount = "";
  #tds: string[] = [];
  #confirm: ((ok: boolean) => void) | undefined;
  #confirmTries: number | undefined;
  #pinTriesLeft: number | undefined;
  #code: { readonly code: string; readonly display: string } | undefined;
  #error: CustomerError = "card-error";
  #work: Promise<void> = Promise.resolve();
  #inspection: Promise<void> = Promise.resolve();

  constructor(options: SesameReaderOptions = {}) {
    this.#profile = options.profile ?? readerProfile("sesame");
    this.#delays = {
      codeDisplay: options.codeDisplayMs ?? SESAME_DELAYS.codeDisplay,
      inactivity: options.inactivityMs ?? SESAME_DELAYS.inactivity,
    };
    this.#currency = options.currency ?? "978";
    this.#onEvent = options.onEvent;
    this.#display = new DeviceDisplay<Screen>(options.clock ?? systemClock, OFF, () => this.#expire());
  }

  get screen(): Screen {
    return this.#display.screen;
  }

  /** Subscribes to screen changes; returns the unsubscribe function. */
  onScreen(listener: (s: Screen) => void): () => void {
    return this.#display.subscribe(listener);
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
    const insertion = ++this.#insertion;
    const slot = cardInSlot(card, () => this.#insertion === insertion);
    this.#card = slot;
    this.#facts = undefined;
    this.#dispatch({ type: "cardIn" });
    this.#inspection = inspectCard(slot, this.#profile).then(
      (facts) => {
        if (insertion !== this.#insertion) return;
        this.#facts = facts;
        this.#dispatch({ type: "cardFacts" });
      },
      () => {
        // A card the reader cannot read: the function itself will say so.
      },
    );
    this.#work = this.#inspection;
  }

  /** The card pulled out: whatever was happening ends, no command reaches the card, the display goes off. */
  removeCard(): void {
    this.#card = undefined;
    this.#facts = undefined;
    this.#insertion++;
    this.#dispatch({ type: "cardOut" });
  }

  press(key: ReaderKey): void {
    this.#dispatch(
      key === "OK" || key === "C" || key === "FN" ? { type: key } : { type: "digit", digit: key },
    );
  }

  #dispatch(input: ReaderInput): void {
    const t = transitionFor(this.#state, input.type, {
      hasCard: this.#card !== undefined,
      facts: this.#facts,
      menuIndex: this.#menuIndex,
      entry: this.#entry,
      tds: this.#tds,
    });
    this.#onEvent?.({ state: this.#state, event: input.type, target: t?.target });
    if (!t) return;
    if (t.action) this.#act(t.action, input);
    this.#enter(t.target);
  }

  #enter(state: ReaderState): void {
    const node = SESAME_MACHINE[state];
    this.#state = state;
    if (node.entry) this.#act(node.entry);
    const lines = screenLines(state, {
      menuIndex: this.#menuIndex,
      entry: this.#entry,
      tds: this.#tds,
      confirmTries: this.#confirmTries,
      pinTriesLeft: this.#pinTriesLeft,
      display: this.#code?.display,
      error: this.#error,
    });
    const screen: Screen =
      state === "code" && this.#code ? { state, lines, code: this.#code.code } : { state, lines };
    this.#display.show(screen, node.after ? this.#delays[node.after.delay] : undefined);
  }

  /** The delay of the state shown is over. */
  #expire(): void {
    const after = SESAME_MACHINE[this.#state].after;
    if (after) this.#enter(after.target);
  }

  #act(action: ActionName, input?: ReaderInput): void {
    switch (action) {
      case "restart":
        this.#endSession();
        this.#toMenu();
        return;
      case "toMenu":
        this.#toMenu();
        return;
      case "nextFunction":
        this.#menuIndex = (this.#menuIndex + 1) % SESAME_FUNCTIONS.length;
        return;
      case "startEntry":
        this.#challenge = "";
        this.#amount = "";
        this.#tds = [];
        this.#entry = "";
        return;
      case "appendDigit":
        if (
          input?.type === "digit" &&
          this.#entry.length < maxEntryDigits(this.#state, this.#profile.challengeMaxDigits)
        )
          this.#entry += input.digit;
        return;
      case "deleteDigit":
        this.#entry = this.#entry.slice(0, -1);
        return;
      case "storeChallenge":
        this.#challenge = this.#takeEntry();
        return;
      case "storeAmount":
        this.#amount = this.#takeEntry();
        return;
      case "storeTdsNumber":
        this.#tds.push(this.#takeEntry());
        return;
      case "clearEntry":
        this.#entry = "";
        return;
      case "startFunction":
        this.#run(this.#takeEntry());
        return;
      case "awaitConfirmation":
        this.#confirmTries = input?.type === "askConfirm" ? input.triesLeft : undefined;
        return;
      case "confirm":
        this.#answer(true);
        return;
      case "decline":
        this.#answer(false);
        return;
      case "showCode":
        if (input?.type === "codeReady") this.#code = { code: input.code, display: input.display };
        return;
      case "showTriesLeft":
        if (input?.type === "pinWrong") this.#pinTriesLeft = input.triesLeft;
        return;
      case "showCardError":
        if (input?.type === "cardError") this.#error = input.error;
        return;
      case "refuseFunction":
        this.#entry = "";
        this.#error = "unavailable";
        return;
      case "endSession":
        this.#endSession();
        return;
    }
  }

  #toMenu(): void {
    this.#menuIndex = 0;
    this.#entry = "";
  }

  #takeEntry(): string {
    const e = this.#entry;
    this.#entry = "";
    return e;
  }

  #answer(ok: boolean): void {
    const answer = this.#confirm;
    this.#confirm = undefined;
    answer?.(ok);
  }

  /** Every input is forgotten and a running function's results will be ignored; a pending question is declined. */
  #endSession(): void {
    this.#session++;
    this.#entry = "";
    this.#challenge = "";
    this.#amount = "";
    this.#tds = [];
    this.#answer(false);
  }

  #run(pin: string): void {
    const card = this.#card;
    const session = ++this.#session;
    const request = {
      fn: SESAME_FUNCTIONS[this.#menuIndex]!,
      challenge: this.#challenge,
      amount: this.#amount,
      tds: [...this.#tds],
      currency: this.#currency,
      pin,
    };
    const confirmRisk = (triesLeft: number | undefined) =>
      new Promise<boolean>((resolve) => {
        if (session !== this.#session) return resolve(false);
        this.#confirm = resolve;
        this.#dispatch({ type: "askConfirm", triesLeft });
        if (this.#state !== "confirm-last-try") this.#answer(false);
      });
    // After the insertion's own reading of the card: one exchange at a time.
    this.#work = this.#inspection
      .then(
        (): Promise<SessionOutcome> =>
          card
            ? runFunction(card, this.#profile, request, confirmRisk)
            : Promise.resolve({ type: "cardRemoved" }),
      )
      .then((outcome) => {
        if (session === this.#session) this.#dispatch(outcome); // else the card was pulled: already over
      });
  }
}
