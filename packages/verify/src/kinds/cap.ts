import { CapkitError, fromHex } from "@capkit/core";
import {
  CapCodeModel,
  type CapInputs,
  type CapIssuerRecord,
  parseCapIssuerRecord,
  readerProfile,
} from "@capkit/emv-cap";
import type { CapCardKey } from "../key-provider.js";
import type { CredentialParams, StoredCapRecord } from "../model.js";
import {
  type Attempt,
  digitChallenge,
  integerIn,
  type KindContext,
  type KindRules,
  noChallenge,
  sealedKey,
} from "./kind.js";

/**
 * A Sésame/CAP card to enrol: its issuer record (what the bank knows of the card: PAN, PSN, the issuer key it
 * was personalised under, its IPB and cryptogram version — `CapIssuerRecord` of `@capkit/emv-cap`). The PAN
 * and any test key are sealed by the key provider before anything is stored.
 */
export interface CapEnrollRequest {
  /** The credential kind. */
  readonly kind: "cap";
  /** The card as its issuer knows it (EMV CAP: the IPB says which cryptogram bits make the code). */
  readonly record: CapIssuerRecord;
  /** The last ATC already used (a card in service: 0–0xFFFF); default none. */
  readonly lastAtc?: number;
  /** ATC values searched after the last accepted one (cards also count payments); default the policy's. */
  readonly atcWindow?: number;
}

interface CapEngine {
  readonly model: CapCodeModel;
  /** Plain identify is the common case: its ATC → code function is prepared once. */
  identify: ((atc: number) => number) | undefined;
}

type CapParams = Extract<CredentialParams, { kind: "cap" }>;

/** What the key provider needs of a stored card to make its cryptogram engine. */
function cardKey(record: StoredCapRecord, sealed: string | undefined, id: string): CapCardKey {
  const { key } = record;
  return {
    pan: record.pan,
    psn: record.psn,
    cryptogramVersion: record.cryptogramVersion,
    issuerKey:
      key.kind === "sealed-test-imk"
        ? { kind: "sealed-test-imk", sealed: sealedKey(sealed, id), derivation: key.derivation }
        : key,
  };
}

/** The model of a card's codes, its cryptograms computed by the key provider's engine. */
async function capEngine(record: StoredCapRecord, sealed: string | undefined, ctx: KindContext) {
  const { pan: _pan, key: _key, ...codeRecord } = record;
  return {
    model: new CapCodeModel(codeRecord, await ctx.keys.cryptogram(ctx.id, cardKey(record, sealed, ctx.id))),
    identify: undefined,
  };
}

/**
 * Sésame / CAP cards (https://github.com/capkit/capkit/blob/main/docs/architecture.md §6): the issuer recomputes the card's code for each candidate ATC after the
 * last accepted one, searching only the ATCs whose bits the code carries (the IPB puts part of the ATC in it).
 */
export const capKind: KindRules<"cap", CapEnrollRequest, CapEngine> = {
  kind: "cap",
  defaultFunction: "identify",

  async enroll(req, ctx) {
    const { keys, id, policy } = ctx;
    const record = parseCapIssuerRecord(req.record);
    // Names looked up among their tables' own keys, "constructor" neither a profile nor a CVN (issue 20): the
    // CVN by emv-cap's cryptogramSpec when the record is parsed (tree names included), the profile here.
    readerProfile(record.profile);
    const last = req.lastAtc === undefined ? -1 : integerIn(req.lastAtc, 0, 0xffff, "lastAtc");
    const atcWindow =
      req.atcWindow === undefined ? policy.capAtcWindow : integerIn(req.atcWindow, 1, 0xffff, "atcWindow");
    // The card number and a simulated card's test key are sealed before anything is stored (PCI DSS Req. 3.5).
    const { key, pan, ...rest } = record;
    const sealed = key.kind === "test-imk" ? await keys.seal(id, "issuer-key", fromHex(key.imk)) : undefined;
    const stored: StoredCapRecord = {
      ...rest,
      pan: { sealed: await keys.seal(id, "pan", Buffer.from(pan, "ascii")) },
      key: key.kind === "test-imk" ? { kind: "sealed-test-imk", derivation: key.derivation } : key,
    };
    // The key must be there, and the card's data must make a code model, before the card is accepted for use.
    await capEngine(stored, sealed, ctx);
    return { params: { kind: "cap", record: stored, atcWindow }, last, sealed };
  },

  engine(p, sealed, ctx) {
    return capEngine(p.record, sealed, ctx);
  },

  match(engine, c, a) {
    const inputs = capInputs(a);
    if (!inputs) return undefined;
    const value = Number(a.code);
    if (!Number.isSafeInteger(value)) return undefined;
    const codeAt = capFunction(engine, inputs);
    if (!codeAt) return undefined;
    let found = -1;
    // The model knows which ATC bits its reader's code carries (the IPB's, or the Belgian formula's).
    for (const atc of engine.model.candidateAtcs(c.last, c.params.atcWindow, value)) {
      const hit = codeAt(atc) === value; // every candidate is computed: no early return
      found = found < 0 && hit ? atc : found;
    }
    return found < 0 ? undefined : { counter: found, offset: found - c.last - 1 };
  },

  resync(engine, c, code1, code2, window) {
    const f = capFunction(engine, { mode: "identify" });
    const v1 = Number(code1);
    const v2 = Number(code2);
    if (!f) return undefined;
    for (const atc of engine.model.candidateAtcs(c.last, window, v1)) {
      if (atc < 0xffff && f(atc) === v1 && f(atc + 1) === v2) return atc + 1;
    }
    return undefined;
  },

  challenge(p: CapParams, fn) {
    if (fn !== "respond" && fn !== "sign") noChallenge("cap", fn);
    return digitChallenge(readerProfile(p.record.profile).challengeMaxDigits);
  },
};

const IDENTIFY: CapInputs = Object.freeze({ mode: "identify" });

function capInputs(a: Attempt): CapInputs | undefined {
  if (a.fn === "identify") return a.tds ? { mode: "identify", tds: a.tds } : IDENTIFY;
  if (a.fn === "respond" && a.challenge) return { mode: "respond", challenge: a.challenge };
  if (a.fn === "sign" && a.challenge && a.amount !== undefined) {
    return {
      mode: "sign",
      challenge: a.challenge,
      amount: a.amount,
      ...(a.currency ? { currency: a.currency } : {}),
    };
  }
  return undefined;
}

function capFunction(engine: CapEngine, inputs: CapInputs): ((atc: number) => number) | undefined {
  const plain = inputs.mode === "identify" && !inputs.tds;
  if (plain && engine.identify) return engine.identify;
  let f: (atc: number) => number;
  try {
    f = engine.model.forInputs(inputs);
  } catch (e) {
    if (e instanceof CapkitError) return undefined; // inputs this card cannot sign: a rejected code
    throw e;
  }
  if (plain) engine.identify = f;
  return f;
}
