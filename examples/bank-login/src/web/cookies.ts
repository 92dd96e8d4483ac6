import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/**
 * The bank's three cookies, all HttpOnly, SameSite=Strict, Path=/ — and behind HTTPS (`secure`) Secure with the
 * `__Host-` prefix, which a sibling subdomain cannot set:
 * - `session`: a logged-in customer's session id (sessions.ts), for the browser's session only;
 * - `anonymous`: a visitor's signed CSRF nonce before login (web/csrf.ts), no server state;
 * - `demo`: demo only, which browser's demo customers and devices these are (demo.ts), kept 30 days.
 */
export type CookieName = "session" | "anonymous" | "demo";

const NAMES: Readonly<Record<CookieName, string>> = {
  session: "bank_sid",
  anonymous: "bank_anon",
  demo: "bank_demo",
};
const MAX_AGE: Readonly<Partial<Record<CookieName, number>>> = { demo: 30 * 24 * 3600 };

export class Cookies {
  readonly #secure: boolean;

  constructor(secure: boolean) {
    this.#secure = secure;
  }

  get(c: Context, name: CookieName): string | undefined {
    return getCookie(c, NAMES[name], this.#secure ? "host" : undefined);
  }

  set(c: Context, name: CookieName, value: string): void {
    const maxAge = MAX_AGE[name];
    setCookie(c, NAMES[name], value, {
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(this.#secure ? { secure: true, prefix: "host" as const } : {}),
    });
  }

  clear(c: Context, name: CookieName): void {
    deleteCookie(c, NAMES[name], {
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
      ...(this.#secure ? { secure: true, prefix: "host" as const } : {}),
    });
  }
}
