import { CapkitError, fromHex, toHex } from "@capkit/core";

/**
 * An Answer To Reset decoded (ISO/IEC 7816-3 §8.2): TS gives the convention, T0 the interface-byte map and the
 * number of historical bytes, each TDi the next map and a protocol, and TCK (present when a protocol other
 * than T=0 is offered) makes the XOR of T0…TCK zero.
 */
export interface DecodedAtr {
  /** The ATR, hex. */
  readonly atr: string;
  /**
   * TS = 3B: direct; TS = 3F: inverse (French bank cards, which need a warm reset;
   * https://github.com/capkit/capkit/blob/main/docs/architecture.md §3.2).
   */
  readonly convention: "direct" | "inverse";
  /** The protocols offered, first the one the card starts with ("T=0", "T=1"…). */
  readonly protocols: readonly string[];
  /** TA1 as Fi/Di (ISO/IEC 7816-3 Tables 7 and 8), when present. */
  readonly ta1?: string;
  /** The historical bytes, hex. */
  readonly historicalBytes: string;
  /** TCK is present and correct (true), wrong (false), or absent (undefined: T=0 only). */
  readonly checksumOk?: boolean;
}

const TS_DIRECT = 0x3b;
const TS_INVERSE = 0x3f;
/** Y bits of T0/TDi: TAi, TBi, TCi and TDi follow. */
const Y_TA = 0x10;
const Y_TB = 0x20;
const Y_TC = 0x40;
const Y_TD = 0x80;

/**
 * Decodes an ATR.
 *
 * @throws `INPUT_INVALID` for hex that is not an ATR (too short, truncated interface bytes)
 */
export function decodeAtr(hex: string): DecodedAtr {
  const atr = fromHex(hex, "ATR");
  const bad = (why: string) => new CapkitError("INPUT_INVALID", `ATR ${toHex(atr)}: ${why}`);
  if (atr.length < 2) throw bad("too short");
  const ts = atr[0]!;
  if (ts !== TS_DIRECT && ts !== TS_INVERSE)
    throw bad(`TS ${toHex(atr.subarray(0, 1))} is neither 3B nor 3F`);
  const t0 = atr[1]!;
  const historicalCount = t0 & 0x0f;
  let y = t0 & 0xf0;
  let pos = 2;
  let i = 1;
  let ta1: number | undefined;
  const protocols: number[] = [];
  while (true) {
    const take = () => {
      if (pos >= atr.length) throw bad("ends inside its interface bytes");
      return atr[pos++]!;
    };
    if (y & Y_TA) {
      const ta = take();
      if (i === 1) ta1 = ta;
    }
    if (y & Y_TB) take();
    if (y & Y_TC) take();
    if (!(y & Y_TD)) break;
    const td = take();
    protocols.push(td & 0x0f);
    y = td & 0xf0;
    i++;
  }
  if (pos + historicalCount > atr.length) throw bad("is shorter than its historical bytes");
  const historical = atr.subarray(pos, pos + historicalCount);
  pos += historicalCount;
  // No TD1: T=0 only (§8.2.3). TCK is present unless the only protocol is T=0 (§8.2.5).
  const offered = protocols.length === 0 ? [0] : [...new Set(protocols.filter((p) => p !== 15))];
  const tckPresent = offered.some((p) => p !== 0);
  let checksumOk: boolean | undefined;
  if (tckPresent) {
    if (pos >= atr.length) checksumOk = false;
    else {
      let x = 0;
      for (let k = 1; k <= pos; k++) x ^= atr[k]!;
      checksumOk = x === 0;
      pos++;
    }
  }
  if (pos !== atr.length) throw bad(`has ${atr.length - pos} byte(s) after its end`);
  return {
    atr: toHex(atr),
    convention: ts === TS_DIRECT ? "direct" : "inverse",
    protocols: offered.map((p) => `T=${p}`),
    ...(ta1 !== undefined ? { ta1: `Fi/Di ${FI[ta1 >> 4] ?? "RFU"}/${DI[ta1 & 0x0f] ?? "RFU"}` } : {}),
    historicalBytes: toHex(historical),
    ...(checksumOk !== undefined ? { checksumOk } : {}),
  };
}

// ISO/IEC 7816-3 Table 7 (Fi) and Table 8 (Di).
const FI: Record<number, number> = {
  0: 372,
  1: 372,
  2: 558,
  3: 744,
  4: 1116,
  5: 1488,
  6: 1860,
  9: 512,
  10: 768,
  11: 1024,
  12: 1536,
  13: 2048,
};
const DI: Record<number, number> = { 1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 6: 32, 7: 64, 8: 12, 9: 20 };

/**
 * The ATR as pcsc-tools writes it: upper-case bytes separated by spaces.
 *
 * @throws `HEX_INVALID` for text that is not hex (an odd digit is never dropped), `INPUT_INVALID` for a
 * non-string
 */
export function spacedAtr(hex: string): string {
  return toHex(fromHex(hex, "the ATR")).match(/../g)?.join(" ") ?? "";
}
