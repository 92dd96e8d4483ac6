import { createHash } from "node:crypto";
import type Database from "better-sqlite3";

/**
 * The app API's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the answer to a key is kept for
 * 24 hours, and the same request again under it gets that answer without being done again — the app resends
 * a request that got no answer within its 30 seconds, and the bank must not start a second activation, send a
 * second SMS or count a login twice. A key is 32 lower-case hex digits (128 bits from the app's CSPRNG); the
 * same key with another request is refused (422), a key still in progress is waited for (one process), and
 * only final answers are kept (not a 5xx). The table lives in the bank's database, so a restart keeps it.
 */
export const KEY = /^[0-9a-f]{32}$/;
const KEEP_MS = 24 * 60 * 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_idempotency (
  key_hash TEXT PRIMARY KEY,
  request TEXT NOT NULL,
  status INTEGER NOT NULL,
  answer TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`;

export interface KeptAnswer {
  readonly status: number;
  readonly body: string;
}

export type Replayed = { readonly kind: "kept"; readonly answer: KeptAnswer } | { readonly kind: "reused" };

export class IdempotencyKeys {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<KeptAnswer>>();

  constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
  }

  /**
   * Answers `run()` once per (key, request): the kept answer when the same request came before, "reused" when
   * another request came under this key.
   */
  async once(
    key: string,
    route: string,
    body: string,
    run: () => Promise<KeptAnswer>,
  ): Promise<KeptAnswer | Replayed> {
    const id = sha256(`${route}\n${key}`);
    const request = sha256(`${route}\n${body}`);
    for (;;) {
      const waiting = this.#inFlight.get(id);
      if (!waiting) break;
      await waiting.catch(() => undefined);
    }
    const kept = this.#db
      .prepare("SELECT request, status, answer FROM api_idempotency WHERE key_hash = ? AND created_at > ?")
      .get(id, this.#now() - KEEP_MS) as { request: string; status: number; answer: string } | undefined;
    if (kept)
      return kept.request === request
        ? { kind: "kept", answer: { status: kept.status, body: kept.answer } }
        : { kind: "reused" };
    const p = run();
    this.#inFlight.set(id, p);
    try {
      const answer = await p;
      if (answer.status < 500) {
        const now = this.#now();
        this.#db.prepare("DELETE FROM api_idempotency WHERE created_at <= ?").run(now - KEEP_MS);
        this.#db
          .prepare(
            `INSERT INTO api_idempotency (key_hash, request, status, answer, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (key_hash) DO UPDATE SET request = excluded.request, status = excluded.status,
               answer = excluded.answer, created_at = excluded.created_at`,
          )
          .run(id, request, answer.status, answer.body, now);
      }
      return answer;
    } finally {
      this.#inFlight.delete(id);
    }
  }
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("base64url");
}
