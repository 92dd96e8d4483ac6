import type { AuditAction, AuditEntry } from "../model.js";

/**
 * The memory store's audit trail: the newest `capacity` entries in a ring, kept field by field. An entry's
 * object is not kept, only its fields (numbers in typed arrays, strings that are mostly shared: ids, actions,
 * results), so a verification's audit entry dies young instead of being promoted and later collected by the
 * garbage collector — on a busy verifier that promotion cost a fifth of the throughput (docs/benchmarks.md).
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
  /** Where the next entry goes, and how many are held. */
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.trunc(capacity));
    this.#at = new Float64Array(this.#capacity);
    this.#counter = new Float64Array(this.#capacity);
    this.#credential = new Array(this.#capacity);
    this.#action = new Array(this.#capacity);
    this.#result = new Array(this.#capacity);
    this.#detail = new Array(this.#capacity);
    this.#user = new Array(this.#capacity);
  }

  push(e: AuditEntry, result = e.result): void {
    const i = this.#next;
    this.#at[i] = e.at;
    this.#counter[i] = e.counter ?? Number.NaN;
    this.#credential[i] = e.credentialId;
    this.#action[i] = e.action;
    this.#result[i] = result;
    this.#detail[i] = e.detail;
    this.#user[i] = e.user;
    this.#next = (i + 1) % this.#capacity;
    if (this.#size < this.#capacity) this.#size++;
  }

  /** The entries held, oldest first. */
  entries(): AuditEntry[] {
    const out: AuditEntry[] = [];
    const first = (this.#next - this.#size + this.#capacity) % this.#capacity;
    for (let k = 0; k < this.#size; k++) {
      const i = (first + k) % this.#capacity;
      const counter = this.#counter[i]!;
      const detail = this.#detail[i];
      const user = this.#user[i];
      out.push({
        at: this.#at[i]!,
        credentialId: this.#credential[i]!,
        action: this.#action[i]!,
        result: this.#result[i]!,
        ...(Number.isNaN(counter) ? {} : { counter }),
        ...(detail === undefined ? {} : { detail }),
        ...(user === undefined ? {} : { user }),
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
    this.#detail.fill(undefined);
    this.#user.fill(undefined);
    for (const e of kept) this.push(e);
    return removed;
  }
}
