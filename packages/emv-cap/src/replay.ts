import { CapkitError, fromHex, toHex } from "@capkit/core";
import { maskedCommandHex, parseCommand } from "./apdu.js";
import type { CardConnection } from "./connection.js";
import { INS } from "./protocol/commands.js";
import { parseTranscript, type Transcript } from "./transcript.js";

export interface ReplayOptions {
  /** Require commands in the recorded order (default: any unused matching exchange, first one wins). */
  readonly strict?: boolean;
}

/**
 * A card that answers from a recorded transcript (docs/transcript-format.md): tests and support staff reproduce a
 * customer's session without the card. Nothing is guessed: a command with no recorded match is an error.
 */
export class ReplayConnection implements CardConnection {
  readonly atr: Uint8Array;
  readonly #transcript: Transcript;
  readonly #used: boolean[];
  readonly #strict: boolean;
  #closed = false;
  /** The last answer served belongs to a GENERATE AC (its own, or a GET RESPONSE fetching it). */
  #inGenerateAc = false;
  #cryptogramMasked = false;

  constructor(transcript: Transcript | unknown, options: ReplayOptions = {}) {
    this.#transcript = parseTranscript(transcript);
    this.atr = fromHex(this.#transcript.atr);
    this.#used = this.#transcript.exchanges.map(() => false);
    this.#strict = options.strict ?? false;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new CapkitError("TRANSCRIPT_MISMATCH", "replay connection is closed");
    const forms = equivalentForms(command);
    const exchanges = this.#transcript.exchanges;
    const first = this.#used.indexOf(false);
    const range = this.#strict ? (first < 0 ? [] : [first]) : exchanges.keys();
    for (const i of range) {
      if (this.#used[i]) continue;
      const recorded = exchanges[i]!.c;
      if (forms.some((f) => matches(recorded, f))) {
        this.#used[i] = true;
        const r = exchanges[i]!.r;
        const ins = Number.parseInt(recorded.slice(2, 4), 16);
        this.#inGenerateAc = ins === INS.GENERATE_AC || (ins === INS.GET_RESPONSE && this.#inGenerateAc);
        // A masked cryptogram (a shared trace): the dialogue goes on, and the engine is told no code is in it.
        if (this.#inGenerateAc && r.slice(0, -4).includes("*")) this.#cryptogramMasked = true;
        // Redacted nibbles replay as 0: cardholder data, never CAP input, or a cryptogram marked masked.
        return fromHex(r.replace(/\*/g, "0"));
      }
    }
    const expected = this.#strict && first >= 0 ? `; next recorded command is ${exchanges[first]!.c}` : "";
    throw new CapkitError(
      "TRANSCRIPT_MISMATCH",
      `no recorded exchange matches command ${maskedCommandHex(command)}${expected}`,
      { hint: "the card session differs from the recording (other profile, mode, challenge or AID?)" },
    );
  }

  async reset(): Promise<Uint8Array> {
    return this.atr;
  }

  /** Whether a GENERATE AC answer given so far had its cryptogram masked: no code can be computed from it. */
  cryptogramMasked(): boolean {
    return this.#cryptogramMasked;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Recorded exchanges not used yet. */
  get remaining(): number {
    return this.#used.filter((u) => !u).length;
  }
}

/**
 * A case-4 command is the same command with or without its trailing Le `00` (T=0 transports drop it, T=1
 * ones send it), so both spellings are tried.
 */
function equivalentForms(command: Uint8Array): string[] {
  const hex = toHex(command);
  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(command);
  } catch {
    return [hex];
  }
  if (parsed.data === undefined) return [hex];
  if (parsed.le === 256) return [hex, hex.slice(0, -2)];
  if (parsed.le === undefined) return [hex, `${hex}00`];
  return [hex];
}

function matches(recorded: string, actual: string): boolean {
  if (recorded.length !== actual.length) return false;
  for (let i = 0; i < recorded.length; i++) {
    const r = recorded[i];
    if (r !== "*" && r !== actual[i]) return false;
  }
  return true;
}
