import { SesameReaderElement } from "./sesame-reader-element.js";
import { SgpassTokenElement } from "./sgpass-token-element.js";

export * from "./card-storage.js";
export { SesameReaderElement } from "./sesame-reader-element.js";
export { SgpassTokenElement, type TokenProvisioning } from "./sgpass-token-element.js";

/** Registers `<capkit-sesame-reader>` and `<capkit-sgpass-token>` (once; importing this module does it). */
export function defineCapkitElements(registry: CustomElementRegistry = customElements): void {
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
