import { randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Server-side sessions in memory, named by a random 256-bit id in an HttpOnly, SameSite=Strict cookie. Each
 * session has its own CSRF token, checked on every POST (the synchroniser-token pattern); a login or logout
 * replaces the session, so an id known before login is worthless after it (no session fixation).
 */
export interface PendingTransfer {
  readonly beneficiary: string;
  readonly cents: number;
  readonly challengeId: string;
  readonly challenge: string;
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly user?: string;
  /** SOGENET first login: the password must be changed before anything else. */
  readonly mustChange?: boolean;
  transfer?: PendingTransfer | undefined;
  lastSeen: number;
}

const IDLE_MS = 15 * 60_000;
const MAX_SESSIONS = 10_000;
export const SESSION_COOKIE = "bank_sid";

export class Sessions {
  readonly #byId = new Map<string, Session>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    if (this.#now() - s.lastSeen > IDLE_MS) {
      this.#byId.delete(id);
      return undefined;
    }
    s.lastSeen = this.#now();
    return s;
  }

  create(user?: { user: string; mustChange: boolean }): Session {
    // Oldest first in a Map: a flood of anonymous sessions evicts itself, not the memory.
    while (this.#byId.size >= MAX_SESSIONS) this.#byId.delete(this.#byId.keys().next().value!);
    const s: Session = {
      id: randomBytes(32).toString("base64url"),
      csrf: randomBytes(32).toString("base64url"),
      ...(user ? { user: user.user, mustChange: user.mustChange } : {}),
      lastSeen: this.#now(),
    };
    this.#byId.set(s.id, s);
    return s;
  }

  destroy(id: string): void {
    this.#byId.delete(id);
  }
}

export function csrfMatches(session: Session, token: string | null): boolean {
  if (!token) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sessionCookie(s: Session, secure: boolean): string {
  return `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}
