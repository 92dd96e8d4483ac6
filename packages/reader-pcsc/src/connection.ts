import {
  argumentError,
  CapkitError,
  expectBytes,
  expectInteger,
  expectOneOf,
  expectOptions,
} from "@capkit/core";
import type { CardConnection, PinEntry } from "@capkit/emv-cap";
import { FEATURE_VERIFY_PIN_DIRECT, GET_FEATURE_REQUEST, PinpadEntry, parseFeatures } from "./pinpad.js";
import type { ReaderHandle } from "./reader-handle.js";

/** How to connect to a card. */
export interface PcscConnectOptions {
  /**
   * Exclusive by default: a CAP session is a sequence (SELECT, GPO, VERIFY, GENERATE AC) that another program's
   * commands must not interleave with — one would fail with 6985 or, worse, spend the other's verified PIN.
   * A second program then gets CARD_BUSY at once. PC/SC's SCardBeginTransaction would hold the card the same
   * way while letting others stay connected, but npm pcsclite 1.0 (like its forks and `smartcard`) binds no
   * transaction call, so the session holds the card with an exclusive connection (as barclays-pinsentry.c
   * does: exclusive and a transaction). `shared` is for tools that only watch.
   */
  readonly share?: "shared" | "exclusive";
}

/**
 * A card in a PC/SC reader as a CardConnection. T=0 details (61xx/6Cxx) are handled once, above, by the
 * emv-cap APDU layer. pcsclite answers a transmit to a card pulled out mid-command with an empty response:
 * that is CARD_REMOVED here, not a parse error later.
 */
export class PcscConnection implements CardConnection {
  /** The reader's name. */
  readonly reader: string;
  readonly #handle: ReaderHandle;
  readonly #share: "shared" | "exclusive";
  #atr: Uint8Array;
  #open = true;
  #features: Map<number, number> | undefined;

  private constructor(handle: ReaderHandle, share: "shared" | "exclusive", atr: Uint8Array) {
    this.#handle = handle;
    this.reader = handle.name;
    this.#share = share;
    this.#atr = atr;
  }

  /** Connects to the card in `handle`'s reader (what {@link PcscContext.connect} does with pcsclite's). */
  static async open(handle: ReaderHandle, options: PcscConnectOptions = {}): Promise<PcscConnection> {
    if (typeof handle !== "object" || handle === null || typeof handle.connect !== "function")
      throw argumentError("INPUT_INVALID", "the reader handle", "a ReaderHandle", handle);
    const o = expectOptions<PcscConnectOptions>(options, "the connect options");
    const share =
      o.share === undefined ? "exclusive" : expectOneOf(o.share, "share", ["shared", "exclusive"]);
    await handle.connect(share);
    return new PcscConnection(handle, share, await handle.atr());
  }

  /** The card's ATR (the new one after a reset). */
  get atr(): Uint8Array {
    return this.#atr;
  }

  /**
   * Sends an APDU.
   *
   * @throws `CARD_REMOVED` when the card was pulled out; the PC/SC errors as typed errors
   */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    expectBytes(command, "the command");
    this.#checkOpen();
    const r = await this.#handle.transmit(command);
    if (r.length < 2)
      throw new CapkitError("CARD_REMOVED", "the card was removed", {
        hint: "insert the card again and retry",
      });
    return r;
  }

  /** pcsclite has no SCardReconnect: a warm reset is disconnect(SCARD_RESET_CARD) then connect. */
  async reset(kind: "warm" | "cold"): Promise<Uint8Array> {
    expectOneOf(kind, "the reset", ["warm", "cold"]);
    this.#checkOpen();
    await this.#handle.disconnect(kind === "warm" ? "reset" : "unpower");
    await this.#handle.connect(this.#share);
    this.#atr = await this.#handle.atr();
    return this.#atr;
  }

  /** SCardControl: a control code with data to the reader. */
  async control(code: number, data: Uint8Array): Promise<Uint8Array> {
    expectInteger(code, "the control code", 0, 0xffffffff);
    expectBytes(data, "the control data");
    this.#checkOpen();
    return this.#handle.control(code, data);
  }

  /** PC/SC part 10 features (tag → IOCTL code); empty when the reader has none. */
  async features(): Promise<Map<number, number>> {
    if (this.#features) return this.#features;
    try {
      this.#features = parseFeatures(
        await this.control(this.#handle.controlCode(GET_FEATURE_REQUEST), new Uint8Array(0)),
      );
    } catch (e) {
      if (!(e instanceof CapkitError) || (e.code !== "PINPAD_UNSUPPORTED" && e.code !== "CARD_ERROR"))
        throw e;
      this.#features = new Map();
    }
    return this.#features;
  }

  /** A PinEntry on the reader's keypad, when it has VERIFY_PIN_DIRECT. */
  async pinpad(): Promise<PinEntry | undefined> {
    const code = (await this.features()).get(FEATURE_VERIFY_PIN_DIRECT);
    return code === undefined ? undefined : new PinpadEntry(this, code);
  }

  /** Releases the card (left powered). */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    try {
      await this.#handle.disconnect("leave");
    } catch (e) {
      // A card already pulled or a pcscd already gone leaves nothing to disconnect.
      if (
        !(e instanceof CapkitError) ||
        !["CARD_REMOVED", "PCSCD_NOT_RUNNING", "NO_CARD", "NO_READER"].includes(e.code)
      )
        throw e;
    }
  }

  #checkOpen(): void {
    if (!this.#open) throw new CapkitError("CARD_ERROR", "the connection is closed");
  }
}
