import { type KeyObject, randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { errors, jwtVerify, SignJWT } from "jose";

/**
 * The passerelle's tickets: how a customer goes from one space to the other (Progéliance Net ⇄ Particuliers)
 * without typing their codes again. A ticket is a JWT signed by the bank (EdDSA, Ed25519, `jose`) carrying
 * `iss` (the space it leaves), `aud` (the space it is for), `sub` (whom it logs in there), `grant` and `epoch`
 * (the passerelle it goes through, as activated), `jti` and `exp` (60 seconds). It travels in the body of a
 * POST, never in a URL (no history, no Referer, no log line), and is good once: its `jti` is written on first
 * use in the same statement that checks it was not (one INSERT, so two redemptions racing: one wins).
 */
export const TICKET_TTL_S = 60;

export interface TicketClaims {
  /** The space's origin it leaves and the one it is for (`http://pro.localhost:PORT`). */
  readonly iss: string;
  readonly aud: string;
  /** The verifier's user it opens a session for there (`sogenet:12345678`, `progeliance:87654321`). */
  readonly sub: string;
  readonly grant: string;
  readonly epoch: number;
}

/** Why a ticket is refused: what the arrival page says, and what the tests check. */
export type TicketRefusal = "invalid" | "expired" | "audience" | "replayed";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS passerelle_tickets (
  jti TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);`;

export class Tickets {
  readonly #db: Database.Database;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #now: () => number;

  constructor(
    db: Database.Database,
    keys: { privateKey: KeyObject; publicKey: KeyObject },
    now: () => number,
  ) {
    this.#db = db;
    this.#privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    this.#now = now;
    db.exec(SCHEMA);
  }

  /** A fresh ticket: signed now, good for 60 seconds, once. */
  issue(c: TicketClaims): Promise<string> {
    const now = Math.floor(this.#now() / 1000);
    return new SignJWT({ grant: c.grant, epoch: c.epoch })
      .setProtectedHeader({ alg: "EdDSA", typ: "passerelle+jwt" })
      .setIssuer(c.iss)
      .setAudience(c.aud)
      .setSubject(c.sub)
      .setJti(randomBytes(16).toString("hex"))
      .setIssuedAt(now)
      .setExpirationTime(now + TICKET_TTL_S)
      .sign(this.#privateKey);
  }

  /**
   * The ticket's claims if it is the bank's, from `from`, for `audience`, not expired and never used; its use
   * is recorded here. Refused otherwise, saying why (nothing is recorded for a refused one).
   */
  async redeem(
    ticket: string,
    o: { audience: string; from: string },
  ): Promise<{ ok: true; claims: TicketClaims } | { ok: false; why: TicketRefusal }> {
    if (ticket.length > 2048) return { ok: false, why: "invalid" };
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(ticket, this.#publicKey, {
        algorithms: ["EdDSA"],
        typ: "passerelle+jwt",
        audience: o.audience,
        currentDate: new Date(this.#now()),
        requiredClaims: ["jti", "exp", "sub", "iat", "iss", "aud"],
        maxTokenAge: TICKET_TTL_S,
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { ok: false, why: "expired" };
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === "aud")
        return { ok: false, why: "audience" };
      return { ok: false, why: "invalid" };
    }
    const { jti, exp, sub, grant, epoch, iss } = payload;
    // Signed by the bank and for this space: it must also come from the other one.
    if (iss !== o.from || typeof grant !== "string" || typeof epoch !== "number" || typeof jti !== "string")
      return { ok: false, why: "invalid" };
    const now = this.#now();
    const first = this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM passerelle_tickets WHERE expires_at <= ?").run(now);
      return (
        this.#db
          .prepare(
            "INSERT INTO passerelle_tickets (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
          )
          .run(jti, (exp as number) * 1000).changes === 1
      );
    })();
    if (!first) return { ok: false, why: "replayed" };
    return { ok: true, claims: { iss: o.from, aud: o.audience, sub: sub as string, grant, epoch } };
  }
}
