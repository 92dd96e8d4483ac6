import { generateKeyPairSync, sign } from "node:crypto";
import { verifyDeviceSignature } from "@capkit/provision";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyDeviceSignatureNative } from "../src/provisioning/device-signature.js";

/** node:crypto's check of device signatures gives @capkit/provision's answer (@noble/curves), every time. */
describe("device signatures through node:crypto", () => {
  const device = () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    return {
      key: new Uint8Array(
        Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]),
      ),
      sign: (m: Uint8Array) =>
        new Uint8Array(sign("sha256", m, { key: privateKey, dsaEncoding: "ieee-p1363" })),
    };
  };
  const devices = [device(), device()];

  it("agrees with @noble/curves on right, tampered, foreign and malformed signatures and keys", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 5 }),
        fc.nat(),
        (message, change, at) => {
          const d = devices[at % 2]!;
          let key = d.key;
          let signature = d.sign(message);
          let m = message;
          if (change === 1) signature = signature.map((b, i) => (i === at % 64 ? b ^ 1 : b));
          if (change === 2) key = devices[(at + 1) % 2]!.key;
          if (change === 3) m = Uint8Array.from([...message, 0]);
          if (change === 4) key = key.map((b, i) => (i === 1 + (at % 64) ? b ^ 1 : b)); // off the curve
          if (change === 5) signature = signature.subarray(0, 63);
          const expected = verifyDeviceSignature(key, m, signature);
          expect(verifyDeviceSignatureNative(key, m, signature)).toBe(expected);
          if (change === 0) expect(expected).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("accepts a high-S signature as WebCrypto may make it, as @noble/curves does here", () => {
    const d = devices[0]!;
    const message = new TextEncoder().encode("capkit-login/1");
    const s = d.sign(message);
    // (r, n − s) is the same signature's other form.
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const sv = BigInt(`0x${Buffer.from(s.subarray(32)).toString("hex")}`);
    const flipped = new Uint8Array([
      ...s.subarray(0, 32),
      ...Buffer.from((n - sv).toString(16).padStart(64, "0"), "hex"),
    ]);
    expect(verifyDeviceSignature(d.key, message, flipped)).toBe(true);
    expect(verifyDeviceSignatureNative(d.key, message, flipped)).toBe(true);
  });
});
