import { pcscError } from "./errors.js";
import type { PcscliteReader } from "./pcsclite-types.js";

/**
 * The few reader operations capkit uses, as promises with typed errors. PcscConnection is written against
 * this interface; capkit adapts the npm `pcsclite` binding's readers to it, and tests a scripted reader (vpcd cannot
 * emulate PIN-pad features).
 */
export interface ReaderHandle {
  /** The reader's name, as PC/SC lists it. */
  readonly name: string;
  /** Connects to the card, shared or exclusively. */
  connect(share: "shared" | "exclusive"): Promise<void>;
  /** `leave` the card powered, `reset` it (warm), or `unpower` it (cold). */
  disconnect(disposition: "leave" | "reset" | "unpower"): Promise<void>;
  /** Sends an APDU; resolves to the response data ‖ SW1 SW2 (empty when the card was pulled out). */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** SCardControl: a control code with data. */
  control(code: number, data: Uint8Array): Promise<Uint8Array>;
  /** IOCTL code for a PC/SC part 10 feature number: SCARD_CTL_CODE(n). */
  controlCode(n: number): number;
  /** The card's ATR. */
  atr(): Promise<Uint8Array>;
}

/** Largest response we accept: 65,536 data bytes + SW (extended length). */
const MAX_RESPONSE = 65538;

/**
 * `currentAtr` reads the ATR from the reader's status events. pcsclite's `get_status` is not a query: every
 * call starts one more status-watching thread, which contends with SCardConnect for the reader's lock and keeps
 * the process alive, so it is never called here.
 */
export function fromPcsclite(reader: PcscliteReader, currentAtr: () => Uint8Array | undefined): ReaderHandle {
  let protocol = 0;
  const call = <T>(what: string, f: (cb: (err: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      f((err, value) => (err ? reject(pcscError(err, what)) : resolve(value)));
    });
  return {
    name: reader.name,
    async connect(share) {
      const mode = share === "shared" ? reader.SCARD_SHARE_SHARED : reader.SCARD_SHARE_EXCLUSIVE;
      protocol = await call<number>(`connecting to ${reader.name}`, (cb) =>
        reader.connect(
          { share_mode: mode, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 },
          cb,
        ),
      );
    },
    async disconnect(disposition) {
      const d =
        disposition === "leave"
          ? reader.SCARD_LEAVE_CARD
          : disposition === "reset"
            ? reader.SCARD_RESET_CARD
            : reader.SCARD_UNPOWER_CARD;
      await call<void>(`disconnecting from ${reader.name}`, (cb) =>
        reader.disconnect(d, (err) => cb(err, undefined)),
      );
    },
    async transmit(command) {
      const r = await call<Uint8Array>("transmit", (cb) =>
        reader.transmit(Buffer.from(command), MAX_RESPONSE, protocol, cb),
      );
      return new Uint8Array(r);
    },
    async control(code, data) {
      const r = await call<Uint8Array>("reader control", (cb) =>
        reader.control(Buffer.from(data), code, MAX_RESPONSE, cb),
      );
      return new Uint8Array(r);
    },
    controlCode: (n) => reader.SCARD_CTL_CODE(n),
    async atr() {
      return currentAtr() ?? new Uint8Array(0);
    },
  };
}
