/*
 * The SogeSmart app's screens as a table, like token-sim's Sésame reader
 * (https://github.com/capkit/capkit/blob/main/docs/architecture.md §5.1): for each
 * screen, what each event does there — the next screen, and the request (`effect`) the app makes on the way. An
 * event a screen does not list is ignored there. Events are the customer's (buttons, forms) and the answers of
 * the bank (the outcome of an effect). No I/O and no DOM here: `<capkit-sogesmart-app>` runs the effects and
 * feeds their outcome back, and the tests walk the table in Node.
 */

/**
 * The app's screens, by name: `welcome` (« Première connexion ? »), `login`, `activation` (ACTIVATION
 * SOGESMART), `qr` (the QR code of a Sogenet session), `sms` (SMS REÇU), `authentication` (the new personal
 * password), `subscription` and `subscribed`, `password-lost`, `home`, `settings`, `reactivation`, and
 * `approval` (« Pass Sécurité »: an operation to accept or decline).
 */
export const APP_SCREENS = [
  "welcome",
  "login",
  "activation",
  "qr",
  "sms",
  "authentication",
  "subscription",
  "subscribed",
  "password-lost",
  "home",
  "settings",
  "reactivation",
  "approval",
] as const;
/** One of {@link APP_SCREENS}. */
export type AppScreen = (typeof APP_SCREENS)[number];

/**
 * Why an activation runs: it picks the heading (the guide has three) and what the bank does at its end —
 * `first`, `new-version` (a new major `app-version`), `reactivation` (the bank asked for it), `password-lost`,
 * `qr` (from a Sogenet session's QR code).
 */
export type ActivationPurpose = "first" | "new-version" | "reactivation" | "password-lost" | "qr";

/** What the customer does. */
export const CUSTOMER_EVENTS = [
  "yes",
  "no",
  "home",
  "back",
  "lost",
  "activate",
  "noSogenet",
  "scan",
  "submit",
  "accept",
  "refuse",
  "settings",
  "logout",
  "operations",
  "decline",
] as const;
/** What an effect ends with (the bank's answer, or the app's own check of the form). */
export const OUTCOME_EVENTS = [
  "started",
  "received",
  "activated",
  "loggedIn",
  "changed",
  "subscribed",
  "rejected",
  "locked",
  "reactivate",
  "refused",
  "dead",
  "unavailable",
  "invalid",
  "operation",
  "none",
  "decided",
  "closed",
] as const;
export type CustomerEvent = (typeof CUSTOMER_EVENTS)[number];
export type OutcomeEvent = (typeof OUTCOME_EVENTS)[number];
export type AppEvent = CustomerEvent | OutcomeEvent;

/**
 * The requests: `start` (« ACTIVATION SOGESMART », « MOT DE PASSE PERDU »: the bank sends a code by SMS),
 * `scan` (the QR code of a Sogenet session: an activation the bank already started), `keepSms` (the SMS code is
 * kept for the next screen, nothing sent), `activate` (the whole capkit-activation/1 run, then the new personal
 * password), `login`, `changePassword`, `subscribe`; « Pass Sécurité »: `fetchOperation` (the operation waiting
 * for this app, its bank-signed document checked before it is shown), `approve` and `decline` (the device signs
 * the decision over the document's digest; approving asks the password too).
 */
export type Effect =
  | "start"
  | "scan"
  | "keepSms"
  | "activate"
  | "login"
  | "changePassword"
  | "subscribe"
  | "fetchOperation"
  | "approve"
  | "decline";

/** The outcomes each effect can end with: the screens that make the request must say what each does. */
export const EFFECT_OUTCOMES: Readonly<Record<Effect, readonly OutcomeEvent[]>> = {
  start: ["started", "refused", "unavailable", "invalid"],
  scan: ["started", "invalid"],
  keepSms: ["received", "invalid"],
  activate: ["activated", "refused", "dead", "unavailable", "invalid"],
  login: ["loggedIn", "rejected", "locked", "reactivate", "refused", "unavailable", "invalid"],
  changePassword: ["changed", "rejected", "locked", "reactivate", "refused", "unavailable", "invalid"],
  subscribe: ["subscribed", "refused", "unavailable", "invalid"],
  fetchOperation: [
    "operation",
    "none",
    "rejected",
    "locked",
    "reactivate",
    "refused",
    "unavailable",
    "invalid",
  ],
  approve: ["decided", "closed", "rejected", "locked", "reactivate", "refused", "unavailable", "invalid"],
  decline: ["decided", "closed", "rejected", "locked", "reactivate", "refused", "unavailable", "invalid"],
};

export interface Transition {
  /** The next screen; the same one when absent. */
  readonly to?: AppScreen;
  /** The request made on the way (by the element), whose outcome is the next event. */
  readonly effect?: Effect;
  /** The activation's purpose, set on the way to the activation screens. */
  readonly purpose?: ActivationPurpose;
}

export type ScreenTable = {
  readonly [S in AppScreen]: { readonly [E in AppEvent]?: Transition };
};

/** Outcomes every form screen answers alike: it stays, and shows the outcome's message. */
const STAY_ON = { unavailable: {}, invalid: {}, refused: {} } as const;

export const APP_MACHINE: ScreenTable = {
  welcome: {
    yes: { to: "activation", purpose: "first" },
    no: { to: "login" },
  },
  login: {
    submit: { effect: "login" },
    lost: { to: "password-lost", purpose: "password-lost" },
    activate: { to: "activation", purpose: "first" },
    loggedIn: { to: "home" },
    rejected: {},
    locked: {},
    reactivate: { to: "reactivation", purpose: "reactivation" },
    ...STAY_ON,
  },
  activation: {
    submit: { effect: "start" },
    noSogenet: { to: "subscription" },
    scan: { to: "qr", purpose: "qr" },
    home: { to: "welcome" },
    started: { to: "sms" },
    ...STAY_ON,
  },
  qr: {
    submit: { effect: "scan" },
    home: { to: "welcome" },
    started: { to: "sms" },
    ...STAY_ON,
  },
  sms: {
    submit: { effect: "keepSms" },
    home: { to: "welcome" },
    received: { to: "authentication" },
    ...STAY_ON,
  },
  authentication: {
    submit: { effect: "activate" },
    home: { to: "welcome" },
    activated: { to: "login" },
    // A wrong SMS code or current password: the SMS screen again (the code may be typed again).
    refused: { to: "sms" },
    // The code is used up or expired: a new one is needed.
    dead: { to: "activation" },
    unavailable: {},
    invalid: {},
  },
  subscription: {
    accept: { effect: "subscribe" },
    refuse: { to: "welcome" },
    home: { to: "welcome" },
    subscribed: { to: "subscribed" },
    ...STAY_ON,
  },
  subscribed: {
    home: { to: "welcome" },
  },
  "password-lost": {
    submit: { effect: "start" },
    back: { to: "login" },
    home: { to: "welcome" },
    started: { to: "sms" },
    ...STAY_ON,
  },
  home: {
    settings: { to: "settings" },
    logout: { to: "login" },
    operations: { effect: "fetchOperation" },
    operation: { to: "approval" },
    none: {},
    rejected: {},
    locked: { to: "login" },
    reactivate: { to: "reactivation", purpose: "reactivation" },
    ...STAY_ON,
  },
  // « Pass Sécurité »: the operation from its bank-signed document; accepted with the password, or declined.
  approval: {
    submit: { effect: "approve" },
    decline: { effect: "decline" },
    back: { to: "home" },
    decided: { to: "home" },
    closed: { to: "home" },
    rejected: {},
    locked: { to: "login" },
    reactivate: { to: "reactivation", purpose: "reactivation" },
    ...STAY_ON,
  },
  settings: {
    submit: { effect: "changePassword" },
    back: { to: "home" },
    changed: { to: "home" },
    rejected: {},
    locked: { to: "login" },
    reactivate: { to: "reactivation", purpose: "reactivation" },
    ...STAY_ON,
  },
  reactivation: {
    activate: { to: "activation", purpose: "reactivation" },
    home: { to: "welcome" },
  },
};

/** Where the app opens: a new app asks « Première connexion ? »; an activated one, its login. */
export function initialScreen(activated: boolean): AppScreen {
  return activated ? "login" : "welcome";
}

/** The transition an event takes on a screen, or undefined when the screen ignores it. */
export function transition(screen: AppScreen, event: AppEvent): Transition | undefined {
  return APP_MACHINE[screen][event];
}
