/**
 * FOR TESTS: faults the bank's server can be told to have. `stall(prefix)` holds every request whose path
 * starts with `prefix` — it gets no answer, its socket stays open — until `release()`, after which the held
 * requests go on as if they had just arrived (the app's 30-second path, against a real socket). Nothing here
 * is reachable over HTTP: only the process that started the server holds this object.
 */
export class Faults {
  readonly #stalls = new Set<{ prefix: string; released: Promise<void> }>();

  stall(prefix: string): { release(): void; readonly held: number } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = { prefix, released };
    this.#stalls.add(s);
    let held = 0;
    this.#counters.set(s, () => held++);
    return {
      release: () => {
        this.#stalls.delete(s);
        release();
      },
      get held() {
        return held;
      },
    };
  }

  readonly #counters = new Map<object, () => void>();

  /** Waits while a stall holds this path. */
  async hold(path: string): Promise<void> {
    for (const s of this.#stalls)
      if (path.startsWith(s.prefix)) {
        this.#counters.get(s)?.();
        await s.released;
      }
  }
}
