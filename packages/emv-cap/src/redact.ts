import { asciiToBytes, fromHex, toHex } from "@capkit/core";
import { INS } from "./protocol/commands.js";
import { TAG } from "./protocol/tags.js";
import { isConstructedTag, readLength, readTag } from "./tlv.js";
import type { Transcript, TranscriptExchange } from "./transcript.js";

/**
 * What a shared trace must not carry (docs/transcript-format.md, "Redaction"):
 * - cardholder data (PCI DSS: PAN, cardholder name, expiry date, service code, and full track data), none of
 *   which enters a CAP code;
 * - the code itself: the cryptogram (AC) of every GENERATE AC answer. The code's bits come from [PSN] CID ATC
 *   AC IAD; all but the AC are the same in every session or follow the ATC, which the bank knows anyway, so
 *   the AC's 16–20 bits are the code's secret part. Without them a trace of an unused code gives it away no
 *   better than a guess, and replaying it reproduces the dialogue but no code (`CODE_NOT_KEPT`).
 */
export const CARDHOLDER_DATA_TAGS: Readonly<Record<number, string>> = {
  [TAG.PAN]: "PAN",
  [TAG.TRACK2_EQUIVALENT]: "track 2 equivalent data",
  [TAG.EXPIRY]: "expiry date",
  [TAG.CARDHOLDER_NAME]: "cardholder name",
  [TAG.CARDHOLDER_NAME_EXTENDED]: "cardholder name extended",
  [TAG.SERVICE_CODE]: "service code",
  [TAG.TRACK1]: "track 1 data",
  [TAG.TRACK1_DISCRETIONARY]: "track 1 discretionary data",
  [TAG.TRACK2_DISCRETIONARY]: "track 2 discretionary data",
  [TAG.TRACK2_DATA]: "track 2 data",
};

/** Values shorter than this are not searched for outside their tag (too many chance matches). */
const MIN_SEARCH_BYTES = 5;

/**
 * A copy of `transcript` with every cardholder data element masked: the value nibbles of the tags above in
 * any response (inside any template), then the PAN's bytes — BCD or ASCII digits, found in 5A or in track 2 —
 * anywhere else in a response or command. Masked nibbles are written `*`, as PIN blocks already are; lengths,
 * tags and status words stay, so the structure is still there for whoever reads it.
 */
export function redactTranscript(transcript: Transcript): Transcript {
  const secrets: Uint8Array[] = [];
  const masked = transcript.exchanges.map((e) => {
    const { data, sw, mask } = splitResponse(e.r);
    maskTagged(data, 0, data.length, mask, secrets, 0);
    return { e, data, sw, mask };
  });
  maskCryptograms(masked.map(({ e, data, mask }) => ({ ins: insOf(e.c), data, mask })));
  const needles = searchNeedles(secrets);
  const exchanges: TranscriptExchange[] = masked.map(({ e, data, sw, mask }) => {
    for (const n of needles) markAll(data, n, mask);
    return { c: redactHex(e.c, needles), r: applyMask(data, mask) + sw };
  });
  return { ...transcript, exchanges };
}

function splitResponse(r: string): { data: Uint8Array; sw: string; mask: Uint8Array } {
  // A response already holding masked nibbles (redacted before) keeps them masked; they read as 0 here.
  const hex = r.slice(0, -4);
  const data = fromHex(hex.replace(/\*/g, "0"));
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) if (hex.slice(2 * i, 2 * i + 2).includes("*")) mask[i] = 1;
  return { data, sw: r.slice(-4), mask };
}

/**
 * Walks BER-TLV leniently (a proprietary or format-1 response is not TLV all the way: the walk stops at the
 * first thing it cannot read, and the PAN search below still covers the rest).
 */
function maskTagged(
  bytes: Uint8Array,
  from: number,
  to: number,
  mask: Uint8Array,
  secrets: Uint8Array[],
  depth: number,
): void {
  if (depth > 16) return;
  let pos = from;
  while (pos < to) {
    const b = bytes[pos]!;
    if (b === 0x00 || b === 0xff) {
      pos++;
      continue;
    }
    let tag: number;
    let valueStart: number;
    let length: number;
    try {
      const t = readTag(bytes, pos);
      tag = t.tag;
      const l = readLength(bytes, t.next);
      valueStart = l.next;
      length = l.length;
    } catch {
      return;
    }
    const end = valueStart + length;
    if (end > to) return;
    if (CARDHOLDER_DATA_TAGS[tag] !== undefined) {
      // A value masked before (a trace redacted twice) is no secret to search for: its bytes read as 0.
      if (!mask.subarray(valueStart, end).includes(1)) {
        secrets.push(bytes.slice(valueStart, end));
        if (tag === TAG.TRACK2_EQUIVALENT || tag === TAG.TRACK2_DATA)
          secrets.push(panOfTrack2(bytes.subarray(valueStart, end)));
      }
      mask.fill(1, valueStart, end);
    } else if (isConstructedTag(tag)) {
      maskTagged(bytes, valueStart, end, mask, secrets, depth + 1);
    }
    pos = end;
  }
}

/** The instruction byte of a recorded command (`*` only ever stands in its data). */
function insOf(c: string): number {
  return Number.parseInt(c.slice(2, 4), 16);
}

/**
 * Masks the AC of every GENERATE AC answer (EMV 4.3 Book 3 §6.5.5.4): `9F26` inside a format-2 `77`, bytes
 * 4–11 of a format-1 `80` (CID, ATC, then the AC). A T=0 card gives its answer through GET RESPONSE (and a
 * long one in several): the exchanges of one answer are read as one and masked where its AC falls.
 */
function maskCryptograms(exchanges: readonly { ins: number; data: Uint8Array; mask: Uint8Array }[]): void {
  let answer: { data: Uint8Array; mask: Uint8Array }[] = [];
  const finish = () => {
    const whole = new Uint8Array(answer.reduce((n, p) => n + p.data.length, 0));
    let o = 0;
    for (const p of answer) {
      whole.set(p.data, o);
      o += p.data.length;
    }
    const ac = cryptogramRange(whole);
    if (ac) {
      let start = 0;
      for (const p of answer) {
        for (let i = Math.max(ac[0], start); i < Math.min(ac[1], start + p.data.length); i++)
          p.mask[i - start] = 1;
        start += p.data.length;
      }
    }
    answer = [];
  };
  for (const x of exchanges) {
    if (x.ins === INS.GENERATE_AC) {
      finish();
      answer.push(x);
    } else if (x.ins === INS.GET_RESPONSE && answer.length > 0) {
      answer.push(x);
    } else {
      finish();
    }
  }
  finish();
}

/** Where the AC is in a GENERATE AC answer, [start, end); undefined when it is not one capkit can read. */
function cryptogramRange(answer: Uint8Array): [number, number] | undefined {
  try {
    const top = readTag(answer, 0);
    const length = readLength(answer, top.next);
    const end = Math.min(answer.length, length.next + length.length);
    if (top.tag === TAG.RESPONSE_FORMAT_1) {
      const ac = length.next + 3; // after CID (1) and ATC (2)
      return ac + 8 <= end ? [ac, ac + 8] : undefined;
    }
    if (top.tag !== TAG.RESPONSE_FORMAT_2) return undefined;
    for (let pos = length.next; pos < end; ) {
      const t = readTag(answer, pos);
      const l = readLength(answer, t.next);
      if (t.tag === TAG.AC) return [l.next, Math.min(end, l.next + l.length)];
      pos = l.next + l.length;
    }
  } catch {
    return undefined; // not TLV: nothing capkit would take a code from either
  }
  return undefined;
}

/** Track 2 equivalent data (Book 3 Annex A): PAN digits, separator D, YYMM, service code, … */
function panOfTrack2(track2: Uint8Array): Uint8Array {
  const digits = toHex(track2).split("D")[0] ?? "";
  return fromHex(digits.length % 2 ? `${digits}F` : digits);
}

/** The byte strings to look for elsewhere: each PAN in BCD (with and without its F pad) and in ASCII. */
function searchNeedles(secrets: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of secrets) {
    out.push(s);
    const hex = toHex(s);
    const digits = /^[0-9]+F?$/.test(hex) ? hex.replace(/F$/, "") : undefined;
    if (digits && digits.length >= 12) {
      out.push(asciiToBytes(digits));
      if (digits.length % 2 === 1) out.push(fromHex(digits.slice(0, -1)));
    }
  }
  return out.filter((n) => n.length >= MIN_SEARCH_BYTES);
}

function markAll(hay: Uint8Array, needle: Uint8Array, mask: Uint8Array): void {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    mask.fill(1, i, i + needle.length);
  }
}

function applyMask(data: Uint8Array, mask: Uint8Array): string {
  const hex = toHex(data);
  let out = "";
  for (let i = 0; i < data.length; i++) out += mask[i] ? "**" : hex.slice(2 * i, 2 * i + 2);
  return out;
}

/** Commands are hex with `*` already (PIN blocks): mask byte-aligned occurrences of the needles. */
function redactHex(c: string, needles: readonly Uint8Array[]): string {
  let out = c;
  for (const n of needles) {
    const h = toHex(n);
    for (let i = out.indexOf(h); i >= 0; i = out.indexOf(h, i + 1)) {
      if (i % 2 === 0) out = out.slice(0, i) + "*".repeat(h.length) + out.slice(i + h.length);
    }
  }
  return out;
}
