import { randomBytes } from "node:crypto";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { expect, it } from "vitest";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "../src/index.js";

/**
 * Two consecutive TOTP steps can share a 6-digit code (1 in 10^6). With a ±1 window the previous, already
 * accepted step is in the window: the verifier must still accept the new step's code, and only once.
 */
it("a TOTP code equal to the previous (used) step's code is accepted at its own step", async () => {
  // Find a secret and step with code(s) === code(s + 1): 6 digits, about 10^6 tries on average.
  let secret = randomBytes(20);
  let step = 0;
  for (let found = false; !found; ) {
    secret = randomBytes(20);
    const gen = new HotpGenerator(new HmacKey(secret), 6);
    let prev = gen.code(0);
    for (let s = 1; s < 200_000 && !found; s++) {
      const c = gen.code(s);
      if (c === prev) {
        found = true;
        step = s - 1;
      }
      prev = c;
    }
  }
  let now = step * 30_000;
  const verifier = new Verifier({
    store: new MemoryStore(),
    keys: new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial()),
    now: () => now,
  });
  await verifier.enroll({ id: "t", kind: "totp", secret });
  const code = new HotpGenerator(new HmacKey(secret), 6).code(step);
  expect(await verifier.verify({ id: "t", code })).toMatchObject({ result: "accepted", counter: step });
  now += 30_000;
  expect(await verifier.verify({ id: "t", code })).toMatchObject({ result: "accepted", counter: step + 1 });
  expect((await verifier.verify({ id: "t", code })).result).toBe("rejected");
}, 60_000);
