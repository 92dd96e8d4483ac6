import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { fromHex, toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { macAlg1, macAlg3, pad, RetailMacKey, TdesKey } from "../src/index.js";
import { byId, V } from "./vectors.js";

const ascii = (s: string) => new TextEncoder().encode(s);

/** node:crypto reference: single DES is EDE with K‖K (OpenSSL 3 has no plain des-ecb without the legacy provider). */
function nodeEcb(key: Uint8Array, block: Uint8Array, decrypt = false): Uint8Array {
  const k = key.length === 8 ? Buffer.concat([key, key]) : Buffer.from(key);
  const name = k.length === 24 ? "des-ede3-ecb" : "des-ede-ecb";
  const c = decrypt ? createDecipheriv(name, k, null) : createCipheriv(name, k, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}
function nodeRetailMac(key: Uint8Array, data: Uint8Array, padding: 1 | 2): Uint8Array {
  const p = pad(data, padding);
  const k1 = key.subarray(0, 8);
  const cbc = createCipheriv("des-ede-cbc", Buffer.concat([k1, k1]), Buffer.alloc(8));
  cbc.setAutoPadding(false);
  const h = Buffer.concat([cbc.update(p), cbc.final()]).subarray(-8);
  return nodeEcb(k1, nodeEcb(key.subarray(8, 16), h, true));
}

describe("DES / 3DES", () => {
  it("FIPS 46 single-DES vector", () => {
    const v = byId("mac_iso9797_1_alg3", "fips46-des");
    expect(toHex(new TdesKey(fromHex(v.key)).encryptEcb(fromHex(v.plaintext)))).toBe(v.ciphertext);
    expect(toHex(new TdesKey(fromHex(v.key)).decryptEcb(fromHex(v.ciphertext)))).toBe(v.plaintext);
  });

  it("pyemv 3DES ECB docstring vector", () => {
    const v = byId("mac_iso9797_1_alg3", "pyemv-tdes-ecb-doc");
    expect(toHex(new TdesKey(fromHex(v.key)).encryptEcb(ascii(v.data_ascii)))).toBe(v.ciphertext);
  });

  it("agrees with node:crypto on random keys and blocks (1, 2 and 3 keys, both directions)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 16, 24),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (klen, keyMaterial, block) => {
          const key = keyMaterial.subarray(0, klen);
          const k = new TdesKey(key);
          expect(toHex(k.encryptEcb(block))).toBe(toHex(nodeEcb(key, block)));
          expect(toHex(k.decryptEcb(block))).toBe(toHex(nodeEcb(key, block, true)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("CBC agrees with node:crypto des-ede3-cbc", () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(24);
      const iv = randomBytes(8);
      const data = randomBytes(8 * (1 + (i % 5)));
      const c = createCipheriv("des-ede3-cbc", key, iv);
      c.setAutoPadding(false);
      const expected = Buffer.concat([c.update(data), c.final()]);
      expect(toHex(new TdesKey(key).encryptCbc(data, iv))).toBe(toHex(expected));
    }
  });

  it("rejects wrong key and data sizes with typed errors", () => {
    expect(() => new TdesKey(new Uint8Array(7))).toThrow(expect.objectContaining({ code: "KEY_INVALID" }));
    expect(() => new TdesKey(new Uint8Array(8)).encryptEcb(new Uint8Array(5))).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID" }),
    );
  });
});

describe("ISO/IEC 9797-1 MACs", () => {
  it("pyemv retail MAC vectors, paddings 1 and 2", () => {
    for (const id of ["pyemv-mac-pad1", "pyemv-mac-pad2"]) {
      const v = byId("mac_iso9797_1_alg3", id);
      expect(toHex(macAlg3(fromHex(v.k1 + v.k2), ascii(v.data_ascii), v.padding))).toBe(v.mac);
    }
  });

  it("paddings follow methods 1 and 2", () => {
    expect(toHex(pad(new Uint8Array(0), 1))).toBe("0000000000000000");
    expect(toHex(pad(new Uint8Array(8).fill(1), 1))).toBe("0101010101010101");
    expect(toHex(pad(new Uint8Array(8).fill(1), 2))).toBe("01010101010101018000000000000000");
    expect(toHex(pad(Uint8Array.of(1, 2, 3), 2))).toBe("0102038000000000");
  });

  it("retail MAC agrees with node:crypto on random keys and messages", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.constantFrom(1 as const, 2 as const),
        (key, data, padding) => {
          const ours = new RetailMacKey(key).mac(data, padding);
          expect(toHex(ours)).toBe(toHex(nodeRetailMac(key, data, padding)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("one prepared retail MAC key gives node:crypto's MAC for each of many messages in turn", () => {
    // The key object keeps its chaining words between calls: nothing of one message may leak into the next.
    const key = randomBytes(16);
    const k = new RetailMacKey(key);
    for (let i = 0; i < 300; i++) {
      const data = randomBytes(i % 41);
      const padding = i % 2 === 0 ? 1 : 2;
      expect(toHex(k.mac(data, padding))).toBe(toHex(nodeRetailMac(key, data, padding)));
    }
  });

  it("a MAC resumed from the CBC state of a message's first blocks is node:crypto's MAC of the whole", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.nat({ max: 11 }),
        fc.constantFrom(1 as const, 2 as const),
        (key, data, blocks, padding) => {
          const k = new RetailMacKey(key);
          const prefix = k.prefix(data, blocks);
          const ours = k.macInto(data, padding, new Uint8Array(8), 0, prefix);
          expect(toHex(ours)).toBe(toHex(nodeRetailMac(key, data, padding)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("algorithm 1 with 2- and 3-key 3DES and padding 1 is the last des-ede(3)-cbc block", () => {
    for (let i = 0; i < 100; i++) {
      const key = randomBytes(i % 2 === 0 ? 16 : 24);
      const data = randomBytes(i);
      const c = createCipheriv(key.length === 16 ? "des-ede-cbc" : "des-ede3-cbc", key, Buffer.alloc(8));
      c.setAutoPadding(false);
      const last = Buffer.concat([c.update(pad(data, 1)), c.final()]).subarray(-8);
      expect(toHex(macAlg1(key, data, 1))).toBe(toHex(last));
    }
  });

  it("algorithm 1 with single DES is the last CBC block", () => {
    for (let i = 0; i < 100; i++) {
      const key = randomBytes(8);
      const data = randomBytes(1 + i);
      const p = pad(data, 2);
      const c = createCipheriv("des-ede-cbc", Buffer.concat([key, key]), Buffer.alloc(8));
      c.setAutoPadding(false);
      const last = Buffer.concat([c.update(p), c.final()]).subarray(-8);
      expect(toHex(macAlg1(key, data, 2))).toBe(toHex(last));
    }
  });

  it("covers every MAC vector in the fixture", () => {
    expect(V.mac_iso9797_1_alg3.length).toBe(6);
  });
});
