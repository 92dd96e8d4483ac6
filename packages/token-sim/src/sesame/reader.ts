import { argumentError, expectInteger, expectOneOf, expectOptions, isRecord } from "@capkit/core";
import { type CardConnection, type ReaderProfile, readerProfile } from "@capkit/emv-cap";
import { type Clock, expectClock, systemClock } from "../clock.js";
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

/** The reader's keys: the digits, OK, C (correction) and the function key. */
export type ReaderKey = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "OK" | "C" | "FN";
const READER_KEYS: readonly ReaderKey[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "OK", "C", "FN"];

/** What the reader's LCD shows. */
export interface Screen {
  /** The reader's state (`off`, `menu`, `pin`, `code`…). */
  readonly state: ReaderState;
  /** The LCD's two lines of 16 characters, as the customer reads them (the PIN only ever as `*`). */
  readonly lines: readonly [string, string];
  /** The code shown (state "code"), digits only. */
  readonly code?: string;
  /** When the display goes off by itself, on the reader's clock (ms since the epoch); absent: it stays. */
  readonly offAt?: number;
}

/** How a {@link SesameReader} behaves. */
export interface SesameReaderOptions {
  /** The clock its display's delays run on ({@link systemClock}; {@link FakeClock} in tests). */
  readonly clock?: Clock;
  /** The reader profile whose constants it sends (`sesame`). */
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

/**
 * The Sésame reader (https://github.com/capkit/capkit/blob/main/docs/architecture.md §5): a 2×16 LCD, keys 0–9,
 * OK, C (correction) and the function key. Insert the card, choose a function ("Code" first), type the 4-digit
 * PIN, read the 8-digit code until the display goes off. Pulling the card ends the session at any point. The
 * screen is available as text and as a stream of events, so a terminal or web UI can draw it; each screen
 * says when it goes off (`offAt`). What the reader does is a table (state × event → next state, guard,
 * action), interpreted here.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const reader = new SesameReader({ clock });
 * reader.insertCard(new SimulatedCard(newSimCardState("sesame", "1234")));
 * reader.press("OK"); // CODE
 * for (const k of ["1", "2", "3", "4", "OK"] as const) reader.press(k);
 * await reader.settled();
 * reader.screen.lines; // ["CODE", "1234 5678"], until 35 s later on the clock
 * ```
 */
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

  /**
   * @throws `INPUT_INVALID` for a malformed option (a clock without timers, a delay that is not a whole
   *   number of milliseconds, a currency that is not 3 digits, …)
   */
  constructor(options: SesameReaderOptions = {}) {
    options = expectOptions<SesameReaderOptions>(options, "the reader options");
    if (options.clock !== undefined) expectClock(options.clock);
    if (options.profile !== undefined && !isRecord(options.profile))
      throw argumentError("PROFILE_INVALID", "the reader profile", "a reader profile", options.profile);
    if (options.codeDisplayMs !== undefined)
      expectInteger(options.codeDisplayMs, "codeDisplayMs", 1, 86_400_000);
    if (options.inactivityMs !== undefined)
      expectInteger(options.inactivityMs, "inactivityMs", 1, 86_400_000);
    if (
      options.currency !== undefined &&
      (typeof options.currency !== "string" || !/^[0-9]{3}$/.test(options.currency))
    )
      throw argumentError(
        "INPUT_INVALID",
        "the currency",
        "an ISO 4217 numeric code of 3 digits, as a string",
        options.currency,
      );
    if (options.onEvent !== undefined && typeof options.onEvent !== "function")
      throw argumentError("INPUT_INVALID", "onEvent", "a function", options.onEvent);
    this.#profile = options.profile ?? readerProfile("sesame");
    this.#delays = {
      codeDisplay: options.codeDisplayMs ?? SESAME_DELAYS.codeDisplay,
      inactivity: options.inactivityMs ?? SESAME_DELAYS.inactivity,
    };
    this.#currency = options.currency ?? "978";
    this.#onEvent = options.onEvent;
    this.#display = new DeviceDisplay<Screen>(options.clock ?? systemClock, OFF, () => this.#expire());
  }

  /** What the LCD shows now. */
  get screen(): Screen {
    return this.#display.screen;
  }

  /** Subscribes to screen changes; returns the unsubscribe function. */
  onScreen(listener: (s: Screen) => void): () => void {
    if (typeof listener !== "function")
      throw argumentError("INPUT_INVALID", "the listener", "a function", listener);
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
    if (!isRecord(card) || typeof card["transmit"] !== "function")
      throw argumentError(
        "INPUT_INVALID",
        "the card",
        "a CardConnection (an object with transmit(command))",
        card,
      );
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

  /**
   * A key pressed. What it does depends on the state (the reader's table); a key the state ignores does
   * nothing.
   *
   * @throws `INPUT_INVALID` for anything but a {@link ReaderKey} (a digit as a string, `OK`, `C`, `FN`)
   */
  press(key: ReaderKey): void {
    expectOneOf(key, "the key", READER_KEYS);
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
