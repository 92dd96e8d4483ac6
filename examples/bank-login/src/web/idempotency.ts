import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type Database from "better-sqlite3";

/**
 * The app API's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the answer to a key is kept for
 * 24 hours, and the same request again under it gets that answer without being done again — the app resends
 * a request that got no answer within its 30 seconds, and the bank must not start a second activation, send a
 * second SMS or count a login twice. A key is 32 lower-case hex digits (128 bits from the app's CSPRNG); the
 * same key with another request is refused (422).
 *
 * A key is claimed in the bank's database before its request is done: a row in progress (status 0), written
 * by one atomic INSERT, so that every process serving the bank's directory sees it, not only the one doing the
 * work. The same request arriving meanwhile, in any process, waits for the answer (up to `waitMs`; then 409,
 * the draft's answer to a request "still being processed"). Only final answers are kept (not a 5xx: the claim
 * is dropped and the app's retry does the request). A claim whose process died (SIGKILL, power cut) is taken
 * over once it is older than `CLAIM_MS`; what that process had already done may then be done again, the price
 * of not waiting forever for a process that will never answer.
 */
export const KEY = /^[0-9a-f]{32}$/;
const KEEP_MS = 24 * 60 * 60_000;
/** Longer than any request of the app API takes (the app itself gives up after 30 s). */
export const CLAIM_MS = 2 * 60_000;
const IN_PROGRESS = 0;
/** How often a waiting request looks at the claim again. */
const POLL_MS = 20;

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

/** A request not done: its kept answer, another request under its key, or its key still in progress. */
export type Replayed =
  | { readonly kind: "kept"; readonly answer: KeptAnswer }
  | { readonly kind: "reused" }
  | { readonly kind: "in-progress" };

export interface IdempotencyOptions {
  /** How long the same request waits for a claim held elsewhere before `in-progress` (default 30 s, real time). */
  readonly waitMs?: number;
}

export class IdempotencyKeys {
  readonly #now: () => number;
  readonly #waitMs: number;
  readonly #claim: Database.Statement;
  readonly #read: Database.Statement;
  readonly #finish: Database.Statement;
  readonly #release: Database.Statement;
  readonly #prune: Database.Statement;

  constructor(db: Database.Database, now: () => number, options: IdempotencyOptions = {}) {
    this.#now = now;
    this.#waitMs = options.waitMs ?? 30_000;
    db.exec(SCHEMA);
    // One statement: the key is free, its kept answer expired, or its claim abandoned — then it is ours.
    this.#claim = db.prepare(
      `INSERT INTO api_idempotency (key_hash, request, status, answer, created_at)
       VALUES (@id, @request, ${IN_PROGRESS}, '', @now)
       ON CONFLICT (key_hash) DO UPDATE SET request = excluded.request, status = ${IN_PROGRESS}, answer = '',
         created_at = excluded.created_at
       WHERE api_idempotency.created_at <= @expired
          OR (api_idempotency.status = ${IN_PROGRESS} AND api_idempotency.created_at <= @abandoned)`,
    );
    this.#read = db.prepare(
      "SELECT request, status, answer, created_at FROM api_idempotency WHERE key_hash = ?",
    );
    this.#finish = db.prepare(
      `UPDATE api_idempotency SET status = @status, answer = @answer
       WHERE key_hash = @id AND status = ${IN_PROGRESS} AND created_at = @claimed`,
    );
    this.#release = db.prepare(
      `DELETE FROM api_idempotency WHERE key_hash = @id AND status = ${IN_PROGRESS} AND created_at = @claimed`,
    );
    this.#prune = db.prepare("DELETE FROM api_idempotency WHERE created_at <= ?");
  }

  /**
   * Answers `run()` once per (key, request): the kept answer when the same request came before, "reused" when
   * another request came under this key, "in-progress" when the same request is still being done elsewhere
   * after `waitMs`.
   */
  async once(
    key: string,
    route: string,
    body: string,
    run: () => Promise<KeptAnswer>,
  ): Promise<KeptAnswer | Replayed> {
    const id = sha256(`${route}\n${key}`);
    const request = sha256(`${route}\n${body}`);
    const giveUpAt = performance.now() + this.#waitMs;
    for (;;) {
      const now = this.#now();
      const held = this.#read.get(id) as
        | { request: string; status: number; answer: string; created_at: number }
        | undefined;
      // A wait only reads: the claim is tried when the key looks free, so a burst of retries of one key does
      // not take the database's write lock at every poll.
      const free =
        held === undefined ||
        held.created_at <= now - KEEP_MS ||
        (held.status === IN_PROGRESS && held.created_at <= now - CLAIM_MS);
      if (free) {
        const claimed = this.#claim.run({
          id,
          request,
          now,
          expired: now - KEEP_MS,
          abandoned: now - CLAIM_MS,
        });
        if (claimed.changes === 1) return this.#run(id, now, run);
        continue; // another process claimed it first: read what it holds
      }
      if (held.request !== request) return { kind: "reused" };
      if (held.status !== IN_PROGRESS)
        return { kind: "kept", answer: { status: held.status, body: held.answer } };
      if (performance.now() >= giveUpAt) return { kind: "in-progress" };
      await sleep(POLL_MS);
    }
  }

  async #run(id: string, claimed: number, run: () => Promise<KeptAnswer>): Promise<KeptAnswer> {
    let answer: KeptAnswer | undefined;
    try {
      answer = await run();
      return answer;
    } finally {
      if (answer !== undefined && answer.status < 500) {
        this.#finish.run({ id, claimed, status: answer.status, answer: answer.body });
        this.#prune.run(this.#now() - KEEP_MS);
      } else this.#release.run({ id, claimed });
    }
  }
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("base64url");
}
