import type { Clock } from "./clock.js";

/** A screen that may go off by itself: `offAt` is when, in the device clock's milliseconds since the epoch. */
export interface TimedScreen {
  readonly offAt?: number;
}

/**
 * A simulated device's display, the one mechanism both the Sésame reader and the SGpass token use: what is
 * shown, who is told, and the single timer that turns it off. Every screen shown with a delay carries its
 * `offAt`, so a terminal or a web page draws its countdown from the screen and never restates a delay.
 */
export class DeviceDisplay<S extends TimedScreen> {
  readonly #clock: Clock;
  readonly #onExpire: () => void;
  readonly #listeners = new Set<(s: S) => void>();
  #screen: S;
  #timer: unknown;

  /** `onExpire` runs when a screen's delay is over (the device decides what "off" means for it). */
  constructor(clock: Clock, initial: S, onExpire: () => void) {
    this.#clock = clock;
    this.#screen = initial;
    this.#onExpire = onExpire;
  }

  get screen(): S {
    return this.#screen;
  }

  /** Subscribes to screen changes; returns the unsubscribe function. */
  subscribe(listener: (s: S) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Shows `screen` and tells every listener; with `delayMs`, the screen goes off that long from now (its `offAt`
   * says when), without it the screen stays until the next one. Any earlier timer is cancelled.
   */
  show(screen: Omit<S, "offAt">, delayMs?: number): S {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let shown = screen as S;
    if (delayMs !== undefined) {
      shown = { ...screen, offAt: this.#clock.now() + delayMs } as S;
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#onExpire();
      }, delayMs);
    }
    this.#screen = shown;
    for (const l of this.#listeners) l(shown);
    return shown;
  }
}
