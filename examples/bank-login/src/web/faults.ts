/**
 * FOR TESTS: faults the bank's server can be told to have. `stall(path)` holds every request for that path (or,
 * for a path ending in `/`, under it) — it gets no answer, its socket stays open — until `release()`, after
 * which the held requests go on as if they had just arrived: the app's 30-second path against a real socket.
 * Nothing here is reachable over HTTP: only the process that started the server holds this object.
 */
export interface Stall {
  /** Requests held so far. */
  readonly held: number;
  release(): void;
}

interface Held {
  readonly matches: (path: string) => boolean;
  readonly released: Promise<void>;
  count: number;
}

export class Faults {
  readonly #stalls = new Set<Held>();

  stall(path: string): Stall {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h: Held = {
      matches: (p) => (path.endsWith("/") ? p.startsWith(path) : p === path),
      released,
      count: 0,
    };
    this.#stalls.add(h);
    return {
      get held() {
        return h.count;
      },
      release: () => {
        this.#stalls.delete(h);
        release();
      },
    };
  }

  /** Waits while a stall holds this path. */
  async hold(path: string): Promise<void> {
    for (const h of this.#stalls)
      if (h.matches(path)) {
        h.count++;
        await h.released;
      }
  }
}
