/**
 * SogeSmart's app with its in-app virtual Digipass, and the phone's SMS inbox, as custom elements: a page
 * imports this module (or the bundle `bundleCapkitWeb({ entry: "sogesmart" })` builds) and writes
 * `<capkit-sogesmart-app>` and `<capkit-sms-inbox>`; the bank implements the app's API (as
 * https://github.com/capkit/capkit/tree/main/examples/bank-login does, on `@capkit/verify`'s Provisioner and approvals).
 *
 * @packageDocumentation
 */

// The app: the element, and what its `capkit-screen` event tells (the screen, why, the message shown).
export { type ScreenDetail, SogesmartAppElement } from "./app-element.js";
export { type ActivationPurpose, APP_SCREENS, type AppScreen } from "./machine.js";
export type { ScreenMessage } from "./phone-view.js";
// The phone's SMS, from the bank's development outbox.
export { SmsInboxElement, type SmsMessage } from "./sms-inbox-element.js";
// The bank's side of the contract: how long the app waits for an answer.
export { SERVER_BUDGET_MS } from "./transport.js";

// (The imports follow the first export: a .d.ts drops a runtime-only import, and the package comment with it.)
import { expectDefinable } from "../door.js";
import { SogesmartAppElement } from "./app-element.js";
import { SmsInboxElement } from "./sms-inbox-element.js";

/**
 * Registers `<capkit-sogesmart-app>` and `<capkit-sms-inbox>` in `registry`, once (a name already defined
 * there is left as it is). Importing `@capkit/web/sogesmart` does it in the page's `customElements`.
 *
 * @param registry - where to define them (the page's `customElements`)
 * @throws `INPUT_INVALID` when `registry` is not a custom element registry
 *
 * @example
 * ```ts
 * import { defineSogesmartElements } from "@capkit/web/sogesmart"; // the import defines them in this page
 * defineSogesmartElements(); // a second call changes nothing
 * await customElements.whenDefined("capkit-sogesmart-app");
 * ```
 */
export function defineSogesmartElements(registry: CustomElementRegistry = customElements): void {
  expectDefinable(registry);
  if (!registry.get("capkit-sogesmart-app")) registry.define("capkit-sogesmart-app", SogesmartAppElement);
  if (!registry.get("capkit-sms-inbox")) registry.define("capkit-sms-inbox", SmsInboxElement);
}

if (typeof customElements !== "undefined") defineSogesmartElements();

declare global {
  interface HTMLElementTagNameMap {
    "capkit-sogesmart-app": SogesmartAppElement;
    "capkit-sms-inbox": SmsInboxElement;
  }
}
