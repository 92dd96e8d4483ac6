import { connect, type Socket } from "node:net";
import { argumentError, expectInteger, expectOptions, expectString, isRecord } from "@capkit/core";
import type { SimulatedCard } from "./card.js";

/**
 * Serves a SimulatedCard to a real pcscd through the vsmartcard `vpcd` driver
 * (https://github.com/capkit/capkit/blob/main/docs/testing.md §1), so
 * every PC/SC client — ours, pcsc_scan, opensc-tool, python-emv, EMV-CAP — sees a card in the virtual reader.
 *
 * vpcd listens; the card connects. Each message is a 2-byte big-endian length and a payload. A 1-byte payload
 * is a control byte (00 power off, 01 power on, 02 reset, 04 get ATR) and only 04 gets a reply; a longer one
 * is a command APDU, answered with data ‖ SW1 SW2. Replies are matched by order, so a reply is written only on
 * the socket its request came from, and dropped if that socket has closed. Closing the socket = card removed.
 */
/** Where vpcd listens and how the bridge reconnects. */
export interface VpcdBridgeOptions {
  /** vpcd's host (`127.0.0.1`). */
  readonly host?: string;
  /** vpcd's port for the reader slot: 35963 is "Virtual PCD 00 00" in Debian's default configuration. */
  readonly port?: number;
  /** Reconnection back-off while inserted (pcscd restarted or not up yet). */
  readonly minBackoffMs?: number;
  /** The longest wait between two reconnection attempts (5 s). */
  readonly maxBackoffMs?: number;
  /** Told when vpcd accepts the card, when the connection is lost, and when the card is pulled. */
  readonly onEvent?: (event: "connected" | "disconnected" | "removed") => void;
}

/** vpcd's port for "Virtual PCD 00 00" in Debian's default configuration. */
export const VPCD_DEFAULT_PORT = 35963;

/**
 * A simulated card in vsmartcard's virtual reader, seen by a real pcscd and every PC/SC client.
 *
 * @example
 * ```ts
 * const bridge = new VpcdBridge(new SimulatedCard(newSimCardState("sesame", "1234")));
 * await bridge.insert(); // pcsc_scan and opensc-tool now see the card
 * bridge.remove();
 * ```
 */
export class VpcdBridge {
  readonly #card: SimulatedCard;
  readonly #host: string;
  readonly #port: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #onEvent: VpcdBridgeOptions["onEvent"];
  #socket: Socket | undefined;
  #inserted = false;
  #backoff: number;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];

  /**
   * @param card - the card to serve
   * @param options - where vpcd listens (`127.0.0.1`, port {@link VPCD_DEFAULT_PORT}) and the back-off
   * @throws `INPUT_INVALID` for a card that is not a SimulatedCard, or a malformed option
   */
  constructor(card: SimulatedCard, options: VpcdBridgeOptions = {}) {
    if (!isRecord(card) || typeof (card as { process?: unknown }).process !== "function")
      throw argumentError("INPUT_INVALID", "the card", "a SimulatedCard", card);
    options = expectOptions<VpcdBridgeOptions>(options, "the bridge options");
    if (options.host !== undefined) expectString(options.host, "the host");
    if (options.port !== undefined) expectInteger(options.port, "the port", 1, 65535);
    if (options.minBackoffMs !== undefined) expectInteger(options.minBackoffMs, "minBackoffMs", 1, 3_600_000);
    if (options.maxBackoffMs !== undefined) expectInteger(options.maxBackoffMs, "maxBackoffMs", 1, 3_600_000);
    if (options.onEvent !== undefined && typeof options.onEvent !== "function")
      throw argumentError("INPUT_INVALID", "onEvent", "a function", options.onEvent);
    this.#card = card;
    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port ?? VPCD_DEFAULT_PORT;
    this.#minBackoff = options.minBackoffMs ?? 100;
    this.#maxBackoff = options.maxBackoffMs ?? 5000;
    this.#backoff = this.#minBackoff;
    this.#onEvent = options.onEvent;
  }

  /** Whether vpcd has the card now. */
  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.connecting && !this.#socket.destroyed;
  }

  /** Inserts the card: connects now and keeps reconnecting (with back-off) until `remove()`. */
  insert(): Promise<void> {
    this.#inserted = true;
    this.#card.insert();
    if (!this.#socket) this.#connect();
    return this.waitConnected();
  }

  /** Resolves once connected to vpcd (immediately if already). */
  waitConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Pulls the card: the socket closes, which vpcd reports to pcscd as a removal. */
  remove(): void {
    this.#inserted = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#card.remove();
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#onEvent?.("removed");
  }

  #connect(): void {
    const socket = connect(this.#port, this.#host);
    this.#socket = socket;
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    socket.on("connect", () => {
      this.#backoff = this.#minBackoff;
      this.#onEvent?.("connected");
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const n = buffer.readUInt16BE(0);
        if (buffer.length < 2 + n) break;
        const payload = new Uint8Array(buffer.subarray(2, 2 + n));
        buffer = buffer.subarray(2 + n);
        const reply = this.#answer(payload);
        if (reply && !socket.destroyed && socket.writable) {
          const header = Buffer.alloc(2);
          header.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([header, reply]));
        }
      }
    });
    // Errors (ECONNREFUSED while pcscd is down) end in 'close', where reconnection is decided.
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#onEvent?.("disconnected");
      if (!this.#inserted) return;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        if (this.#inserted && !this.#socket) this.#connect();
      }, this.#backoff);
      this.#backoff = Math.min(this.#maxBackoff, this.#backoff * 2);
    });
  }

  #answer(payload: Uint8Array): Uint8Array | undefined {
    if (payload.length === 1) {
      const control = payload[0];
      if (control === 0x04) return this.#card.atr;
      if (control === 0x00) this.#card.powerOff();
      if (control === 0x01) this.#card.powerOn();
      if (control === 0x02) this.#card.warmReset();
      return undefined; // power on/off and reset get no reply
    }
    try {
      return this.#card.process(payload);
    } catch (e) {
      // The card was pulled in the middle of a command: no answer, the socket closes (vpcd: card removed).
      if ((e as { code?: string }).code === "CARD_REMOVED") {
        setImmediate(() => this.remove());
        return undefined;
      }
      return Uint8Array.of(0x6f, 0x00);
    }
  }
}
