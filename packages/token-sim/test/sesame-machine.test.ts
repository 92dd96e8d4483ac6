import { type CardConnection, INS, SW, swBytes } from "@capkit/emv-cap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FakeClock,
  newSimCardState,
  READER_EVENTS,
  READER_STATES,
  type ReaderEvent,
  type ReaderKey,
  type ReaderState,
  type Screen,
  SESAME_FUNCTIONS,
  SESAME_GUARDS,
  SESAME_MACHINE,
  SESSION_EVENTS,
  SesameReader,
  SimulatedCard,
} from "../src/index.js";

/**
 * The Sésame reader's table (src/sesame/machine.ts) walked as a model, on the fake clock. What the outside
 * world can do to a reader — keys, cards of every kind going in and out (one pulled in the middle of GENERATE
 * AC), the card's answers arriving, time passing — is a set of commands; after every one the reader must keep
 * three promises:
 * - the PIN never reaches the LCD (the PIN screen shows stars; no screen but the typed lines and the code shows
 *   two digits in a row);
 * - no command reaches a card once it is out of the slot;
 * - every screen carries when it goes off (its state's named delay, from the reader's options), and goes off
 *   then.
 * First a walk: a way into each of the 13 states (with each kind of card), then every kind of step from there,
 * until every (state, event) pair the world can cause has been met. Then fast-check strings random commands
 * together (fc.commands) and checks the promises on whatever interleaving comes out.
 */

const PIN = "2468";
// Delays other than the defaults: the screens must carry these, not the 35 s / 30 s of a physical Sésame.
const DELAYS = { codeDisplay: 10_000, inactivity: 7_000 } as const;

/**
 * Each kind comes as a Sésame card (it cannot sign: IAF 00) or a UK one (it signs amounts: IAF A0).
 * `pulled-mid-gac`: the holder pulls the card while GENERATE AC is on its way (the reader is told);
 * `contact-lost`: the card stops answering at GENERATE AC (CARD_REMOVED) before the reader knows it is out.
 */
type CardKind =
  | "good"
  | "last-try"
  | "blocked"
  | "unknown-tries"
  | "broken"
  | "pulled-mid-gac"
  | "contact-lost";
const CARD_KINDS: readonly CardKind[] = [
  "good",
  "last-try",
  "blocked",
  "unknown-tries",
  "broken",
  "pulled-mid-gac",
  "contact-lost",
];

interface World {
  readonly clock: FakeClock;
  readonly reader: SesameReader;
  /** Every screen with the clock's time when it was shown. */
  readonly screens: { screen: Screen; at: number }[];
  readonly events: Set<string>;
  /** A card out of the slot: a command reaching it breaks the promise. */
  readonly out: Set<number>;
  readonly violations: string[];
  inserted: number | undefined;
  nextCard: number;
  /** The function the menu showed last ("> CODE"). */
  lastMenu: string;
}

function newWorld(events: Set<string>): World {
  const clock = new FakeClock();
  const world: World = {
    clock,
    reader: undefined as never,
    screens: [],
    events,
    out: new Set(),
    violations: [],
    inserted: undefined,
    nextCard: 1,
    lastMenu: "",
  };
  const reader = new SesameReader({
    clock,
    codeDisplayMs: DELAYS.codeDisplay,
    inactivityMs: DELAYS.inactivity,
    onEvent: ({ state, event, target }) => {
      events.add(`${state} ${event}`);
      // The card's answers arrive only while a function runs.
      if (
        target !== undefined &&
        (SESSION_EVENTS as readonly ReaderEvent[]).includes(event) &&
        state !== "working"
      )
        world.violations.push(`${event} taken in ${state}`);
    },
  });
  reader.onScreen((screen) => {
    world.screens.push({ screen, at: clock.now() });
    if (screen.state === "menu") world.lastMenu = screen.lines[1];
  });
  return Object.assign(world, { reader });
}

function takeOut(w: World): void {
  if (w.inserted !== undefined) w.out.add(w.inserted);
  w.inserted = undefined;
}

/** A card of `kind`, watched: a command after it left the slot is a violation. */
function newCard(w: World, kind: CardKind, profile: CardProfile): CardConnection {
  const id = w.nextCard++;
  const tries = kind === "last-try" ? 1 : kind === "blocked" ? 0 : undefined;
  const state = newSimCardState(profile, PIN);
  const card = new SimulatedCard(tries === undefined ? state : { ...state, pinTries: tries });
  return {
    atr: card.atr,
    transmit: async (c) => {
      if (w.out.has(id))
        w.violations.push(`card ${id} got ${Buffer.from(c).toString("hex")} after it was out`);
      const gac = c[1] === INS.GENERATE_AC;
      if (kind === "unknown-tries" && c[1] === INS.GET_DATA) return swBytes(SW.REFERENCED_DATA_NOT_FOUND);
      if (kind === "broken" && gac) return swBytes(SW.NO_PRECISE_DIAGNOSIS);
      if (kind === "pulled-mid-gac" && gac) {
        takeOut(w);
        w.reader.removeCard();
      }
      if (kind === "contact-lost" && gac) card.remove();
      return card.transmit(c);
    },
    close: () => card.close(),
  };
}

type CardProfile = "sesame" | "uk";

function insert(w: World, [kind, profile]: [CardKind, CardProfile]): void {
  takeOut(w); // a card already in is replaced: it is out
  w.inserted = w.nextCard;
  w.reader.insertCard(newCard(w, kind, profile));
}

/** Lets every card exchange in flight finish (the simulated cards answer within microtasks). */
const drain = () => new Promise<void>((r) => setImmediate(r));

/** The three promises, checked on every screen shown so far. */
function checkScreens(w: World): void {
  for (const { screen, at } of w.screens) {
    const { state, lines } = screen;
    if (state === "pin") expect(lines[0] === "PIN ?" && /^\*{0,4}$/.test(lines[1])).toBe(true);
    const typedOrCode = state === "challenge" || state === "amount" || state === "tds" || state === "code";
    if (!typedOrCode) expect(lines.join(" | ")).not.toMatch(/\d\d/);
    const after = SESAME_MACHINE[state].after;
    expect(screen.offAt).toBe(after ? at + DELAYS[after.delay] : undefined);
  }
  w.screens.length = 0;
  expect(w.violations).toEqual([]);
}

type Cmd = fc.AsyncCommand<object, World>;

const command = (name: string, run: (w: World) => void | Promise<void>): Cmd => ({
  check: () => true,
  async run(_m, w) {
    await run(w);
    checkScreens(w);
  },
  toString: () => name,
});

const press = (key: ReaderKey) => command(`press ${key}`, (w) => w.reader.press(key));
const keys = (name: string, ks: readonly ReaderKey[]) =>
  command(name, (w) => {
    for (const k of ks) w.reader.press(k);
  });

const CARDS: readonly [CardKind, CardProfile][] = CARD_KINDS.flatMap((k) =>
  (["sesame", "uk"] as const).map((p): [CardKind, CardProfile] => [k, p]),
);

const typePinOk = keys("type the PIN, OK", [...PIN, "OK"] as ReaderKey[]);
const typeWrongPinOk = keys("type a wrong PIN, OK", ["1", "3", "5", "7", "OK"]);
const typeChallengeOk = keys("type a challenge, OK", ["4", "2", "OK"]);
const insertCard = (card: [CardKind, CardProfile]) =>
  command(`insert a ${card.join(" ")} card`, (w) => insert(w, card));
const insertAndType = (card: [CardKind, CardProfile]) =>
  command(`insert a ${card.join(" ")} card and type CODE, the PIN, OK at once`, (w) => {
    insert(w, card);
    for (const k of ["OK", ...PIN, "OK"] as ReaderKey[]) w.reader.press(k);
  });
const pull = command("pull the card", (w) => {
  takeOut(w);
  w.reader.removeCard();
});
const letTheCardAnswer = command("let the card answer", drain);
const waitUntilOff = command("wait until the display goes off", async (w) => {
  await drain();
  const s = w.reader.screen;
  if (s.state === "off") return;
  // Nothing in flight after the drain: every state but "off" waits for the holder, with a delay.
  expect(s.offAt).toBeDefined();
  w.clock.advance(s.offAt! - w.clock.now() - 1);
  expect(w.reader.screen).toBe(s);
  w.clock.advance(1);
  expect(w.reader.screen.state).toBe(SESAME_MACHINE[s.state].after?.target);
});

/**
 * What the world does, in groups weighted so that random sessions get somewhere: mostly keys, now and then a
 * card or time. The key sequences are what a holder types in one go; each key is still one event of the table.
 */
const STEPS: readonly { readonly weight: number; readonly commands: readonly Cmd[] }[] = [
  { weight: 3, commands: (["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const).map(press) },
  { weight: 4, commands: [press("OK")] },
  { weight: 2, commands: [press("C")] },
  { weight: 2, commands: [press("FN")] },
  {
    weight: 3,
    commands: SESAME_FUNCTIONS.map((f, i) =>
      keys(`choose ${f.label}`, [...Array<ReaderKey>(i).fill("FN"), "OK"]),
    ),
  },
  {
    weight: 4,
    commands: [keys("type the PIN", [...PIN] as ReaderKey[]), typePinOk, typeWrongPinOk, typeChallengeOk],
  },
  { weight: 2, commands: CARDS.map(insertCard) },
  // The holder types before the reader has read the card: its facts arrive mid-entry or mid-session.
  { weight: 1, commands: CARDS.map(insertAndType) },
  { weight: 1, commands: [pull] },
  { weight: 3, commands: [letTheCardAnswer] },
  {
    weight: 1,
    commands: [1_000, DELAYS.inactivity - 1, DELAYS.inactivity, DELAYS.codeDisplay].map((ms) =>
      command(`wait ${ms} ms`, (w) => w.clock.advance(ms)),
    ),
  },
  { weight: 1, commands: [waitUntilOff] },
];

/** A new reader driven through `steps`, every promise checked after each. */
async function replay(events: Set<string>, steps: readonly Cmd[]): Promise<World> {
  const w = newWorld(events);
  for (const c of steps) await c.run({}, w);
  return w;
}

/** Pulls the card at the end of a walk and checks the last screens. */
async function finish(w: World): Promise<void> {
  takeOut(w);
  w.reader.removeCard();
  await drain();
  checkScreens(w);
}

/** Every pair the table must meet: a key or the card slot in every state; the card's answers where they arrive. */
function missingPairs(events: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  for (const state of READER_STATES)
    for (const event of ["digit", "OK", "C", "FN", "cardIn", "cardOut"] as const)
      if (!events.has(`${state} ${event}`)) missing.push(`${state} ${event}`);
  for (const event of SESSION_EVENTS) if (!events.has(`working ${event}`)) missing.push(`working ${event}`);
  for (const state of ["off", "menu", "challenge", "pin", "working"] as const)
    if (!events.has(`${state} cardFacts`)) missing.push(`${state} cardFacts`);
  return missing;
}

describe("the Sésame reader's table, walked as a model (fast-check commands, fake clock)", () => {
  it("walks every (state, event) pair: a way into each state, with each kind of card, then every step from there", async () => {
    const good = insertCard(["good", "sesame"]);
    const chooseCode = keys("choose CODE", ["OK"]);
    const choose = (label: string) => {
      const i = SESAME_FUNCTIONS.findIndex((f) => f.label === label);
      return keys(`choose ${label}`, [...Array<ReaderKey>(i).fill("FN"), "OK"]);
    };
    const runWith = (kind: CardKind, ...then: Cmd[]) => [
      insertCard([kind, "sesame"]),
      letTheCardAnswer,
      chooseCode,
      ...then,
    ];
    // The ways in (as xstate's paths): each names the state it must end in.
    const ways: readonly (readonly [ReaderState, readonly Cmd[]])[] = [
      ["off", []],
      ["off", [good, press("C"), letTheCardAnswer]], // the card's facts arrive with the display off
      ["insert-card", [press("OK")]],
      ["menu", [good, letTheCardAnswer]],
      ["challenge", [good, choose("REPONSE")]], // the facts arrive while the challenge is typed
      ["amount", [insertCard(["good", "uk"]), letTheCardAnswer, choose("SIGNATURE"), typeChallengeOk]],
      ["tds", [good, letTheCardAnswer, choose("CODE+DONNEES")]],
      ["pin", [good, chooseCode]], // …while the PIN is typed
      ["working", [insertAndType(["good", "sesame"])]], // …while the card works
      ["working", runWith("good", typePinOk)], // → the code
      ["working", runWith("good", typeWrongPinOk)], // → PIN FAUX
      ["working", runWith("last-try", typeWrongPinOk)], // → DERNIER ESSAI
      ["working", runWith("last-try", typeWrongPinOk, letTheCardAnswer, press("OK"))], // → CARTE BLOQUEE
      ["working", runWith("unknown-tries", typePinOk)], // → ESSAIS INCONNUS
      ["working", runWith("broken", typePinOk)], // → ERREUR CARTE
      ["working", runWith("contact-lost", typePinOk)], // → off, the card gone
      ["working", runWith("pulled-mid-gac", typePinOk)], // → off, the card pulled
      ["confirm-last-try", runWith("last-try", typeWrongPinOk, letTheCardAnswer)],
      ["code", runWith("good", typePinOk, letTheCardAnswer)],
      ["pin-wrong", runWith("good", typeWrongPinOk, letTheCardAnswer)],
      ["blocked", [insertCard(["blocked", "sesame"]), letTheCardAnswer]],
      ["error", [good, letTheCardAnswer, choose("SIGNATURE")]], // a Sésame card cannot sign
    ];
    // One step of each kind from each of them (any digit is the same event).
    const steps = [
      press("1"),
      press("OK"),
      press("C"),
      press("FN"),
      good,
      pull,
      letTheCardAnswer,
      waitUntilOff,
    ];
    const events = new Set<string>();
    for (const [state, way] of ways) {
      const w = await replay(events, way);
      expect(`${way.join(", ")} → ${w.reader.screen.state}`).toBe(`${way.join(", ")} → ${state}`);
      await finish(w);
      for (const step of steps) await finish(await replay(events, [...way, step]));
    }
    expect(missingPairs(events)).toEqual([]);
  });

  it("keeps the PIN off the LCD, sends nothing to a card that is out, and goes off after every state's delay", async () => {
    const events = new Set<string>();
    const commands = [
      fc.oneof(...STEPS.map((s) => ({ weight: s.weight, arbitrary: fc.constantFrom(...s.commands) }))),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: "max" }), async (cmds) => {
        const w = newWorld(events);
        await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
        await finish(w);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the table itself, every (state, event) pair", () => {
  const contexts = [
    { hasCard: false, facts: undefined, menuIndex: 0, entry: "", tds: [] },
    { hasCard: true, facts: { triesLeft: 0, canSign: false }, menuIndex: 2, entry: "12", tds: ["1"] },
    { hasCard: true, facts: { triesLeft: 3, canSign: true }, menuIndex: 3, entry: "1234", tds: [] },
  ];

  it("answers every pair with a state of the table, or ignores it", () => {
    for (const state of READER_STATES)
      for (const event of READER_EVENTS)
        for (const t of SESAME_MACHINE[state].on[event] ?? []) {
          expect(READER_STATES).toContain(t.target);
          if (t.guard) expect(Object.keys(SESAME_GUARDS)).toContain(t.guard);
        }
  });

  it("takes the card slot in every state: in → menu, out → off", () => {
    for (const state of READER_STATES) {
      expect(SESAME_MACHINE[state].on.cardIn?.map((t) => t.target)).toEqual(["menu"]);
      expect(SESAME_MACHINE[state].on.cardOut?.map((t) => t.target)).toEqual(["off"]);
    }
  });

  it("goes off by itself from every state but off and working (which waits for the card)", () => {
    for (const state of READER_STATES) {
      const after = SESAME_MACHINE[state].after;
      if (state === "off" || state === "working") expect(after).toBeUndefined();
      else expect(after?.target).toBe("off");
    }
    expect(SESAME_MACHINE.code.after?.delay).toBe("codeDisplay");
  });

  it("hears the card's answers only while working, where each has a transition", () => {
    for (const state of READER_STATES)
      for (const event of SESSION_EVENTS)
        expect(SESAME_MACHINE[state].on[event] !== undefined).toBe(state === "working");
  });

  it("always ends an event's guarded list with a transition that applies, where it must", () => {
    // Keys in the entry states and the menu: whatever the context, some transition is taken.
    for (const state of [
      "menu",
      "challenge",
      "amount",
      "tds",
      "pin",
    ] as const satisfies readonly ReaderState[])
      for (const event of ["digit", "OK", "C", "FN"] as const)
        for (const c of contexts) {
          const ts = SESAME_MACHINE[state].on[event] ?? [];
          expect(ts.some((t) => t.guard === undefined || SESAME_GUARDS[t.guard](c))).toBe(true);
        }
  });
});

describe("screens carry their off time", () => {
  it("a code shown with a 10 s display says so, on the reader's clock", async () => {
    const w = newWorld(new Set());
    w.reader.insertCard(new SimulatedCard(newSimCardState("sesame", PIN)));
    for (const k of ["OK", ...PIN, "OK"] as ReaderKey[]) w.reader.press(k);
    await w.reader.settled();
    expect(w.reader.screen.state).toBe("code");
    expect(w.reader.screen.offAt).toBe(w.clock.now() + 10_000);
  });
});
