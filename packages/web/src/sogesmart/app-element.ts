import { CapkitError, type CapkitErrorCode, expectString, isCapkitError } from "@capkit/core";
import { SoftDigipass } from "@capkit/token-sim/soft-digipass";
import { sheet } from "../dom.js";
import type { ErrorDetail } from "../door.js";
import { checkForm, type FormValues } from "./checks.js";
import { IndexedDbStore } from "./indexeddb-store.js";
import {
  type ActivationPurpose,
  type AppEvent,
  type AppScreen,
  type Effect,
  initialScreen,
  type OutcomeEvent,
  transition,
} from "./machine.js";
import { drawPhone, PHONE_STYLE, type ScreenMessage } from "./phone-view.js";
import { parseQrActivation } from "./qr-payload.js";
import { AppTransport, type BankAnswer, newRequestKey } from "./transport.js";
import { viewOf } from "./views.js";
import { APP, GUIDE } from "./words.js";

/** The detail of `<capkit-sogesmart-app>`'s `capkit-screen` event: where the app is now. */
export interface ScreenDetail {
  /** The screen shown. */
  readonly screen: AppScreen;
  /** Why the activation screens run (the last purpose set, kept on the other screens). */
  readonly purpose: ActivationPurpose;
  /** The message shown above the form, if any. */
  readonly message: ScreenMessage | undefined;
}

/** What the app remembers beside the Digipass's keys: who it is activated for, and with which version. */
interface Profile {
  readonly identifiant: string;
  readonly credential: string;
  readonly activatedWith: string;
}

/** An activation the bank started: from `start`, or from a Sogenet session's QR code. */
interface Offer {
  readonly activationId: string;
  readonly regId: string;
  readonly serverIdentity: string;
  readonly features: readonly string[];
  readonly identifiant: string | undefined;
  readonly webSession?: string;
}

/** The last request left without an answer: sent again, same body and key, when the customer retries it. */
interface Pending {
  readonly fingerprint: string;
  readonly path: string;
  readonly body: unknown;
  readonly key: string;
  readonly until: number;
}

const PROFILE = "sogesmart-profile";
const DEFAULT_VERSION = "5.0.0";
const VERSION = /^[0-9]{1,4}(\.[0-9]{1,4}){0,3}$/;
/** How long an unanswered request is worth resending as it is (a login's code and challenge age quickly). */
const PENDING_MS: Readonly<Partial<Record<Effect, number>>> = {
  start: 10 * 60_000,
  subscribe: 10 * 60_000,
  login: 60_000,
  changePassword: 60_000,
  approve: 60_000,
  decline: 60_000,
};

/** What SoftDigipass.review draws from a verified document (@capkit/provision's OperationView). */
type OperationView = Awaited<ReturnType<SoftDigipass["review"]>>["view"];

/** The operation « Pass Sécurité » shows: its id, the bank-signed document, and what was checked and drawn. */
interface ShownOperation {
  readonly id: string;
  readonly signed: unknown;
  readonly view: OperationView;
  readonly pro: boolean;
}

/**
 * `<capkit-sogesmart-app>`: SogeSmart's app in a phone-sized frame, every screen of the bank's guide in its
 * words, with the in-app virtual Digipass inside: token-sim's `SoftDigipass`, its keys non-extractable
 * WebCrypto keys kept in IndexedDB (one database per simulated phone). It talks to the bank through JSON POSTs
 * to its API (no cookies, an `Idempotency-Key` per request; no answer within {@link SERVER_BUDGET_MS}, retries
 * included, and it shows « Le serveur Sogesmart est actuellement indisponible… »). Importing
 * `@capkit/web/sogesmart` defines it.
 *
 * Attributes: `api` (the bank's app API, default `/api/sogesmart`: `activation/start`, `activation/step`,
 * `activation/password`, `login/challenge`, `login`, `password`, `subscription`, `operations/pending`,
 * `operations/decide`, as https://github.com/capkit/capkit/tree/main/examples/bank-login implements them), `phone` (which simulated phone: its own keys;
 * default `1`), `app-version` (default `5.0.0`; a new major version on an activated phone asks for a new
 * activation, as the guide says), `label` (the phone's accessible name).
 *
 * Provisioning: none on the page — the customer activates the app on its screens (an SMS code from the bank,
 * or the QR code of a Sogenet session through {@link SogesmartAppElement.scan}); its keys stay in this
 * browser's IndexedDB.
 *
 * Events (bubbling, composed): `capkit-screen` (detail: {@link ScreenDetail}) after every change of screen or
 * message; `capkit-error` (detail: `{ code, message }`) when `app-version` is not a version number. Keyboard:
 * every control is a native button or field; Enter sends.
 *
 * @example
 * ```html
 * <script type="module" src="/capkit-sogesmart.js"></script> <!-- bundleCapkitWeb({ entry: "sogesmart" }) -->
 * <capkit-sogesmart-app phone="a" api="/api/sogesmart" app-version="5.0.0" label="Téléphone : SogeSmart">
 * </capkit-sogesmart-app>
 * <script type="module">
 *   const app = document.querySelector("capkit-sogesmart-app");
 *   app.addEventListener("capkit-screen", (e) => console.log(e.detail.screen, e.detail.message?.text));
 *   await app.ready; // keys opened, first screen drawn: "welcome", or "login" once activated
 *   await app.scan(qrText); // the simulated camera: a Sogenet session's QR code (`@capkit/web/sogesmart/qr`)
 * </script>
 * ```
 */
export class SogesmartAppElement extends HTMLElement {
  /** The attribute whose change reopens the app: `app-version` (a new version installed on the phone). */
  static readonly observedAttributes = ["app-version"];
  readonly #root: ShadowRoot;
  #screen: AppScreen = "welcome";
  #purpose: ActivationPurpose = "first";
  #message: ScreenMessage | undefined;
  #busy = false;
  #ready: Promise<void> | undefined;
  #store: IndexedDbStore | undefined;
  #digipass: SoftDigipass | undefined;
  #profile: Profile | undefined;
  #offer: Offer | undefined;
  #sms = "";
  #name: string | undefined;
  #reason: string | undefined;
  #pending: Pending | undefined;
  /** The token of the activation under way, once its protocol run is done (its password step may remain). */
  #activated: { serial: string; instance: number } | undefined;
  #values: FormValues = {};
  #operation: ShownOperation | undefined;
  #transport: AppTransport | undefined;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.adoptedStyleSheets = [sheet(PHONE_STYLE)];
  }

  /** Opens the app's keys and draws its first screen when put on the page (the custom elements' lifecycle). */
  connectedCallback(): void {
    this.#ready ??= this.#open();
  }

  /** `app-version` changed: the app reopens on the same keys. */
  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    // A new version installed on the phone: the app reopens on the same keys, and asks for a new activation
    // when its token was activated by an older major version.
    if (name === "app-version" && old !== value && this.#ready) this.#ready = this.#open();
  }

  /** Resolves once the app has opened its keys and drawn its first screen (at once before it is on a page). */
  get ready(): Promise<void> {
    return this.#ready ?? Promise.resolve();
  }

  /** The screen shown. */
  get screen(): AppScreen {
    return this.#screen;
  }

  /** The app's version: its `app-version` attribute, or `5.0.0`. */
  get appVersion(): string {
    return this.getAttribute("app-version") ?? DEFAULT_VERSION;
  }

  /**
   * The simulated camera: the text of a scanned QR code, as if the phone had read it on the « Activer avec le
   * QR code de Sogenet » screen (opened if it is not shown). A text that is not SogeSmart's QR code is said so
   * on the screen.
   *
   * @param text - the QR code's text (`qrActivationText()` of `@capkit/web/sogesmart/qr`)
   * @throws `INPUT_INVALID` (a rejection) when `text` is not a string, before the app changes screen
   */
  async scan(text: string): Promise<void> {
    expectString(text, "the QR code's text");
    await this.ready;
    if (!this.#digipass)
      throw new CapkitError("INPUT_INVALID", `the app is not open: app-version must be a version number`);
    if (this.#screen !== "qr") this.#go("qr", { purpose: "qr" });
    this.#values = { qr: text };
    await this.#event("submit");
  }

  async #open(): Promise<void> {
    if (!VERSION.test(this.appVersion)) {
      const detail: ErrorDetail = {
        code: "INPUT_INVALID",
        message: `app-version must be a version number (${DEFAULT_VERSION})`,
      };
      // No app runs on a version it cannot read: the phone goes blank, and the page is told why.
      await this.#store?.close();
      this.#store = this.#digipass = undefined;
      this.#root.replaceChildren();
      this.dispatchEvent(new CustomEvent("capkit-error", { detail, bubbles: true, composed: true }));
      return;
    }
    const phone = this.getAttribute("phone") ?? "1";
    this.#transport = new AppTransport({ base: this.getAttribute("api") ?? "/api/sogesmart" });
    await this.#store?.close();
    this.#store = new IndexedDbStore(`capkit-sogesmart:${phone}`);
    this.#digipass = await SoftDigipass.open({ store: this.#store, appVersion: this.appVersion });
    const active = (await this.#digipass.status()) === "active";
    this.#profile = active ? ((await this.#store.get(PROFILE)) as Profile | undefined) : undefined;
    this.#values = this.#profile ? { login: this.#profile.identifiant } : {};
    if (this.#profile && major(this.#profile.activatedWith) < major(this.appVersion))
      this.#go("activation", { purpose: "new-version" });
    else this.#go(initialScreen(this.#profile !== undefined));
  }

  #go(screen: AppScreen, o: { purpose?: ActivationPurpose; message?: ScreenMessage } = {}): void {
    this.#screen = screen;
    if (o.purpose) this.#purpose = o.purpose;
    this.#message = o.message;
    this.#draw(true);
    this.dispatchEvent(
      new CustomEvent<ScreenDetail>("capkit-screen", {
        detail: { screen, purpose: this.#purpose, message: this.#message },
        bubbles: true,
        composed: true,
      }),
    );
  }

  /** One event through the table: the transition, then its effect and the effect's outcome. */
  async #event(event: AppEvent, outcome?: { message?: ScreenMessage }): Promise<void> {
    const t = transition(this.#screen, event);
    if (!t) return;
    if (t.effect) {
      this.#busy = true;
      this.#message = undefined;
      this.#draw(false);
      let result: Outcome;
      try {
        result = await this.#run(t.effect);
      } finally {
        this.#busy = false;
      }
      await this.#event(result.event, result);
      return;
    }
    const message = outcome?.message ?? this.#customerMessage(event);
    const keepValues = t.to === undefined || t.to === this.#screen;
    if (!keepValues) this.#values = this.#valuesFor(t.to!);
    this.#go(t.to ?? this.#screen, {
      ...(t.purpose ? { purpose: t.purpose } : {}),
      ...(message ? { message } : {}),
    });
  }

  #customerMessage(event: AppEvent): ScreenMessage | undefined {
    if (event === "refuse") return { kind: "notice", text: APP.conditionsRefused };
    if (event === "logout") return { kind: "notice", text: APP.loggedOut };
    return undefined;
  }

  /** What a screen's fields start with: the login prefilled with the identifiant the app is activated for. */
  #valuesFor(screen: AppScreen): FormValues {
    if (screen === "login" && this.#profile) return { login: this.#profile.identifiant };
    return {};
  }

  async #run(effect: Effect): Promise<Outcome> {
    // A decline is the device's signature alone: nothing typed to check.
    const checked =
      effect === "decline"
        ? ({ ok: true, values: {} } as const)
        : checkForm(this.#screen, this.#values, { asksCurrentPassword: this.#asksCurrent() });
    if (!checked.ok) return invalid(checked.message);
    const v = checked.values;
    try {
      switch (effect) {
        case "start":
          return await this.#start(v["identifiant"]!);
        case "scan":
          return this.#scanned(v["qr"]!);
        case "keepSms":
          this.#sms = v["sms"]!;
          return { event: "received" };
        case "activate":
          return await this.#activate(v);
        case "login":
          return await this.#login(v);
        case "changePassword":
          return await this.#changePassword(v);
        case "subscribe":
          return await this.#subscribe(v);
        case "fetchOperation":
          return await this.#fetchOperation();
        case "approve":
          return await this.#decide("accept", v);
        case "decline":
          return await this.#decide("decline", v);
      }
    } catch (e) {
      if (isCapkitError(e) && e.code === "TIMEOUT")
        return { event: "unavailable", message: error(GUIDE.unavailable) };
      return this.#failure(e);
    }
  }

  /** Anything that is not an answer of the bank's: the activation refused by the protocol, or a bad answer. */
  #failure(e: unknown): Outcome {
    if (isCapkitError(e)) {
      if (e.code === "ACTIVATION_REFUSED") {
        const retry = (e.details as { retry?: boolean } | undefined)?.retry !== false;
        return retry
          ? { event: "refused", message: error(APP.codesWrong) }
          : { event: "dead", message: error(APP.codeDead) };
      }
      if (e.code.startsWith("ACTIVATION_")) return { event: "dead", message: error(APP.codeDead) };
    }
    return { event: "refused", message: error(APP.refused) };
  }

  /** A POST, resending the pending request as it was when the customer retries the same thing. */
  async #post(
    effect: Effect,
    fingerprint: string,
    path: string,
    make: () => Promise<unknown>,
  ): Promise<BankAnswer> {
    const now = Date.now();
    let p = this.#pending;
    if (!p || p.fingerprint !== `${effect}:${fingerprint}` || p.until < now) {
      p = {
        fingerprint: `${effect}:${fingerprint}`,
        path,
        body: await make(),
        key: newRequestKey(),
        until: now + (PENDING_MS[effect] ?? 0),
      };
      this.#pending = p;
    }
    const answer = await this.#transport!.post(p.path, p.body, p.key);
    this.#pending = undefined;
    return answer;
  }

  async #start(identifiant: string): Promise<Outcome> {
    const purpose = this.#purpose === "qr" ? "first" : this.#purpose;
    const a = await this.#post("start", `${identifiant}|${purpose}`, "/activation/start", async () => ({
      identifiant,
      appVersion: this.appVersion,
      purpose,
    }));
    if (a.status !== 200) return this.#refusal(a);
    const b = a.body as unknown as Omit<Offer, "identifiant">;
    this.#offer = { ...b, identifiant };
    this.#activated = undefined;
    return { event: "started" };
  }

  #scanned(text: string): Outcome {
    try {
      const q = parseQrActivation(text);
      this.#offer = {
        activationId: q.activationId,
        regId: q.regId,
        serverIdentity: q.serverIdentity,
        features: ["web-session", "sms"],
        identifiant: undefined,
        webSession: q.webSession,
      };
      this.#activated = undefined;
      return { event: "started" };
    } catch {
      return invalid(APP.qrInvalid);
    }
  }

  #asksCurrent(): boolean {
    return this.#offer?.features.includes("password") ?? true;
  }

  async #activate(v: FormValues): Promise<Outcome> {
    const offer = this.#offer;
    if (!offer) return { event: "dead", message: error(APP.codeDead) };
    const digipass = this.#digipass!;
    // Each protocol message under one key, kept across SoftDigipass's own resends of the same text.
    const keys = new Map<string, string>();
    // Activated already, only the password step unanswered: that step again, not a new run of a finished code.
    const token =
      this.#activated ??
      (await digipass.activate({
        transport: async (request) => {
          const key = keys.get(request) ?? newRequestKey();
          keys.set(request, key);
          const a = await this.#transport!.post("/activation/step", request, key);
          if (a.status !== 200 || typeof a.body["reply"] !== "string") throw bankError(a);
          return a.body["reply"];
        },
        activationId: offer.activationId,
        regId: offer.regId,
        serverIdentity: offer.serverIdentity,
        codes: { sms: this.#sms, ...(offer.webSession ? { "web-session": offer.webSession } : {}) },
        ...(v["current"] !== undefined ? { bankPassword: v["current"] } : {}),
        // No password on the phone: the bank checks it, in its lockout (SoftDigipass's appPassword, left out).
      }));
    this.#activated = token;
    const credential = `${token.serial}.${token.instance}`;
    // The new personal password, set at the bank with the device's first proof of possession.
    const a = await this.#transport!.post(
      "/activation/password",
      await this.#proofBody(credential, { password: v["next"]! }),
      newRequestKey(),
    );
    if (a.status !== 200) return this.#refusal(a);
    const identifiant = String(a.body["identifiant"] ?? offer.identifiant ?? "");
    this.#profile = { identifiant, credential, activatedWith: this.appVersion };
    await this.#store!.put(PROFILE, this.#profile);
    this.#offer = undefined;
    this.#activated = undefined;
    this.#sms = "";
    return { event: "activated", message: notice(APP.activated) };
  }

  async #login(v: FormValues): Promise<Outcome> {
    const profile = this.#profile;
    if (!profile) return invalid(APP.notActivated);
    if (v["login"] !== profile.identifiant) return invalid(APP.otherUser);
    const a = await this.#post("login", JSON.stringify(v), "/login", async () =>
      this.#proofBody(profile.credential, { password: v["password"]! }),
    );
    if (a.status === 200 && a.body["result"] === "accepted") {
      this.#name = typeof a.body["name"] === "string" ? a.body["name"] : undefined;
      return { event: "loggedIn" };
    }
    return this.#refusal(a);
  }

  async #changePassword(v: FormValues): Promise<Outcome> {
    const profile = this.#profile;
    if (!profile) return invalid(APP.notActivated);
    const a = await this.#post("changePassword", JSON.stringify(v), "/password", async () =>
      this.#proofBody(profile.credential, { password: v["current"]!, newPassword: v["next"]! }),
    );
    if (a.status === 200 && a.body["result"] === "changed")
      return { event: "changed", message: notice(APP.changed) };
    return this.#refusal(a);
  }

  /** The body of a signed request (its challenge fetched first; part of the pending request once made). */
  async #proofBody(credential: string, extra: Record<string, string>): Promise<Record<string, string>> {
    const c = await this.#transport!.post("/login/challenge", { credential }, newRequestKey());
    if (c.status !== 200 || typeof c.body["challenge"] !== "string") throw bankError(c);
    const challenge = c.body["challenge"];
    const proof = await this.#digipass!.loginProof(challenge);
    return { credential, challenge, otp: proof.otp, signature: proof.signature, ...extra };
  }

  /**
   * « Pass Sécurité »: the operation waiting for this app. Its document is shown only once its bank signature
   * verified under the keys received at activation (SoftDigipass.review): a document changed on the way, or
   * signed by anyone else, or whose payee's name is not display-safe text (bidi controls, invisible
   * characters…: what the screen would show is not what the bytes say), is refused and never drawn.
   */
  async #fetchOperation(): Promise<Outcome> {
    const profile = this.#profile;
    if (!profile) return invalid(APP.notActivated);
    const a = await this.#transport!.post(
      "/operations/pending",
      await this.#proofBody(profile.credential, {}),
      newRequestKey(),
    );
    if (a.status !== 200) return this.#refusal(a);
    if (a.body["result"] === "none") return { event: "none", message: notice(APP.noOperation) };
    if (a.body["result"] !== "operation") return this.#refusal(a);
    try {
      const { operation, view } = await this.#digipass!.review(a.body["signed"]);
      this.#operation = {
        id: String(a.body["id"]),
        signed: a.body["signed"],
        view,
        pro: operation.type === "link-activation",
      };
    } catch (e) {
      // A payee's name a screen would not show as its bytes say (@capkit/provision's display-safe text): not
      // drawn either, and said so — it may well carry the bank's signature.
      const field = isCapkitError(e, "OPERATION_INVALID") ? e.details?.["field"] : undefined;
      const unsafe = typeof field === "string" && field.endsWith(".name");
      return { event: "refused", message: error(unsafe ? APP.unsafeName : APP.forged) };
    }
    return { event: "operation" };
  }

  /** The customer's decision: the device signs it over the digest of the document shown; accepting asks the password. */
  async #decide(decision: "accept" | "decline", v: FormValues): Promise<Outcome> {
    const profile = this.#profile;
    const shown = this.#operation;
    if (!profile || !shown) return { event: "closed", message: error(APP.closed) };
    const a = await this.#post(
      decision === "accept" ? "approve" : "decline",
      shown.id,
      "/operations/decide",
      async () => ({
        ...(await this.#proofBody(profile.credential, v["password"] ? { password: v["password"] } : {})),
        id: shown.id,
        device: await this.#digipass!.decide(shown.signed, decision),
      }),
    );
    const result = a.status === 200 ? a.body["result"] : undefined;
    if (result === "approved" || result === "declined") {
      this.#operation = undefined;
      return { event: "decided", message: notice(result === "approved" ? APP.approved : APP.declined) };
    }
    if (result === "closed") {
      this.#operation = undefined;
      return {
        event: "closed",
        message: error(a.body["reason"] === "changed" ? APP.operationChanged : APP.closed),
      };
    }
    return this.#refusal(a);
  }

  async #subscribe(v: FormValues): Promise<Outcome> {
    const a = await this.#post("subscribe", JSON.stringify(v), "/subscription", async () => ({
      ...v,
      conditions: "accepted",
    }));
    return a.status === 200 ? { event: "subscribed" } : this.#refusal(a);
  }

  /** The bank's refusals, in the app's words. */
  #refusal(a: BankAnswer): Outcome {
    const b = a.body;
    switch (b["result"]) {
      case "rejected":
        return {
          event: "rejected",
          message: error(b["lastTry"] === true ? `${APP.wrong} ${APP.lastTry}` : APP.wrong),
        };
      case "locked":
        return { event: "locked", message: error(GUIDE.blocked(Number(b["maxFailures"] ?? 5))) };
      case "reactivation-required":
        this.#reason = String(b["reason"] ?? "other");
        return { event: "reactivate" };
    }
    switch (b["error"]) {
      case "ACTIVATION_RATE_LIMITED":
        return { event: "refused", message: error(APP.rateLimited(Number(b["retryAfter"] ?? 60))) };
      case "APP_VERSION_UNSUPPORTED":
        return { event: "refused", message: error(APP.versionUnsupported) };
      case "THROTTLED":
        return { event: "refused", message: error(APP.throttled(Number(b["retryAfter"] ?? 60))) };
      case "IDEMPOTENCY_KEY_IN_PROGRESS":
        return { event: "refused", message: error(APP.inProgress(Number(b["retryAfter"] ?? 5))) };
      case "INPUT_INVALID":
        return { event: "invalid", message: error(String(b["message"] ?? APP.refused)) };
    }
    return { event: "refused", message: error(APP.refused) };
  }

  /** Draws the current screen; `fresh`: a new screen, whose first field (or heading) takes the focus. */
  #draw(fresh: boolean): void {
    const view = viewOf(this.#screen, {
      purpose: this.#purpose,
      asksCurrentPassword: this.#asksCurrent(),
      ...(this.#name !== undefined ? { name: this.#name } : {}),
      ...(this.#reason !== undefined ? { reactivationReason: this.#reason } : {}),
      ...(this.#operation ? { operation: this.#operation.view, pro: this.#operation.pro } : {}),
    });
    const drawn = drawPhone({
      view,
      screen: this.#screen,
      label: this.getAttribute("label") ?? "Téléphone simulé : SogeSmart",
      message: this.#message,
      busy: this.#busy,
      values: this.#values,
      onEvent: (event, values) => {
        if (this.#busy) return;
        this.#values = values;
        void this.#event(event);
      },
    });
    this.#root.replaceChildren(drawn.phone);
    // Keyboard and screen-reader users start on the new screen's first field or heading (the message, an alert
    // or a status, is announced on its own).
    if (fresh) drawn.focus.focus();
  }
}

interface Outcome {
  readonly event: OutcomeEvent;
  readonly message?: ScreenMessage;
}

function error(text: string): ScreenMessage {
  return { kind: "error", text };
}
function notice(text: string): ScreenMessage {
  return { kind: "notice", text };
}
function invalid(text: string): Outcome {
  return { event: "invalid", message: error(text) };
}

/** A refusal where the app expected an answer: a typed error (SoftDigipass does not resend it). */
function bankError(a: BankAnswer): CapkitError {
  const given = typeof a.body["error"] === "string" ? a.body["error"] : "INPUT_INVALID";
  // A code CapkitError would refuse (not in capitals: a proxy's, not the bank's) is reported, not thrown.
  const code = /^[A-Z][A-Z0-9_]*$/.test(given) ? given : "INPUT_INVALID";
  return new CapkitError(code as CapkitErrorCode, `the bank answered ${a.status} ${given}`);
}

function major(version: string): number {
  return Number(version.split(".")[0]) || 0;
}
