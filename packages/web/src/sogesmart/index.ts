import { SogesmartAppElement } from "./app-element.js";
import { SmsInboxElement } from "./sms-inbox-element.js";

export { type ScreenDetail, SogesmartAppElement } from "./app-element.js";
export * from "./machine.js";
export { SmsInboxElement } from "./sms-inbox-element.js";
export { SERVER_BUDGET_MS } from "./transport.js";
export { APP, GUIDE } from "./words.js";

/** Registers `<capkit-sogesmart-app>` and `<capkit-sms-inbox>` (once; importing this module does it). */
export function defineSogesmartElements(registry: CustomElementRegistry = customElements): void {
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
