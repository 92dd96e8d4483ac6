import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomInt } from "node:crypto";

/**
 * The SOGENET shuffled keypad: the ten digits at random places (CSPRNG) in a 4×4 grid, drawn anew at every
 * display. The form posts the cells clicked, never the digits: a form grabber or a proxy log sees positions
 * that mean nothing without the layout, and the layout is never sent back in clear.
 *
 * Each display has a layout id, issued and read by the server only: the layout, an expiry and a random id,
 * sealed with AES-256-GCM under a key of the bank's (so a flood of page views stores nothing). A layout is
 * good once and for LAYOUT_TTL_MS: the first post that carries it spends it (the server remembers spent ids
 * until they expire; posts are throttled, so that memory is bounded too), and an expired, spent or forged
 * layout is refused before anything is looked up or counted.
 */
export const GRID_CELLS = 16;
export const PASSWORD_DIGITS = 6;
export const LAYOUT_TTL_MS = 10 * 60_000;
const MAX_SPENT = 100_000;
const BLANK = 0xff;

export interface Layout {
  /** The sealed layout id the form carries back. */
  readonly id: string;
  /** The digit in each cell, or undefined for a blank one. */
  readonly cells: readonly (number | undefined)[];
}

export type Reading =
  | { readonly ok: true; readonly password: string }
  | { readonly ok: false; readonly why: "layout" | "cells" };

export class Keypads {
  readonly #key: Buffer;
  readonly #now: () => number;
  /** Spent layout ids → when they expire. */
  readonly #spent = new Map<string, number>();

  constructor(webKey: Buffer, now: () => number) {
    this.#key = createHmac("sha256", webKey).update("bank-login keypad layouts").digest();
    this.#now = now;
  }

  /** A new layout for one display. */
  issue(): Layout {
    const cells = new Uint8Array(GRID_CELLS).fill(BLANK);
    const free = Array.from({ length: GRID_CELLS }, (_, i) => i);
    for (let d = 0; d <= 9; d++) cells[free.splice(randomInt(free.length), 1)[0]!] = d;
    const plain = Buffer.alloc(16 + 8 + GRID_CELLS);
    randomBytes(16).copy(plain, 0);
    plain.writeBigUInt64BE(BigInt(this.#now() + LAYOUT_TTL_MS), 16);
    plain.set(cells, 24);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { id: sealed.toString("base64url"), cells: [...cells].map((d) => (d === BLANK ? undefined : d)) };
  }

  /**
   * The password the clicked cells spell on that layout (cells as hex digits, one per click: "3a0f27"); the
   * layout is spent whatever the outcome.
   */
  read(layoutId: string, clicked: string): Reading {
    const layout = this.#open(layoutId);
    if (!layout) return { ok: false, why: "layout" };
    if (!new RegExp(`^[0-9a-f]{${PASSWORD_DIGITS}}$`).test(clicked)) return { ok: false, why: "cells" };
    let password = "";
    for (const ch of clicked) {
      const d = layout[Number.parseInt(ch, 16)]!;
      if (d === BLANK) return { ok: false, why: "cells" };
      password += String(d);
    }
    return { ok: true, password };
  }

  /** The layout's cells, if the id is ours, unexpired and unspent; spends it. */
  #open(id: string): Uint8Array | undefined {
    const sealed = Buffer.from(id, "base64url");
    if (sealed.length !== 12 + 16 + 8 + GRID_CELLS + 16) return undefined;
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      plain = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    } catch {
      return undefined;
    }
    const now = this.#now();
    const expires = Number(plain.readBigUInt64BE(16));
    const layoutId = plain.subarray(0, 16).toString("hex");
    if (expires <= now || this.#spent.has(layoutId)) return undefined;
    if (this.#spent.size >= MAX_SPENT) {
      for (const [k, at] of this.#spent) if (at <= now) this.#spent.delete(k);
      if (this.#spent.size >= MAX_SPENT) return undefined; // fail closed: refuse rather than forget
    }
    this.#spent.set(layoutId, expires);
    return plain.subarray(24);
  }
}
