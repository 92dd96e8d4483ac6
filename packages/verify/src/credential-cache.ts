import { randomBytes } from "node:crypto";
import type { KeyProvider } from "./key-provider.js";
import { KINDS, rulesOf } from "./kinds/index.js";
import type { StateStore, StoredCredential } from "./model.js";
import type { ReplayProbe } from "./replay.js";

/**
 * A credential as last seen in the store, with its keyed engine (built once per version). The cache owns `c`
 * (each store read returns a new object) and moves its `last` on when this process accepts a code, in place.
 * `absent`: an id nobody holds. Its `c` is a decoy: the definition and engine of the credential this verifier
 * loaded last, so that a code for an unknown id is judged with the same work as one for a known id (the
 * verdict is thrown away: an unknown id never matches).
 */
export interface Cached {
  readonly c: Mutable<StoredCredential>;
  readonly engine: unknown;
  readonly absent?: true;
  /** The lockout subject's key (SubjectGate), made once. */
  readonly subject: string;
  /**
   * The request of the last accept this process made on it, as it came: compared field by field, so that an
   * accept costs no digest (the store makes the digest it keeps; a fresh read brings that instead).
   */
  accepted?: ReplayProbe;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Credential definitions by id, as last seen, with their keyed engines (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): they change
 * only through lifecycle operations, which change the version the store checks on every decision, so a stale
 * entry is caught there. Bounded: beyond `size` entries the oldest goes. Unknown ids are cached too, with a
 * decoy (see `Cached.absent`).
 */
export class CredentialCache {
  readonly #store: StateStore;
  readonly #keys: KeyProvider;
  readonly #size: number;
  readonly #entries = new Map<string, Cached>();
  readonly #loading = new Map<string, Promise<Cached>>();
  /** The credential loaded last: what an unknown id is judged against (see `Cached.absent`). */
  #template: Cached | undefined;

  constructor(store: StateStore, keys: KeyProvider, size: number) {
    this.#store = store;
    this.#keys = keys;
    this.#size = size;
  }

  /** The entry as last seen, if any (no promise: the verification's hot path). */
  get(id: string): Cached | undefined {
    return this.#entries.get(id);
  }

  /** Forgets an id: its next use reads the store. */
  delete(id: string): void {
    this.#entries.delete(id);
  }

  /**
   * The cached credential, or one read for every caller at once: a burst of attempts on an id not in the cache
   * (a cold start, a stuck row) makes one store read, not one per attempt.
   */
  cached(id: string): Promise<Cached> {
    const e = this.#entries.get(id);
    if (e) return Promise.resolve(e);
    let p = this.#loading.get(id);
    if (!p) {
      p = this.load(id).finally(() => this.#loading.delete(id));
      this.#loading.set(id, p);
    }
    return p;
  }

  /**
   * A fresh read from the store, cached; the keyed engine is kept while the version is the same. An id nobody
   * holds is cached as unknown, with the decoy.
   */
  async load(id: string): Promise<Cached> {
    const c = await this.#store.get(id);
    return c ? this.fresh(c) : this.absent(id);
  }

  /** Caches a credential just read from the store, with its engine; it becomes the decoy's template. */
  async fresh(c: Mutable<StoredCredential>): Promise<Cached> {
    const old = this.#entries.get(c.id);
    const reuse = old && !old.absent && old.c.version === c.version;
    const e: Cached = { c, engine: reuse ? old.engine : await this.#engine(c), subject: subjectKey(c) };
    this.#remember(e);
    this.#template = e;
    return e;
  }

  /**
   * An unknown id (or user): a decoy with the definition of the credential loaded last, and an engine built
   * for it the way a known credential's engine is built when it is read (unseal, derive) — the same work. With
   * no credential loaded yet, a TOTP token with a random key. Cached like a known id, under `key`.
   */
  async absent(key: string): Promise<Cached> {
    const old = this.#entries.get(key);
    if (old?.absent) return old; // its decoy as it was: a second read costs what a known id's costs
    const t = this.#template;
    const c: Mutable<StoredCredential> = {
      ...(t?.c ?? DECOY),
      id: key,
      user: undefined,
      replaces: undefined,
      failures: 0,
      locked: false,
      state: "active",
      version: 0,
      acceptedAt: undefined,
      acceptedDigest: undefined,
      acceptedRequest: undefined,
    };
    const engine = t ? await this.#engine(t.c) : await decoyEngine(this.#keys);
    const e: Cached = { c, engine, absent: true, subject: subjectKey(c) };
    this.#remember(e);
    return e;
  }

  #remember(e: Cached): void {
    if (!this.#entries.has(e.c.id) && this.#entries.size >= this.#size)
      this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(e.c.id, e);
  }

  /** The credential's keyed engine: the key provider computes, the verifier never holds a key. */
  #engine(c: StoredCredential): Promise<unknown> {
    return rulesOf(c.params.kind).engine(c.params, c.sealed, { id: c.id, keys: this.#keys });
  }
}

/** Attempts on one subject are decided one at a time (SubjectGate): its key. */
export function subjectKey(s: { readonly user?: string | undefined; readonly id?: string }): string {
  return s.user !== undefined ? `user:${s.user}` : `credential:${s.id}`;
}

/** With no credential loaded yet, an unknown id is judged against a TOTP token with a random key. */
const DECOY: StoredCredential = {
  id: "",
  params: { kind: "totp", algorithm: "SHA1", digits: 6, step: 30, t0: 0, past: 1, future: 1 },
  sealed: undefined,
  last: -1,
  failures: 0,
  locked: false,
  lockedAt: undefined,
  createdAt: 0,
  state: "active",
  user: undefined,
  drift: undefined,
  replaces: undefined,
  acceptedAt: undefined,
  acceptedDigest: undefined,
  acceptedRequest: undefined,
  version: 0,
};

/** A random key sealed once per key provider, for the decoy engines. */
const decoyKeys = new WeakMap<KeyProvider, Promise<string>>();

/** An engine of a random key, built through the key provider from its seal as a real credential's is (same work). */
async function decoyEngine(keys: KeyProvider): Promise<unknown> {
  let sealed = decoyKeys.get(keys);
  if (!sealed) {
    const secret = randomBytes(20);
    sealed = keys.seal("decoy", "hmac", secret).finally(() => secret.fill(0));
    decoyKeys.set(keys, sealed);
  }
  return KINDS.totp.engine(DECOY.params, await sealed, { id: "decoy", keys });
}
