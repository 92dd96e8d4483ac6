import type { BankContext } from "./context.js";

/**
 * A request the bank refuses, with the status and the sentence the visitor reads (app.ts renders it as a page):
 * 400 malformed, 403 forbidden, 404, 413 too large, 415 not a form, 421 not our host, 429 throttled.
 */
export class Refusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 415 | 421 | 429,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A guard's own answer instead of the page asked for (a login form, a redirect), rendered by app.ts. */
export class Detour extends Error {
  constructor(readonly respond: (c: BankContext) => Response) {
    super("detour");
  }
}
