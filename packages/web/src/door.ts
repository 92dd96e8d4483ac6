import { argumentError, CapkitError, type CapkitErrorCode, isCapkitError } from "@capkit/core";

/*
 * The elements' door: what a page hands them (a registry, a provisioning document, an attribute's URL) is
 * checked before the element changes anything, and what goes wrong where no caller can catch it (an attribute's
 * fetch) is told to the page as a `capkit-error` event carrying a typed error's code and message.
 */

/**
 * A string in a given format. A string of the wrong format is told without a "got" (what it holds may be a
 * secret, and "a string" would not say what is wrong); any other type, with its type.
 */
export function expectFormat(value: unknown, what: string, format: RegExp, expected: string): string {
  if (typeof value === "string" && format.test(value)) return value;
  if (typeof value !== "string") throw argumentError("INPUT_INVALID", what, expected, value);
  throw new CapkitError("INPUT_INVALID", `${what} must be ${expected}`, {
    details: { argument: what, expected },
  });
}

/** An object with these methods (a registry, a storage): anything else refused, named, with what it was. */
export function expectMethods<T>(
  value: unknown,
  what: string,
  expected: string,
  methods: readonly string[],
): T {
  const v = value as Record<string, unknown> | null | undefined;
  if (typeof v !== "object" || v === null || methods.some((m) => typeof v[m] !== "function"))
    throw argumentError("INPUT_INVALID", what, expected, value);
  return value as T;
}

/** A custom element registry: what `define…Elements(registry)` writes into. */
export function expectDefinable(registry: unknown): asserts registry is CustomElementRegistry {
  expectMethods(registry, "the registry", "a CustomElementRegistry (customElements)", ["get", "define"]);
}

/** The detail of a `capkit-error` event: a typed error's stable code and its message. */
export interface ErrorDetail {
  /** The error's stable code (`INPUT_INVALID` for a document that is not what the attribute must point to). */
  readonly code: CapkitErrorCode;
  /** What went wrong, for people. */
  readonly message: string;
}

/**
 * Reads the JSON an attribute points to (`card-src`, `token-src`) and hands it to `use`; a failure — the URL
 * not answering, not JSON, refused at `use`'s door — becomes a `capkit-error` event on `element`.
 */
export function loadAttribute(
  element: HTMLElement,
  attribute: string,
  url: string,
  use: (document: unknown) => void,
): void {
  fetch(url, { credentials: "same-origin" })
    .then(async (r) => {
      if (!r.ok) throw new CapkitError("INPUT_INVALID", `${attribute}: ${url} answered HTTP ${r.status}`);
      const document: unknown = await r.json().catch(() => {
        throw new CapkitError("INPUT_INVALID", `${attribute}: ${url} is not JSON`);
      });
      use(document);
    })
    .catch((e: unknown) => {
      const detail: ErrorDetail = isCapkitError(e)
        ? { code: e.code, message: e.message }
        : { code: "INPUT_INVALID", message: `${attribute}: ${url} could not be read (${String(e)})` };
      element.dispatchEvent(new CustomEvent("capkit-error", { detail, bubbles: true, composed: true }));
    });
}
