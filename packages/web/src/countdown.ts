import { systemClock } from "@capkit/token-sim";
import { el } from "./dom.js";

/**
 * A line under a device's LCD counting down to when the screen goes off, drawn from the screen's own `offAt`
 * (token-sim's DeviceDisplay sets it from the device's delays): no delay is restated here. It is not a live
 * region — the LCD is — so a screen reader is not interrupted every second.
 */
export class Countdown {
  readonly element: HTMLElement;
  readonly #label: (seconds: number) => string;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #offAt: number | undefined;

  constructor(label: (seconds: number) => string) {
    this.#label = label;
    this.element = el("p", { class: "countdown", part: "countdown" });
  }

  /** Counts down to `offAt` (the devices' clock is the system clock); undefined clears the line. */
  show(offAt: number | undefined): void {
    this.#offAt = offAt;
    if (offAt === undefined) {
      if (this.#ticker !== undefined) clearInterval(this.#ticker);
      this.#ticker = undefined;
    } else if (this.#ticker === undefined) {
      this.#ticker = setInterval(() => this.#draw(), 1000);
    }
    this.#draw();
  }

  #draw(): void {
    const offAt = this.#offAt;
    const seconds = offAt === undefined ? 0 : Math.max(0, Math.ceil((offAt - systemClock.now()) / 1000));
    this.element.textContent = seconds > 0 ? this.#label(seconds) : "";
    if (seconds === 0 && this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }
}
