import { fromHex } from "@capkit/core";
import { IAF_PSN_IN_IPB } from "./code.js";

/**
 * Which ATCs a CAP code can come from (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6), for an
 * issuer recomputing codes. The IPB
 * selects bits of [PSN] ‖ CID ‖ ATC ‖ AC ‖ IAD (the order `ipbSourceData` builds); the code's bits that land on
 * the ATC fix those ATC bits (usually the low byte), so of the ATCs after the last accepted one only those that
 * agree are worth a cryptogram. A constraint is a mask/value pair over the 16-bit ATC.
 */
export interface AtcConstraint {
  readonly mask: number;
  readonly value: number;
}

/** Where the code's bits land on the ATC: for each, its weight in the code and its bit in the ATC. */
export interface AtcBitMap {
  readonly mask: number;
  readonly bits: readonly { readonly weight: number; readonly atcBit: number }[];
}

/** Computed once per card: walks the IPB as the reader does (MSB first) and keeps the ATC bits. */
export function atcBitMap(ipbHex: string, iafHex: string): AtcBitMap {
  const ipb = fromHex(ipbHex);
  const psn = (fromHex(iafHex)[0]! & IAF_PSN_IN_IPB) !== 0 ? 1 : 0;
  const atcHigh = psn + 1; // data = [PSN] CID ATC(2) …
  let total = 0;
  for (const b of ipb) for (let v = b; v; v >>= 1) total += v & 1;
  let k = 0;
  let mask = 0;
  const bits: { weight: number; atcBit: number }[] = [];
  for (let i = 0; i < ipb.length; i++) {
    for (let b = 7; b >= 0; b--) {
      if (((ipb[i]! >> b) & 1) === 0) continue;
      const weight = 2 ** (total - 1 - k++);
      if (i === atcHigh || i === atcHigh + 1) {
        const atcBit = (i === atcHigh ? 8 : 0) + b;
        mask |= 1 << atcBit;
        bits.push({ weight, atcBit });
      }
    }
  }
  return { mask, bits };
}

export function atcConstraint(map: AtcBitMap, code: number): AtcConstraint {
  let value = 0;
  for (const { weight, atcBit } of map.bits) value |= (Math.floor(code / weight) % 2) << atcBit;
  return { mask: map.mask, value };
}

/**
 * ATCs in (last, last + window] that agree with the constraint, at most up to 0xFFFF. The ATC bits below the
 * lowest one the code leaves free are all fixed (a Sésame IPB fixes the low 9), so only every 2^k-th ATC can
 * agree: the scan steps by that much from the first ATC whose low bits agree, not ATC by ATC.
 */
export function candidateAtcs(last: number, window: number, c: AtcConstraint): number[] {
  const out: number[] = [];
  const end = Math.min(0xffff, last + window);
  const step = ~c.mask & (c.mask + 1); // the lowest bit the constraint leaves free: 2^k
  const low = c.value & (step - 1);
  let atc = last + 1;
  atc += (low - (atc & (step - 1)) + step) & (step - 1);
  for (; atc <= end; atc += step) if ((atc & c.mask) === c.value) out.push(atc);
  return out;
}
