import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * CSRF protection by synchroniser tokens. A logged-in session has its own random token (sessions.ts). Before
 * login, a visitor gets a signed cookie instead of a server session — `nonce.issuedAt.mac`, HMAC-SHA-256 under
 * the bank's web key — and the forms carry HMAC(key, nonce): nothing is stored, so a flood of anonymous
 * visitors costs no memory and pushes out no one (OWASP's "signed double-submit cookie"). The cookie lasts
 * ANONYMOUS_TTL_MS; a form posted after that is refused and shown again with a fresh token.
 */
export const ANONYMOUS_TTL_MS = 2 * 3600_000;

export interface Anonymous {
  /** The cookie's value. */
  readonly cookie: string;
  /** The token its forms carry (also the per-tab throttling key). */
  readonly token: string;
}

export class AnonymousCsrf {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(webKey: Buffer, now: () => number) {
    this.#key = createHmac("sha256", webKey).update("bank-login anonymous csrf").digest();
    this.#now = now;
  }

  issue(): Anonymous {
    const nonce = randomBytes(24).toString("base64url");
    const at = String(this.#now());
    return {
      cookie: `${nonce}.${at}.${this.#mac(`cookie|${nonce}|${at}`)}`,
      token: this.#mac(`form|${nonce}`),
    };
  }

  /** The visitor of this cookie, if it is ours and not expired. */
  read(cookie: string | undefined): Anonymous | undefined {
    const [nonce, at, mac, extra] = (cookie ?? "").split(".");
    if (!nonce || !at || !mac || extra !== undefined || !/^\d{1,15}$/.test(at)) return undefined;
    if (!sameToken(mac, this.#mac(`cookie|${nonce}|${at}`))) return undefined;
    const age = this.#now() - Number(at);
    if (age < 0 || age > ANONYMOUS_TTL_MS) return undefined;
    return { cookie: cookie!, token: this.#mac(`form|${nonce}`) };
  }

  #mac(text: string): string {
    return createHmac("sha256", this.#key).update(text).digest("base64url");
  }
}

/** Constant-time equality of two tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
