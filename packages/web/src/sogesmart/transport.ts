import { CapkitError } from "@capkit/core";

/*
 * How the app talks to its bank: JSON POSTs to `/api/sogesmart/*`, no cookies (the app authenticates with its
 * device key, not with a session), an `Idempotency-Key` per request, and the guide's budget: when no answer
 * has come within 30 seconds — retries included — the request is given up (TIMEOUT) and the app shows « Le
 * serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement ».
 *
 * The budget is a `setTimeout` that aborts the fetch through an AbortController, not `AbortSignal.timeout()`:
 * Playwright's clock fakes `setTimeout` and `Date` but not `AbortSignal.timeout`, and the tests drive the 30
 * seconds with the page's clock. Within the budget, a request that got no answer (the network failed, the bank
 * answered 502/503/504) is sent again, same body, same key, after 1, 2, then 4 seconds: the bank answers a key
 * it has seen with the answer it gave, so a retry never does anything twice.
 */

/**
 * How long the app waits for the bank's answer to a request, retries included (the guide's 30 seconds), before
 * it shows « Le serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement »: a bank's
 * API answers within it, or the customer sees its server as down.
 */
export const SERVER_BUDGET_MS = 30_000;
const RETRY_DELAYS_MS = [1000, 2000, 4000] as const;
const RETRY_STATUS = new Set([502, 503, 504]);

export interface BankAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface AppTransportOptions {
  /** The API's base URL (`/api/sogesmart`). */
  readonly base: string;
  readonly budgetMs?: number;
}

/** 128 bits from the CSPRNG, as 32 lower-case hex digits (the bank's and the protocol's id format). */
export function newRequestKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export class AppTransport {
  readonly #base: string;
  readonly #budgetMs: number;

  constructor(o: AppTransportOptions) {
    this.#base = o.base.replace(/\/$/, "");
    this.#budgetMs = o.budgetMs ?? SERVER_BUDGET_MS;
  }

  /**
   * POSTs `body` (an object, or a text already JSON) under `key`; resolves with the bank's answer (any status
   * but 502/503/504), or rejects with TIMEOUT when none came within the budget.
   */
  async post(path: string, body: unknown, key: string): Promise<BankAnswer> {
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), this.#budgetMs);
    const text = typeof body === "string" ? body : JSON.stringify(body);
    try {
      for (let attempt = 0; ; attempt++) {
        if (budget.signal.aborted) break;
        try {
          const r = await fetch(`${this.#base}${path}`, {
            method: "POST",
            body: text,
            headers: { "content-type": "application/json", "idempotency-key": key },
            credentials: "omit",
            cache: "no-store",
            signal: budget.signal,
          });
          if (!RETRY_STATUS.has(r.status)) {
            const answer = await r.json().catch(() => ({}));
            return { status: r.status, body: (answer ?? {}) as Record<string, unknown> };
          }
        } catch {
          // No answer (network, abort): sent again below while the budget lasts.
        }
        if (budget.signal.aborted) break;
        await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!, budget.signal);
      }
      throw new CapkitError("TIMEOUT", "the bank's server did not answer within the app's budget");
    } finally {
      clearTimeout(timer);
    }
  }
}
