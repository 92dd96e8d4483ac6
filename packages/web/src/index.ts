/**
 * The simulated Sésame reader and SGpass token as custom elements, on token-sim's state machines: a page
 * imports this module (or the bundle `bundleCapkitWeb()` from `@capkit/web/bundle` builds) and writes
 * `<capkit-sesame-reader>` or `<capkit-sgpass-token>`. The SogeSmart app is `@capkit/web/sogesmart`.
 *
 * @packageDocumentation
 */

// The card's state in the browser: what makes a reload never repeat an ATC.
export { type KeyValueStorage, restoreCardState, saveCardState } from "./card-storage.js";
// What a device tells the page when the document its attribute points to cannot be used.
export type { ErrorDetail } from "./door.js";
// The devices: the Sésame reader (its card beside it) and the SGpass token.
export { SesameReaderElement } from "./sesame-reader-element.js";
export { SgpassTokenElement, type TokenProvisioning } from "./sgpass-token-element.js";

// (The imports follow the first export: a .d.ts drops a runtime-only import, and the package comment with it.)
import { expectDefinable } from "./door.js";
import { SesameReaderElement } from "./sesame-reader-element.js";
import { SgpassTokenElement } from "./sgpass-token-element.js";

/**
 * Registers `<capkit-sesame-reader>` and `<capkit-sgpass-token>` in `registry`, once (a name already defined
 * there is left as it is). Importing `@capkit/web` does it in the page's `customElements`.
 *
 * @param registry - where to define them (the page's `customElements`)
 * @throws `INPUT_INVALID` when `registry` is not a custom element registry
 *
 * @example
 * ```ts
 * import { defineCapkitElements } from "@capkit/web"; // the import defines them in this page
 * defineCapkitElements(); // a second call changes nothing
 * await customElements.whenDefined("capkit-sesame-reader");
 * ```
 */
export function defineCapkitElements(registry: CustomElementRegistry = customElements): void {
  expectDefinable(registry);
  if (!registry.get("capkit-sesame-reader")) registry.define("capkit-sesame-reader", SesameReaderElement);
  if (!registry.get("capkit-sgpass-token")) registry.define("capkit-sgpass-token", SgpassTokenElement);
}

if (typeof customElements !== "undefined") defineCapkitElements();

declare global {
  interface HTMLElementTagNameMap {
    "capkit-sesame-reader": SesameReaderElement;
    "capkit-sgpass-token": SgpassTokenElement;
  }
}
