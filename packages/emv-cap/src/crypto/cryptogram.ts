import { CapkitError, concat, writeUint, xor } from "@capkit/core";
import { aesCmac, aesCommonSessionKey } from "./aes.js";
import { TdesKey } from "./des.js";
import type { MasterKeyDerivation } from "./keys.js";
import { type MacPrefix, macAlg3, type Padding, RetailMacKey } from "./mac.js";
import {
  checkTreeParameters,
  emvSessionKey,
  mastercardSessionKey,
  type TreeParameters,
  treeSessionKey,
} from "./session-keys.js";

/**
 * What a card MACs for an application cryptogram, per Cryptogram Version Number:
 * AC = MAC_SK(Table 26 terminal data ‖ AIP ‖ ATC ‖ card data), where the terminal data is the EMV Book 2 §8.1.1
 * Table 26 set picked by tag from the CDOL1 values (`CryptogramDataSelection`), and the card data, the session
 * key and the padding depend on the CVN (Visa VIS for CVN 10/18/22, M/Chip for 16/17/20/21; the selection is
 * the one of pyemv's `cvn.py`, whose independent cryptograms the tests check).
 */
export type SessionKeyMethod =
  | { readonly kind: "none" }
  | { readonly kind: "emv-csk" }
  | { readonly kind: "mastercard" }
  | ({ readonly kind: "emv2000-tree" } & TreeParameters)
  | { readonly kind: "aes-csk" };

/**
 * - `cvr4`: Visa IAD `len DKI CVN CVR(4, with its own length byte)` → IAD[3..7)
 * - `cvr6`: M/Chip IAD `KDI CVN CVR(6) DAC(2) counters(8)` → IAD[2..8)
 * - `cvr6-counters`: the CVR then the 8 counter bytes, IAD[10..18)
 * - `iad`: the whole IAD
 */
export type CardDataRule = "cvr4" | "cvr6" | "cvr6-counters" | "iad";

export interface CryptogramSpec {
  readonly masterKey: MasterKeyDerivation;
  readonly sessionKey: SessionKeyMethod;
  readonly cardData: CardDataRule;
  /** ISO 9797-1 padding of the MAC input; ignored on the AES path (CMAC pads itself). */
  readonly padding: Padding;
}

export const CRYPTOGRAM_VERSIONS = {
  /** Visa CVN 10: the ICC master key MACs directly; seen in UK and French DPA IADs (`06 xx 0A 03 …`). */
  "visa-10": { masterKey: "A", sessionKey: { kind: "none" }, cardData: "cvr4", padding: 1 },
  "visa-18": { masterKey: "B", sessionKey: { kind: "emv-csk" }, cardData: "iad", padding: 2 },
  "visa-22": { masterKey: "B", sessionKey: { kind: "emv-csk" }, cardData: "iad", padding: 2 },
  "mastercard-16": { masterKey: "A", sessionKey: { kind: "mastercard" }, cardData: "cvr6", padding: 2 },
  "mastercard-17": {
    masterKey: "A",
    sessionKey: { kind: "mastercard" },
    cardData: "cvr6-counters",
    padding: 2,
  },
  "mastercard-20": { masterKey: "A", sessionKey: { kind: "emv-csk" }, cardData: "cvr6", padding: 2 },
  "mastercard-21": { masterKey: "A", sessionKey: { kind: "emv-csk" }, cardData: "cvr6-counters", padding: 2 },
  "interac-133": { masterKey: "A", sessionKey: { kind: "mastercard" }, cardData: "iad", padding: 2 },
  /**
   * The EMV2000 tree of emvlab.org's CAP calculator: b = 4, H = 8, IV 0, CVR(6). Other trees are named
   * `emv2000-tree-b{b}-h{H}` (`cryptogramSpec`).
   */
  "emv2000-tree": {
    masterKey: "A",
    sessionKey: { kind: "emv2000-tree", height: 8, branch: 4 },
    cardData: "cvr6",
    padding: 2,
  },
  /** EMV AES common session key + AES-CMAC (Book 2 A1.3.1; no public CAP trace uses it). */
  "emv-aes": { masterKey: "A", sessionKey: { kind: "aes-csk" }, cardData: "iad", padding: 2 },
} as const satisfies Record<string, CryptogramSpec>;

export type CryptogramVersionName = keyof typeof CRYPTOGRAM_VERSIONS;

/** `emv2000-tree-b2-h16`: an EMV2000 tree of branch factor b and height H (EMV 4.1 Book 2 A1.3). */
const TREE_VERSION = /^emv2000-tree-b([0-9]{1,5})-h([0-9]{1,2})$/;
/**
 * One spec object per tree name, as for the table's versions: a key provider's cryptogram engine and the code
 * model compare specs by identity (`CapCodeModel`). At most 65535 × 16 valid names, made only when used.
 */
const TREE_SPECS = new Map<string, CryptogramSpec>();

/**
 * A cryptogram version by name: one of `CRYPTOGRAM_VERSIONS` (a table's own names only: `constructor` is
 * none), or `emv2000-tree-b{b}-h{H}` for any EMV2000 tree the specification allows (`checkTreeParameters`),
 * with emvlab's card data (CVR(6), IV 0).
 */
export function cryptogramSpec(name: string): CryptogramSpec {
  if (Object.hasOwn(CRYPTOGRAM_VERSIONS, name))
    return (CRYPTOGRAM_VERSIONS as Record<string, CryptogramSpec>)[name]!;
  const tree = TREE_VERSION.exec(name);
  if (tree) {
    const known = TREE_SPECS.get(name);
    if (known) return known;
    const params = { branch: Number(tree[1]), height: Number(tree[2]) };
    try {
      checkTreeParameters(params);
    } catch (e) {
      throw new CapkitError("PROFILE_INVALID", `cryptogram version "${name}": ${(e as Error).message}`);
    }
    const spec: CryptogramSpec = Object.freeze({
      ...CRYPTOGRAM_VERSIONS["emv2000-tree"],
      sessionKey: Object.freeze({ kind: "emv2000-tree" as const, ...params }),
    });
    TREE_SPECS.set(name, spec);
    return spec;
  }
  throw new CapkitError("PROFILE_INVALID", `unknown cryptogram version "${name}"`, {
    hint: `known: ${Object.keys(CRYPTOGRAM_VERSIONS).join(", ")}, and emv2000-tree-b{b}-h{H} for other EMV2000 trees`,
  });
}

/** The card-internal data a CVN appends to the MAC input, taken from the IAD the card returned (9F10). */
export function cardDataFromIad(rule: CardDataRule, iad: Uint8Array): Uint8Array {
  const need = { cvr4: 7, cvr6: 8, "cvr6-counters": 18, iad: 0 }[rule];
  if (iad.length < need) {
    throw new CapkitError(
      "INPUT_INVALID",
      `IAD of ${iad.length} bytes is too short for ${rule} (needs ${need})`,
    );
  }
  switch (rule) {
    case "cvr4":
      return iad.subarray(3, 7);
    case "cvr6":
      return iad.subarray(2, 8);
    case "cvr6-counters":
      return concat(iad.subarray(2, 8), iad.subarray(10, 18));
    case "iad":
      return iad;
  }
}

export interface CryptogramInput {
  /** The Table 26 values picked from the CDOL1 data (`CryptogramDataSelection.select`), 29 bytes usually. */
  readonly terminalData: Uint8Array;
  readonly aip: Uint8Array;
  readonly atc: number;
  /** Unpredictable number 9F37, needed by the MasterCard session key. */
  readonly un?: Uint8Array;
  readonly iad: Uint8Array;
  /**
   * The card data after AIP ‖ ATC as the card MACs it, when it is not the CVN's slice of the IAD it returns
   * (emvlab.org's calculator: CVR `A50006040000` MACed, IAD `06770A03A48000` returned).
   */
  readonly cardData?: Uint8Array;
}

export function cryptogramMacInput(spec: CryptogramSpec, input: CryptogramInput): Uint8Array {
  return concat(
    input.terminalData,
    input.aip,
    writeUint(input.atc, 2),
    input.cardData ?? cardDataFromIad(spec.cardData, input.iad),
  );
}

/**
 * The keyed part of a card's cryptograms: the MAC of a CVN's input for one ATC (`cryptogramMacInput`).
 * `CryptogramCalculator` computes it in this process from the ICC master key; a key store that keeps the keys
 * elsewhere (an HSM, through @capkit/verify's key providers) implements the same three members, so the code
 * model never needs the key. A prefix from `macPrefix` is opaque and valid only for the object that made it.
 */
export interface CryptogramMac {
  readonly spec: CryptogramSpec;
  /** State to resume from for inputs sharing their bytes before `stable`; undefined when none is kept. */
  macPrefix(data: Uint8Array, stable: number): unknown;
  /** The 8-byte cryptogram over `data` for `atc` (and `un`: MasterCard session keys), into `out` at `offset`. */
  macInto(
    data: Uint8Array,
    atc: number,
    un: Uint8Array | undefined,
    out: Uint8Array,
    offset: number,
    prefix?: unknown,
  ): Uint8Array;
}

/**
 * Computes application cryptograms for one ICC master key. Where the CVN uses no session key the prepared
 * MAC key is kept, so recomputing many ATCs (a verifier's look-ahead window) costs MACs only.
 */
export class CryptogramCalculator implements CryptogramMac {
  readonly spec: CryptogramSpec;
  readonly #mk: Uint8Array;
  /** The master key prepared once for the 3DES session-key derivations. */
  readonly #mkCipher: TdesKey;
  readonly #fixedKey: RetailMacKey | undefined;

  constructor(spec: CryptogramSpec, iccMasterKey: Uint8Array) {
    if (iccMasterKey.length !== 16) throw new CapkitError("KEY_INVALID", "an ICC master key is 16 bytes");
    this.spec = spec;
    this.#mk = iccMasterKey.slice();
    this.#mkCipher = new TdesKey(this.#mk);
    this.#fixedKey = spec.sessionKey.kind === "none" ? new RetailMacKey(this.#mk) : undefined;
  }

  /** The session key for one transaction (the master key itself for `none`). */
  sessionKey(atc: number, un?: Uint8Array): Uint8Array {
    const m = this.spec.sessionKey;
    switch (m.kind) {
      case "none":
        return this.#mk.slice();
      case "emv-csk":
        return emvSessionKey(this.#mkCipher, atc);
      case "mastercard":
        if (!un)
          throw new CapkitError("INPUT_INVALID", "the MasterCard session key needs the unpredictable number");
        return mastercardSessionKey(this.#mkCipher, atc, un);
      case "emv2000-tree":
        return treeSessionKey(this.#mk, atc, m);
      case "aes-csk":
        return aesCommonSessionKey(this.#mk, atc);
    }
  }

  /** The 8-byte application cryptogram. */
  compute(input: CryptogramInput): Uint8Array {
    return this.mac(cryptogramMacInput(this.spec, input), input.atc, input.un);
  }

  /**
   * The cryptogram over an already built MAC input (`cryptogramMacInput`): a verifier scanning ATCs rewrites
   * the two ATC bytes of one buffer instead of building a new input per candidate.
   */
  mac(data: Uint8Array, atc: number, un?: Uint8Array): Uint8Array {
    return this.macInto(data, atc, un, new Uint8Array(8), 0);
  }

  /**
   * Where the key is the same for every ATC (no session key), the CBC state of the whole blocks before byte
   * `stable` of a MAC input, for `macInto` to resume from: a verifier's candidates differ only from the ATC on.
   */
  macPrefix(data: Uint8Array, stable: number): MacPrefix | undefined {
    return this.#fixedKey?.prefix(data, Math.floor(stable / 8));
  }

  /** `mac`, written into `out` at `offset`; `prefix` from `macPrefix` over the same leading bytes. */
  macInto(
    data: Uint8Array,
    atc: number,
    un: Uint8Array | undefined,
    out: Uint8Array,
    offset: number,
    prefix?: unknown,
  ): Uint8Array {
    if (this.spec.sessionKey.kind === "aes-csk") {
      out.set(aesCmac(this.sessionKey(atc), data).subarray(0, 8), offset);
      return out;
    }
    if (this.#fixedKey)
      return this.#fixedKey.macInto(data, this.spec.padding, out, offset, prefix as MacPrefix | undefined);
    return new RetailMacKey(this.sessionKey(atc, un)).macInto(data, this.spec.padding, out, offset);
  }
}

/** ARPC method 1 (Book 2 A1.2.1): 3DES_K(ARQC ⊕ (ARC ‖ 00…00)). */
export function arpcMethod1(key: Uint8Array, arqc: Uint8Array, arc: Uint8Array): Uint8Array {
  if (arc.length !== 2) throw new CapkitError("INPUT_INVALID", "the ARC is 2 bytes");
  return new TdesKey(key).encryptEcb(xor(arqc, concat(arc, new Uint8Array(6))));
}

/** ARPC method 2 (Book 2 A1.2.2): the first 4 bytes of MAC alg. 3 over ARQC ‖ CSU ‖ proprietary data. */
export function arpcMethod2(
  key: Uint8Array,
  arqc: Uint8Array,
  csu: Uint8Array,
  proprietary: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return macAlg3(key, concat(arqc, csu, proprietary), 2).subarray(0, 4);
}
