import type { AuditAction, AuditEntry } from "../model.js";

/**
 * The memory store's audit trail: the newest `capacity` entries in a ring, and no more than `maxBytes` of their
 * strings (ids and details come from outside: entries are bounded in bytes as well as in number), kept field by
 * field. An entry's
 * object is not kept, only its fields (numbers in typed arrays, strings that are mostly shared: ids, actions,
 * results), so a verification's audit entry dies young instead of being promoted and later collected by the
 * garbage collector — on a busy verifier that promotion cost a fifth of the throughput (https://github.com/capkit/capkit/blob/main/docs/benchmarks.md).
 */
export class AuditRing {
  readonly #capacity: number;
  readonly #at: Float64Array;
  /** NaN: no counter. */
  readonly #counter: Float64Array;
  readonly #credential: string[];
  readonly #action: AuditAction[];
  readonly #result: string[];
  readonly #detail: (string | undefined)[];
  readonly #user: (string | undefined)[];
  readonly #actor: (string | undefined)[];
  readonly #seq: Float64Array;
  readonly #bytes: Float64Array;
  readonly #maxBytes: number;
  /** Where the next entry goes, how many are held, their bytes, the last seq given. */
  #next = 0;
  #size = 0;
  #total = 0;
  #lastSeq = 0;

  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY) {
    this.#capacity = Math.max(1, Math.trunc(capacity));
    this.#maxBytes = maxBytes;
    this.#actor = new Array(this.#capacity);
    this.#seq = new Float64Array(this.#capacity);
    this.#bytes = new Float64Array(this.#capacity);
    this.#at = new Float64Array(this.#capacity);
    this.#counter = new Float64Array(this.#capacity);
    this.#credential = new Array(this.#capacity);
    this.#action = new Array(this.#capacity);
    this.#result = new Array(this.#capacity);
    this.#detail = new Array(this.#capacity);
    this.#user = new Array(this.#capacity);
  }

  /** The highest seq given so far. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  push(e: AuditEntry, result = e.result, seq = ++this.#lastSeq): void {
    if (this.#size === this.#capacity) this.#total -= this.#bytes[this.#next]!;
    const i = this.#next;
    // Strings are UTF-16 in memory: 2 bytes a character, 64 for the numbers and the slots.
    const bytes =
      64 +
      2 *
        (e.credentialId.length +
          result.length +
          (e.detail?.length ?? 0) +
          (e.user?.length ?? 0) +
          (e.actor?.length ?? 0));
    this.#seq[i] = seq;
    this.#bytes[i] = bytes;
    this.#total += bytes;
    this.#actor[i] = e.actor;
    this.#at[i] = e.at;
    this.#counter[i] = e.counter ?? Number.NaN;
    this.#credential[i] = e.credentialId;
    this.#action[i] = e.action;
    this.#result[i] = result;
    this.#detail[i] = e.detail;
    this.#user[i] = e.user;
    this.#next = (i + 1) % this.#capacity;
    if (this.#size < this.#capacity) this.#size++;
    while (this.#total > this.#maxBytes && this.#size > 1) this.#dropOldest();
  }

  #dropOldest(): void {
    const first = (this.#next - this.#size + this.#capacity) % this.#capacity;
    this.#total -= this.#bytes[first]!;
    this.#detail[first] = undefined;
    this.#user[first] = undefined;
    this.#actor[first] = undefined;
    this.#size--;
  }

  /** The entries held, oldest first. */
  entries(): (AuditEntry & { seq: number })[] {
    const out: (AuditEntry & { seq: number })[] = [];
    const first = (this.#next - this.#size + this.#capacity) % this.#capacity;
    for (let k = 0; k < this.#size; k++) {
      const i = (first + k) % this.#capacity;
      const counter = this.#counter[i]!;
      const detail = this.#detail[i];
      const user = this.#user[i];
      const actor = this.#actor[i];
      out.push({
        seq: this.#seq[i]!,
        at: this.#at[i]!,
        credentialId: this.#credential[i]!,
        action: this.#action[i]!,
        result: this.#result[i]!,
        ...(Number.isNaN(counter) ? {} : { counter }),
        ...(detail === undefined ? {} : { detail }),
        ...(user === undefined ? {} : { user }),
        ...(actor === undefined ? {} : { actor }),
      });
    }
    return out;
  }

  /** Deletes the entries older than `before`; returns how many. */
  prune(before: number): number {
    const kept = this.entries().filter((e) => e.at >= before);
    const removed = this.#size - kept.length;
    this.#next = 0;
    this.#size = 0;
    this.#total = 0;
    this.#detail.fill(undefined);
    this.#user.fill(undefined);
    this.#actor.fill(undefined);
    for (const e of kept) this.push(e, e.result, e.seq);
    return removed;
  }
}
