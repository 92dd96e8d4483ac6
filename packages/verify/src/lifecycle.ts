import { randomInt } from "node:crypto";
import { CapkitError } from "@capkit/core";
import type { CredentialCache } from "./credential-cache.js";
import { isLocked, type LockoutRule } from "./lockout.js";
import type { AuditAction, AuditEntry, CredentialState, StateStore, StoredCredential } from "./model.js";
import { checkId, checkOptions, integerOr } from "./requests.js";
import type { CredentialStatus, UserStatus } from "./verifier.js";

/** A user's credentials read at once (verify by user, userStatus). */
export const MAX_USER_CREDENTIALS = 32;

/** The audit entry of an operation, stamped with the verifier's clock. */
export type EntryMaker = (
  id: string,
  action: AuditAction,
  result: string,
  user: string | undefined,
  extra?: { counter?: number; detail?: string },
) => AuditEntry;

/**
 * A credential's life after enrolment, as the `Verifier` offers it (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): locks lifted,
 * disabled and enabled, revoked, and its state read. Every change gives the credential a new version or removes
 * it, and the cache forgets it, so a decision made on what another process cached is refused by the store.
 */
export class Lifecycle {
  readonly #store: StateStore;
  readonly #cache: CredentialCache;
  readonly #rule: LockoutRule;
  readonly #now: () => number;
  readonly #entry: EntryMaker;

  constructor(o: {
    store: StateStore;
    cache: CredentialCache;
    rule: LockoutRule;
    now: () => number;
    entry: EntryMaker;
  }) {
    this.#store = o.store;
    this.#cache = o.cache;
    this.#rule = o.rule;
    this.#now = o.now;
    this.#entry = o.entry;
  }

  async unlock(id: string): Promise<void> {
    checkId(id, "the credential id");
    const ok = await this.#store.unlock({ credential: id }, this.#entry(id, "unlock", "ok", undefined));
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  async unlockUser(user: string): Promise<void> {
    checkId(user, "the user id");
    const ok = await this.#store.unlock({ user }, this.#entry("", "unlock", "ok", user));
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no user ${user}`);
  }

  /** Disables or enables a credential: a new version, so every process's cache is caught by the store. */
  async setState(id: string, state: CredentialState): Promise<void> {
    checkId(id, "the credential id");
    const c = await this.known(id);
    // Its first code activates it, revoking the one it replaces in the same write: disabling and enabling it
    // would make it active without either.
    if (c.state === "pending")
      throw new CapkitError(
        "INPUT_INVALID",
        `${id} is pending: its first accepted code activates it, or revoke it`,
      );
    const ok = await this.#store.setState(
      id,
      state,
      newVersion(),
      this.#entry(id, state === "active" ? "enable" : "disable", "ok", c.user),
    );
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  /** The credential's state and keys are deleted; its audit trail stays. */
  async revoke(id: string): Promise<void> {
    checkId(id, "the credential id");
    const c = await this.known(id);
    const ok = await this.#store.revoke(id, this.#entry(id, "revoke", "ok", c.user));
    this.#cache.delete(id);
    if (!ok) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
  }

  async status(id: string): Promise<CredentialStatus> {
    checkId(id, "the credential id");
    return this.#statusOf(await this.known(id));
  }

  async userStatus(user: string): Promise<UserStatus> {
    checkId(user, "the user id");
    const u = await this.#store.user(user);
    if (!u) throw new CapkitError("CREDENTIAL_UNKNOWN", `no user ${user}`);
    const creds = await this.#store.list({ user, limit: MAX_USER_CREDENTIALS });
    const locked = isLocked({ ...u }, this.#rule, this.#now());
    return { user, failures: u.failures, locked, credentials: creds.map((c) => c.id) };
  }

  /** Credentials in id order, a page at a time: pass the returned `next` as `after` for the next page. */
  async list(
    options: { after?: string; limit?: number; user?: string } = {},
  ): Promise<{ credentials: CredentialStatus[]; next?: string }> {
    checkOptions(options, "the list options", ["after", "limit", "user"]);
    if (options.after !== undefined) checkId(options.after, "after (a credential id)");
    if (options.user !== undefined) checkId(options.user, "the user id");
    const limit = integerOr(options.limit, 100, 1, 1000, "the page size (limit)");
    const rows = await this.#store.list({
      limit,
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
    });
    const last = rows[rows.length - 1];
    return {
      credentials: rows.map((c) => this.#statusOf(c)),
      ...(rows.length === limit && last ? { next: last.id } : {}),
    };
  }

  /** A credential's status; locked means locked now (a lock past its timed release is not). */
  #statusOf(c: StoredCredential): CredentialStatus {
    return statusOf(c, isLocked({ ...c }, this.#rule, this.#now()));
  }

  /** The credential as stored, or CREDENTIAL_UNKNOWN. */
  async known(id: string): Promise<StoredCredential> {
    const c = await this.#store.get(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return c;
  }
}

/** A credential's version: random, so a revoked and re-enrolled id never repeats one another process cached. */
export function newVersion(): number {
  return randomInt(1, 2 ** 48);
}

function statusOf(c: StoredCredential, locked: boolean): CredentialStatus {
  const p = c.params;
  return {
    id: c.id,
    kind: p.kind,
    state: c.state,
    ...(c.user !== undefined ? { user: c.user } : {}),
    last: c.last,
    failures: c.failures,
    locked,
    createdAt: c.createdAt,
    ...(p.kind === "totp" && c.drift !== undefined ? { driftSeconds: c.drift * p.step } : {}),
    ...(c.replaces !== undefined ? { replaces: c.replaces } : {}),
  };
}
