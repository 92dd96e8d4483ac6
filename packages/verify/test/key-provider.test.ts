import { createCipheriv, createPublicKey, randomBytes, verify } from "node:crypto";
import { CapCodeModel, testIccMasterKey } from "@capkit/emv-cap";
import { HotpGenerator } from "@capkit/oath";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { describe, expect, it } from "vitest";
import { type CapCardKey, SoftwareKeyProvider } from "../src/index.js";

/** RFC 4226 Appendix D: the test secret "12345678901234567890" and its HOTP values for counters 0 and 1. */
const RFC4226_SECRET = Buffer.from("12345678901234567890", "ascii");
const RFC4226_HOTP = ["755224", "287082"];

describe("SoftwareKeyProvider", () => {
  const material = SoftwareKeyProvider.generateMaterial();
  const keys = new SoftwareKeyProvider(material);

  it("computes the HMAC of a sealed OATH secret (RFC 4226 Appendix D) and never returns the secret", async () => {
    const sealed = await keys.seal("alice", "hmac", RFC4226_SECRET);
    expect(sealed).toMatch(new RegExp(`^v2:${keys.currentKeyId}:`));
    expect(sealed).not.toContain(RFC4226_SECRET.toString("hex"));
    const gen = new HotpGenerator(await keys.hmac("alice", sealed, "SHA1"), 6);
    expect([gen.code(0), gen.code(1)]).toEqual(RFC4226_HOTP);
  });

  it("a sealed value opens only for its own credential, its own use and a master key it was sealed under", async () => {
    const sealed = await keys.seal("alice", "hmac", randomBytes(20));
    await expect(keys.hmac("bob", sealed, "SHA1")).rejects.toMatchObject({ code: "KEY_INVALID" });
    const card: CapCardKey = {
      pan: { sealed },
      psn: "00",
      cryptogramVersion: "visa-10",
      issuerKey: { kind: "reference", id: "x" },
    };
    await expect(keys.cryptogram("alice", card)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const other = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    const err = await other.hmac("alice", sealed, "SHA1").catch((e: Error) => e);
    expect(err).toMatchObject({ code: "KEY_INVALID" });
    expect(String((err as Error).message)).not.toContain(material.masterKey);
    await expect(keys.hmac("alice", `v0:${sealed.slice(3)}`, "SHA1")).rejects.toMatchObject({
      code: "KEY_INVALID",
    });
  });

  it("values sealed in 0.1 (v1, no key id, the credential id as associated data) still open", async () => {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", Buffer.from(material.masterKey, "hex"), iv);
    c.setAAD(Buffer.from("legacy", "utf8"));
    const ct = Buffer.concat([c.update(RFC4226_SECRET), c.final()]);
    const v1 = `v1:${Buffer.concat([iv, ct, c.getAuthTag()]).toString("base64")}`;
    expect(keys.keyIdOf(v1)).toBe("v1");
    expect(new HotpGenerator(await keys.hmac("legacy", v1, "SHA1")).code(0)).toBe(RFC4226_HOTP[0]);
    const resealed = await keys.reseal("legacy", "hmac", v1);
    expect(keys.keyIdOf(resealed)).toBe(keys.currentKeyId);
  });

  it("rotation: the previous master key opens, reseal moves a value to the current one, a removed key is refused", async () => {
    const old = SoftwareKeyProvider.generateMaterial();
    const before = new SoftwareKeyProvider(old);
    const sealed = await before.seal("alice", "hmac", RFC4226_SECRET);
    const fresh = SoftwareKeyProvider.generateMaterial();
    const during = new SoftwareKeyProvider({ ...fresh, previousMasterKeys: [old.masterKey] });
    expect(during.keyIdOf(sealed)).toBe(before.currentKeyId);
    expect(new HotpGenerator(await during.hmac("alice", sealed, "SHA1")).code(1)).toBe(RFC4226_HOTP[1]);
    const moved = await during.reseal("alice", "hmac", sealed);
    expect(during.keyIdOf(moved)).toBe(during.currentKeyId);
    const after = new SoftwareKeyProvider(fresh);
    expect(new HotpGenerator(await after.hmac("alice", moved, "SHA1")).code(1)).toBe(RFC4226_HOTP[1]);
    await expect(after.hmac("alice", sealed, "SHA1")).rejects.toMatchObject({
      code: "KEY_INVALID",
      message: expect.stringContaining(`sealed under key ${before.currentKeyId}`),
    });
    await expect(before.hmac("alice", moved, "SHA1")).rejects.toMatchObject({ code: "KEY_INVALID" });
  });

  it("a CAP card's test key is refused unless test keys are allowed; its engine computes the card's codes", async () => {
    const record = new SimulatedCard(newSimCardState("sesame", "1234")).issuerRecord();
    if (record.key.kind !== "test-imk") throw new Error("a simulated card carries a test IMK");
    const imk = Buffer.from(record.key.imk, "hex");
    await expect(keys.seal("card", "issuer-key", imk)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const testing = new SoftwareKeyProvider({ ...material, allowTestKeys: true });
    const card: CapCardKey = {
      pan: { sealed: await testing.seal("card", "pan", Buffer.from(record.pan, "ascii")) },
      psn: record.psn,
      cryptogramVersion: record.cryptogramVersion,
      issuerKey: {
        kind: "sealed-test-imk",
        sealed: await testing.seal("card", "issuer-key", imk),
        derivation: record.key.derivation,
      },
    };
    expect(card.pan).not.toContain(record.pan);
    await expect(keys.cryptogram("card", card)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const viaProvider = new CapCodeModel(record, await testing.cryptogram("card", card)).forInputs({
      mode: "identify",
    });
    const direct = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" });
    for (const atc of [0, 1, 0x1234, 0xffff]) expect(viaProvider(atc)).toBe(direct(atc));
    // A database from before PANs were sealed: the PAN in clear still works (rekey seals it).
    const legacy = new CapCodeModel(record, await testing.cryptogram("card", { ...card, pan: record.pan }));
    expect(legacy.forInputs({ mode: "identify" })(7)).toBe(direct(7));
  });

  it("receipts: an Ed25519 key of their own, derived from the master key (RFC 8032 signatures, verified by node:crypto)", async () => {
    const message = Buffer.from('{"v":"capkit-receipt/1"}');
    const { keyId, signature } = await keys.signReceipt(message);
    const publicKeys = await keys.receiptPublicKeys();
    expect(Object.keys(publicKeys)).toEqual([keyId]);
    expect(Object.values(await keys.auditPublicKeys())).not.toContain(publicKeys[keyId]);
    const key = createPublicKey({
      key: Buffer.concat([
        Buffer.from("302a300506032b6570032100", "hex"),
        Buffer.from(publicKeys[keyId]!, "hex"),
      ]),
      format: "der",
      type: "spki",
    });
    expect(verify(null, message, key, signature)).toBe(true);
    expect(verify(null, Buffer.from("altered"), key, signature)).toBe(false);
    // A rotation keeps the previous receipt key verifiable; the same master key always gives the same key.
    const next = SoftwareKeyProvider.generateMaterial();
    const rotated = new SoftwareKeyProvider({ ...next, previousMasterKeys: [material.masterKey] });
    expect(Object.keys(await rotated.receiptPublicKeys()).sort()).toEqual(
      [keyId, (await rotated.signReceipt(message)).keyId].sort(),
    );
  });

  it("malformed material is KEY_INVALID without echoing it", () => {
    expect(() => new SoftwareKeyProvider({ masterKey: "00" })).toThrow(
      expect.objectContaining({ code: "KEY_INVALID" }),
    );
    const e = (() => {
      try {
        new SoftwareKeyProvider({ masterKey: "00".repeat(32), issuerKeys: { k: "SECRETSECRET" } });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toMatchObject({ code: "KEY_INVALID" });
    expect(e?.message).not.toContain("SECRETSECRET");
    expect(() => new SoftwareKeyProvider({ masterKey: "00".repeat(32), previousMasterKeys: ["ab"] })).toThrow(
      expect.objectContaining({ code: "KEY_INVALID" }),
    );
  });
});

describe("database drivers are optional peer dependencies", () => {
  it("a missing driver is a typed error naming the package to install", async () => {
    const { loadDriver } = await import("../src/stores/driver.js");
    const e = (() => {
      try {
        loadDriver("capkit-no-such-driver", "SomeStore");
      } catch (err) {
        return err as { code: string; message: string; hint: string };
      }
    })();
    expect(e).toMatchObject({
      code: "STORE_UNAVAILABLE",
      hint: expect.stringContaining("npm install capkit-no-such-driver"),
    });
    expect(e?.message).toContain('"capkit-no-such-driver"');
  });
});
