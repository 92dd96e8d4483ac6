import { type CapInputs, generateCapCode, readerProfile } from "@capkit/emv-cap";
import { newSimCardState, SIM_CARD_PROFILES, SimulatedCard } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "../src/index.js";

/**
 * Every simulated card profile — including the real-card-shaped Dutch (43-byte CDOL1) and Belgian ones whose
 * CDOL1 holds more than the cryptogram covers — round-trips engine → code → verifier in every mode its IAF
 * allows. (That the codes are what a real card computes is checked against independent golden values in
 * token-sim's golden-codes test; this checks the bank side agrees with the card.)
 */
describe("the verifier accepts every simulated profile's codes end to end", () => {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
  const pin = "1234";

  for (const [name, profile] of Object.entries(SIM_CARD_PROFILES)) {
    it(`${name}: identify, respond, TDS${(Number.parseInt(profile.iaf, 16) & 0x80) !== 0 ? ", sign" : ""}`, async () => {
      const verifier = new Verifier({ store: new MemoryStore(), keys });
      const card = new SimulatedCard(newSimCardState(name, pin));
      await verifier.enroll({ id: name, kind: "cap", record: card.issuerRecord() });
      const rp = readerProfile(card.profile.readerProfile);
      const code = (inputs: CapInputs) => generateCapCode(card, inputs, { pin, profile: rp });

      const identify = await code({ mode: "identify" });
      expect(await verifier.verify({ id: name, code: identify.display })).toMatchObject({
        result: "accepted",
      });
      expect((await verifier.verify({ id: name, code: identify.code })).result).toBe("rejected");

      const ch = await verifier.issueChallenge(name, "respond");
      const respond = await code({ mode: "respond", challenge: ch.challenge });
      expect(
        (
          await verifier.verify({
            id: name,
            code: respond.code,
            function: "respond",
            challengeId: ch.challengeId,
          })
        ).result,
      ).toBe("accepted");

      const tds = await code({ mode: "identify", tds: ["1234", "3101234567"] });
      expect((await verifier.verify({ id: name, code: tds.code, tds: ["1234", "3101234567"] })).result).toBe(
        "accepted",
      );

      if ((Number.parseInt(profile.iaf, 16) & 0x80) !== 0) {
        const currency = (Number.parseInt(profile.iaf, 16) & 0x20) !== 0 ? undefined : "978";
        const chs = await verifier.issueChallenge(name, "sign");
        const sign = await code({
          mode: "sign",
          challenge: chs.challenge,
          amount: "250.00",
          ...(currency ? { currency } : {}),
        });
        expect(
          (
            await verifier.verify({
              id: name,
              code: sign.code,
              function: "sign",
              challengeId: chs.challengeId,
              amount: "250.00",
              ...(currency ? { currency } : {}),
            })
          ).result,
        ).toBe("accepted");
      }
      expect((await verifier.status(name)).failures).toBe(0);
    });
  }

  it("refuses to enrol a card whose CDOL1 lacks what its cryptogram covers, naming the tags", async () => {
    const verifier = new Verifier({ store: new MemoryStore(), keys });
    const record = new SimulatedCard(newSimCardState("sesame", pin)).issuerRecord();
    // CDOL1 without 9F1A (country) and 9F37 (unpredictable number).
    const cdol1 = "9F02069F03069505" + "5F2A029A039C01";
    await expect(
      verifier.enroll({ id: "x", kind: "cap", record: { ...record, cdol1 } }),
    ).rejects.toMatchObject({
      code: "CDOL_INCOMPLETE",
      details: { missing: ["9F1A", "9F37"] },
    });
  });
});
