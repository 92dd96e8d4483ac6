/**
 * The part of npm pcsclite 1.0.x that capkit uses (its own typings keep these interfaces private). Bytes are
 * typed `Uint8Array` (pcsclite hands out Buffers, a subclass; capkit passes it Buffers) so that capkit's
 * published types never need `@types/node`.
 */
export interface PcscliteReader {
  readonly name: string;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_EXCLUSIVE: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  on(event: "status", listener: (status: { state: number; atr?: Uint8Array }) => void): this;
  on(event: "end", listener: () => void): this;
  on(event: "error", listener: (error: unknown) => void): this;
  SCARD_CTL_CODE(code: number): number;
  connect(
    options: { share_mode: number; protocol: number },
    cb: (err: unknown, protocol: number) => void,
  ): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  transmit(
    data: Uint8Array,
    resLen: number,
    protocol: number,
    cb: (err: unknown, response: Uint8Array) => void,
  ): void;
  control(
    data: Uint8Array,
    code: number,
    resLen: number,
    cb: (err: unknown, response: Uint8Array) => void,
  ): void;
  close(): void;
}

export interface PcscliteContext {
  on(event: "reader", listener: (reader: PcscliteReader) => void): this;
  on(event: "error", listener: (error: unknown) => void): this;
  close(): void;
}

export type PcscliteFactory = () => PcscliteContext;
