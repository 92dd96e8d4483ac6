import type { CapMode } from "@capkit/emv-cap";

/**
 * The Sésame reader as data (docs/architecture.md §5.1): every state, what each event does there (the next
 * state, the guard that must hold, the action on the way), and the named delay after which the display goes off.
 * `SesameReader` (reader.ts) only interprets this table; the LCD texts are in screens.ts and the card I/O in
 * session.ts. An event a state does not list is ignored there: the screen does not change.
 *
 * Transitions of one event are tried in order; the first whose guard holds is taken (no guard: always).
 * Taking a transition redraws the screen of its target, even when the target is the same state (a key pressed
 * while typing restarts the inactivity delay).
 */
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

/**
 * What can happen to a reader: a key (`digit` is any of 0–9), the card going in or out, what the reader learns
 * from the card on insertion (`cardFacts`), and the outcomes of a function's card session (session.ts).
 */
export type ReaderEvent =
  | "digit"
  | "OK"
  | "C"
  | "FN"
  | "cardIn"
  | "cardOut"
  | "cardFacts"
  | "askConfirm"
  | "codeReady"
  | "pinWrong"
  | "pinBlocked"
  | "cardRemoved"
  | "cardError";

export const READER_STATES: readonly ReaderState[] = [
  "off",
  "insert-card",
  "menu",
  "challenge",
  "amount",
  "tds",
  "pin",
  "working",
  "confirm-last-try",
  "code",
  "pin-wrong",
  "blocked",
  "error",
];

/** The outcomes of a function's card session (session.ts): they arrive only while the reader is working. */
export const SESSION_EVENTS = [
  "askConfirm",
  "codeReady",
  "pinWrong",
  "pinBlocked",
  "cardRemoved",
  "cardError",
] as const satisfies readonly ReaderEvent[];

export const READER_EVENTS: readonly ReaderEvent[] = [
  "digit",
  "OK",
  "C",
  "FN",
  "cardIn",
  "cardOut",
  "cardFacts",
  ...SESSION_EVENTS,
];

/** How long a screen stays before the display goes off (a physical Sésame: 35 s for the code, 30 s idle). */
export const SESAME_DELAYS = { codeDisplay: 35_000, inactivity: 30_000 } as const;
export type DelayName = keyof typeof SESAME_DELAYS;

/** A Sésame reader takes 4-digit PINs, no more, no less. */
export const SESAME_PIN_LENGTH = 4;
/** The amount is typed in cents: 10 digits are 99 999 999,99 (EMV's n12 amount has room for 12). */
export const AMOUNT_MAX_DIGITS = 10;
/** Mode 2 + TDS takes 1 to 10 numbers of 1 to 10 digits (docs/architecture.md §3.7). */
export const TDS_MAX_NUMBERS = 10;
export const TDS_NUMBER_MAX_DIGITS = 10;

export interface ReaderFunction {
  readonly label: string;
  readonly mode: CapMode;
  readonly tds?: boolean;
}

/** The order of the Sésame menu: "Code" (identify) first. */
export const SESAME_FUNCTIONS: readonly ReaderFunction[] = [
  { label: "CODE", mode: "identify" },
  { label: "REPONSE", mode: "respond" },
  { label: "SIGNATURE", mode: "sign" },
  { label: "CODE+DONNEES", mode: "identify", tds: true },
];

/** What the reader learns from the card when it goes in, before any PIN (session.ts `inspectCard`). */
export interface CardFacts {
  readonly triesLeft: number | undefined;
  /**
   * Whether the card signs amounts (IAF b8), when its FCI says (BF0C 9F55, as Belgian cards and ours carry it);
   * undefined when the IAF is only in the records, which a reader reads after GET PROCESSING OPTIONS (an ATC).
   */
  readonly canSign: boolean | undefined;
}

/** What the guards read: the session so far. */
export interface ReaderContext {
  readonly hasCard: boolean;
  readonly facts: CardFacts | undefined;
  /** The function chosen in the menu (an index into SESAME_FUNCTIONS). */
  readonly menuIndex: number;
  /** The digits typed on the current line. */
  readonly entry: string;
  readonly tds: readonly string[];
}

export const SESAME_GUARDS = {
  hasCard: (c: ReaderContext) => c.hasCard,
  cardBlocked: (c: ReaderContext) => c.facts?.triesLeft === 0,
  /** The function chosen signs an amount, and the card said it cannot (IAF without b8). */
  cardCannotSign: (c: ReaderContext) => chosen(c).mode === "sign" && c.facts?.canSign === false,
  signFunction: (c: ReaderContext) => chosen(c).mode === "sign",
  tdsFunction: (c: ReaderContext) => chosen(c).tds === true,
  identifyFunction: (c: ReaderContext) => chosen(c).mode === "identify",
  entryEmpty: (c: ReaderContext) => c.entry.length === 0,
  pinIncomplete: (c: ReaderContext) => c.entry.length !== SESAME_PIN_LENGTH,
  /** A number typed that is the last one TDS takes. */
  lastTdsNumber: (c: ReaderContext) => c.entry.length > 0 && c.tds.length + 1 >= TDS_MAX_NUMBERS,
  /** OK on an empty line after at least one number: the numbers are complete. */
  tdsComplete: (c: ReaderContext) => c.entry.length === 0 && c.tds.length > 0,
} as const satisfies Readonly<Record<string, (c: ReaderContext) => boolean>>;
export type GuardName = keyof typeof SESAME_GUARDS;

function chosen(c: ReaderContext): ReaderFunction {
  return SESAME_FUNCTIONS[c.menuIndex]!;
}

/** What a transition does on its way (implemented by the reader: they touch the session and the card). */
export type ActionName =
  /** A new card: whatever session was running ends, the menu starts at CODE. */
  | "restart"
  /** Back to the first function, the line cleared. */
  | "toMenu"
  | "nextFunction"
  /** A function chosen: challenge, amount, TDS numbers and the line cleared. */
  | "startEntry"
  | "appendDigit"
  | "deleteDigit"
  | "storeChallenge"
  | "storeAmount"
  | "storeTdsNumber"
  | "clearEntry"
  /** The PIN is complete: it goes to the card session (session.ts) and leaves the line. */
  | "startFunction"
  | "awaitConfirmation"
  | "confirm"
  | "decline"
  | "showCode"
  | "showTriesLeft"
  | "showCardError"
  | "refuseFunction"
  /** The display goes off: the session ends (a pending confirmation is declined), every input is forgotten. */
  | "endSession";

export interface Transition {
  readonly target: ReaderState;
  readonly guard?: GuardName;
  readonly action?: ActionName;
}

export interface StateNode {
  readonly on: Readonly<Partial<Record<ReaderEvent, readonly Transition[]>>>;
  /** After this delay without another transition the display goes off. */
  readonly after?: { readonly delay: DelayName; readonly target: ReaderState };
  /** Run on entering the state, whatever the transition. */
  readonly entry?: ActionName;
}

/** The card slot works the same in every state: a card in starts over at the menu, a card out ends it all. */
const SLOT = {
  cardIn: [{ target: "menu", action: "restart" }],
  cardOut: [{ target: "off" }],
} as const satisfies StateNode["on"];

const IDLE = { delay: "inactivity", target: "off" } as const;

/** Any key wakes the display: the menu when a card is in, else the request for one. */
const WAKE: readonly Transition[] = [
  { target: "menu", guard: "hasCard", action: "toMenu" },
  { target: "insert-card" },
];

/** OK and C on a screen that reports something: back to the menu. */
const BACK_TO_MENU: Transition = { target: "menu", action: "toMenu" };

/** A screen that waits for an answer, OK or C (the other keys do nothing), until the display goes off. */
function question(ok: Transition, c: Transition, after: StateNode["after"] = IDLE): StateNode {
  return { after, on: { ...SLOT, OK: [ok], C: [c] } };
}

/** Card facts arriving while the holder types: a blocked card or a refused signature stops the entry. */
const FACTS_WHILE_TYPING: readonly Transition[] = [
  { target: "blocked", guard: "cardBlocked", action: "clearEntry" },
  { target: "error", guard: "cardCannotSign", action: "refuseFunction" },
];

/**
 * A state where the holder types a line (challenge, amount, TDS number, PIN): digits and corrections, FN only
 * redraws, the card's facts may stop it; what OK does is the state's own.
 */
function entryState(state: ReaderState, ok: readonly Transition[]): StateNode {
  return {
    after: IDLE,
    on: {
      ...SLOT,
      digit: [{ target: state, action: "appendDigit" }],
      C: [
        { target: "menu", guard: "entryEmpty", action: "toMenu" },
        { target: state, action: "deleteDigit" },
      ],
      FN: [{ target: state }],
      cardFacts: FACTS_WHILE_TYPING,
      OK: ok,
    },
  };
}

export const SESAME_MACHINE: { readonly [S in ReaderState]: StateNode } = {
  off: {
    entry: "endSession",
    on: { ...SLOT, digit: WAKE, OK: WAKE, C: WAKE, FN: WAKE },
  },
  "insert-card": {
    after: IDLE,
    on: {
      ...SLOT,
      digit: [{ target: "insert-card" }],
      OK: [{ target: "insert-card" }],
      C: [{ target: "insert-card" }],
      FN: [{ target: "insert-card" }],
    },
  },
  menu: {
    after: IDLE,
    on: {
      ...SLOT,
      FN: [{ target: "menu", action: "nextFunction" }],
      OK: [
        { target: "blocked", guard: "cardBlocked", action: "clearEntry" },
        { target: "error", guard: "cardCannotSign", action: "refuseFunction" },
        { target: "tds", guard: "tdsFunction", action: "startEntry" },
        { target: "pin", guard: "identifyFunction", action: "startEntry" },
        { target: "challenge", action: "startEntry" },
      ],
      C: [{ target: "off" }],
      digit: [{ target: "menu" }],
      cardFacts: [{ target: "blocked", guard: "cardBlocked", action: "clearEntry" }],
    },
  },
  challenge: entryState("challenge", [
    { target: "challenge", guard: "entryEmpty" },
    { target: "amount", guard: "signFunction", action: "storeChallenge" },
    { target: "pin", action: "storeChallenge" },
  ]),
  amount: entryState("amount", [
    { target: "amount", guard: "entryEmpty" },
    { target: "pin", action: "storeAmount" },
  ]),
  tds: entryState("tds", [
    { target: "pin", guard: "lastTdsNumber", action: "storeTdsNumber" },
    { target: "pin", guard: "tdsComplete" },
    { target: "tds", guard: "entryEmpty" },
    { target: "tds", action: "storeTdsNumber" },
  ]),
  pin: entryState("pin", [
    { target: "pin", guard: "pinIncomplete" },
    { target: "working", action: "startFunction" },
  ]),
  working: {
    on: {
      ...SLOT,
      askConfirm: [{ target: "confirm-last-try", action: "awaitConfirmation" }],
      codeReady: [{ target: "code", action: "showCode" }],
      pinWrong: [{ target: "pin-wrong", action: "showTriesLeft" }],
      pinBlocked: [{ target: "blocked" }],
      cardRemoved: [{ target: "off" }],
      cardError: [{ target: "error", action: "showCardError" }],
    },
  },
  "confirm-last-try": question(
    { target: "working", action: "confirm" },
    { target: "working", action: "decline" },
  ),
  code: question(BACK_TO_MENU, BACK_TO_MENU, { delay: "codeDisplay", target: "off" }),
  "pin-wrong": question({ target: "pin", action: "clearEntry" }, BACK_TO_MENU),
  blocked: question(BACK_TO_MENU, BACK_TO_MENU),
  error: question(BACK_TO_MENU, BACK_TO_MENU),
};

/** The transition `event` takes from `state` in `context`; undefined when the event is ignored there. */
export function transitionFor(
  state: ReaderState,
  event: ReaderEvent,
  context: ReaderContext,
): Transition | undefined {
  return SESAME_MACHINE[state].on[event]?.find(
    (t) => t.guard === undefined || SESAME_GUARDS[t.guard](context),
  );
}

/** The longest a digit line can be in `state`. */
export function maxEntryDigits(state: ReaderState, challengeMaxDigits: number): number {
  switch (state) {
    case "pin":
      return SESAME_PIN_LENGTH;
    case "challenge":
      return challengeMaxDigits;
    case "amount":
      return AMOUNT_MAX_DIGITS;
    default:
      return TDS_NUMBER_MAX_DIGITS;
  }
}
