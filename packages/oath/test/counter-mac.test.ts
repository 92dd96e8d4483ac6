import { createHmac } from "node:crypto";
import { toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HmacKey } from "../src/index.js";

describe("the counter HMAC fast path", () => {
  it("equals node:crypto HMAC for random keys (short and longer than a block) and counters", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("SHA1" as const, "SHA256" as const, "SHA512" as const),
        fc.uint8Array({ minLength: 16, maxLength: 150 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (alg, key, high, low) => {
          const k = new HmacKey(key, alg);
          const msg = Buffer.alloc(8);
          msg.writeUInt32BE(high, 0);
          msg.writeUInt32BE(low, 4);
          const expected = createHmac(alg.toLowerCase(), key).update(msg).digest("hex");
          expect(toHex(k.macCounter(high, low, new Uint8Array(k.outputLength))).toLowerCase()).toBe(expected);
          expect(toHex(k.mac(msg)).toLowerCase()).toBe(expected);
          // RFC 4226 §5.3 truncation done here on node's bytes, independent of the digest-word reader.
          const mac = createHmac(alg.toLowerCase(), key).update(msg).digest();
          const o = mac[mac.length - 1]! & 15;
          expect(k.truncatedCounter(high, low)).toBe(mac.readUInt32BE(o) & 0x7fffffff);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
