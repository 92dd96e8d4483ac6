import { isCapkitError } from "@capkit/core";
import {
  CapCodeModel,
  type CapInputs,
  type CapIssuerRecord,
  CryptogramCalculator,
  type CryptogramMac,
  cryptogramSpec,
  testIccMasterKey,
} from "@capkit/emv-cap";
import { issuerRecordOf, newSimCardState, SIM_CARD_PROFILES } from "@capkit/token-sim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "../src/index.js";

/**
 * A CAP verification MACs only the blocks from the ATC on: the CBC state of the MAC input's blocks before the
 * ATC is kept with the card's keyed engine (CapCodeModel.forInputs, RetailMacKey.prefix), cached by the Verifier
 * with the credential. These tests hold that shortcut to the whole MAC, and the cache to the credential's
 * current key and parameters.
 */

/** The same card's cryptograms with no state kept: every MAC over the whole input, from the first block. */
function wholeMac(record: CapIssuerRecord): CryptogramMac {
  const calc = new CryptogramCalculator(cryptogramSpec(record.cryptogramVersion), testIccMasterKey(record));
  return {
    spec: calc.spec,
    macPrefix: () => undefined,
    macInto: (data, atc, un, out, offset) => calc.macInto(data, atc, un, out, offset),
  };
}

const PROFILES = Object.keys(SIM_CARD_PROFILES);

/** Any inputs a reader sends; a card that cannot sign them (no amount in its cryptogram) refuses them. */
const inputs: fc.Arbitrary<CapInputs> = fc.oneof(
  fc.constant({ mode: "identify" } as const),
  fc
    .array(fc.stringMatching(/^[0-9]{1,10}$/), { minLength: 1, maxLength: 10 })
    .map((tds) => ({ mode: "identify", tds }) as const),
  fc.stringMatching(/^[1-9][0-9]{0,7}$/).map((challenge) => ({ mode: "respond", challenge }) as const),
  fc
    .record({
      challenge: fc.stringMatching(/^[1-9][0-9]{0,7}$/),
      amount: fc.integer({ min: 0, max: 99_999_999 }).map((c) => (c / 100).toFixed(2)),
      currency: fc.option(fc.constantFrom("978", "826", "840"), { nil: undefined }),
    })
    .map(({ currency, ...r }) => ({ mode: "sign", ...r, ...(currency ? { currency } : {}) }) as const),
);

/** The inputs' code function, or undefined when the card refuses them (the same on both paths). */
function codeAt(model: CapCodeModel, i: CapInputs): ((atc: number) => number) | undefined {
  try {
    return model.forInputs(i);
  } catch (e) {
    if (isCapkitError(e)) return undefined;
    throw e;
  }
}

describe("the CBC state kept before the ATC", () => {
  it("gives the whole MAC's code for any card profile, inputs and ATC", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        inputs,
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 }),
        (profile, i, atcs) => {
          const record = issuerRecordOf(newSimCardState(profile, "1234"));
          const kept = codeAt(new CapCodeModel(record, testIccMasterKey(record)), i);
          const whole = codeAt(new CapCodeModel(record, wholeMac(record)), i);
          expect(kept === undefined).toBe(whole === undefined);
          // Several ATCs through one function, in any order: the kept state is read, never moved on.
          for (const atc of atcs) if (kept && whole) expect(kept(atc)).toBe(whole(atc));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the Verifier accepts exactly the whole MAC's code, ATC after ATC, on every profile", async () => {
    const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PROFILES),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        async (profile, steps) => {
          const verifier = new Verifier({ store: new MemoryStore(), keys });
          const record = issuerRecordOf({ ...newSimCardState(profile, "1234"), atc: 0 });
          await verifier.enroll({ id: "card", kind: "cap", record, lastAtc: 0 });
          const whole = new CapCodeModel(record, wholeMac(record)).forInputs({ mode: "identify" });
          let atc = 0;
          for (const step of steps) {
            atc += step;
            const code = String(whole(atc)); // a code is a number: its leading zeros change nothing
            expect(await verifier.verify({ id: "card", code })).toMatchObject({
              result: "accepted",
              counter: atc,
            });
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("the kept state goes with the credential's key and parameters", () => {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
  const card = () => issuerRecordOf({ ...newSimCardState("sesame", "1234"), atc: 0 });
  const code = (record: CapIssuerRecord, atc: number) =>
    String(new CapCodeModel(record, wholeMac(record)).forInputs({ mode: "identify" })(atc));

  it("revoked, then enrolled again with another card under the same id: only the new card's codes", async () => {
    const store = new MemoryStore();
    const verifier = new Verifier({ store, keys });
    const [a, b] = [card(), card()];
    await verifier.enroll({ id: "c", kind: "cap", record: a, lastAtc: 0 });
    expect((await verifier.verify({ id: "c", code: code(a, 1) })).result).toBe("accepted");
    await verifier.revoke("c");
    await verifier.enroll({ id: "c", kind: "cap", record: b, lastAtc: 0 });
    expect((await verifier.verify({ id: "c", code: code(a, 2) })).result).toBe("rejected");
    expect((await verifier.verify({ id: "c", code: code(b, 3) })).result).toBe("accepted");
  });

  it("changed by another process (revoked and enrolled again there): this one's cached engine is not used", async () => {
    const store = new MemoryStore();
    const here = new Verifier({ store, keys });
    const there = new Verifier({ store, keys });
    const [a, b] = [card(), card()];
    await here.enroll({ id: "c", kind: "cap", record: a, lastAtc: 0 });
    expect((await here.verify({ id: "c", code: code(a, 1) })).result).toBe("accepted"); // a's engine cached here
    await there.revoke("c");
    await there.enroll({ id: "c", kind: "cap", record: b, lastAtc: 0 });
    // Judged on the stale entry, the accept is refused for its version: read again, judged with b's engine.
    expect((await here.verify({ id: "c", code: code(b, 2) })).result).toBe("accepted");
    expect((await here.verify({ id: "c", code: code(a, 3) })).result).toBe("rejected");
  });

  it("parameters changed under the same key (another reader's constants): the new reader's codes", async () => {
    const store = new MemoryStore();
    const here = new Verifier({ store, keys });
    const there = new Verifier({ store, keys });
    const a = card();
    // The same card key, read by a reader sending the CAP constants (date 000000, not Visa DPA's 010101): the
    // MAC input differs before the ATC, in the blocks whose CBC state is kept.
    const { readerApplication: _, ...rest } = a;
    const other: CapIssuerRecord = { ...rest, profile: "rabobank" };
    await here.enroll({ id: "c", kind: "cap", record: a, lastAtc: 0 });
    expect((await here.verify({ id: "c", code: code(a, 1) })).result).toBe("accepted");
    expect(code(other, 2)).not.toBe(code(a, 2));
    await there.revoke("c");
    await there.enroll({ id: "c", kind: "cap", record: other, lastAtc: 1 });
    expect((await here.verify({ id: "c", code: code(a, 2) })).result).toBe("rejected");
    expect((await here.verify({ id: "c", code: code(other, 3) })).result).toBe("accepted");
  });

  it("re-sealed under a new master key (rekey): the card's key is the same, and so are its codes", async () => {
    const old = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true });
    const rotated = {
      ...SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }),
      previousMasterKeys: [old.masterKey],
    };
    const store = new MemoryStore();
    const before = new Verifier({ store, keys: new SoftwareKeyProvider(old) });
    const a = card();
    await before.enroll({ id: "c", kind: "cap", record: a, lastAtc: 0 });
    expect((await before.verify({ id: "c", code: code(a, 1) })).result).toBe("accepted");
    const after = new Verifier({ store, keys: new SoftwareKeyProvider(rotated) });
    expect((await after.rekey()).resealed).toBe(1);
    expect((await after.verify({ id: "c", code: code(a, 2) })).result).toBe("accepted");
    expect((await before.verify({ id: "c", code: code(a, 3) })).result).toBe("accepted");
  });
});
