import { createHmac, createPublicKey, randomBytes, verify } from "node:crypto";
import {
  CryptogramCalculator,
  cryptogramSpec,
  fromHex,
  generateCapCode,
  readerProfile,
} from "@capkit/emv-cap";
import { HotpGenerator, type OathAlgorithm } from "@capkit/oath";
import { createOperation, verifyReceipt, verifySignedOperation } from "@capkit/provision";
import { type SoftHsm, startSoftHsm } from "@capkit/test-support";
import { FakeClock, newSimCardState, SgpassToken, SimulatedCard } from "@capkit/token-sim";
import * as pkcs11 from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Approvals, MemorySecurityStore } from "../src/approvals.js";
import { type CapCardKey, MemoryStore, Verifier } from "../src/index.js";
import { Pkcs11KeyProvider } from "../src/pkcs11.js";
import { appDevice, type World } from "./approvals-world.js";

/** RFC 4226 Appendix D: the test secret and its HOTP values for counters 0 and 1. */
const RFC4226_SECRET = Buffer.from("12345678901234567890", "ascii");
const RFC4226_HOTP = ["755224", "287082"];

/** ICC master keys (EMV Book 2 A1.4) from pyemv's kd.py docstrings (knovichikhin/pyemv), as emv-cap's fixtures. */
const ICC_MK_VECTORS = [
  {
    id: "pyemv-kd-doc-A1",
    derivation: "A",
    pan: "99012345678901234",
    psn: "45",
    iccMk: "67F8292358083E5EA7AB7FDA58D53B6B",
  },
  {
    id: "pyemv-kd-doc-A2",
    derivation: "A",
    pan: "12345678901234567",
    psn: "01",
    iccMk: "73AD54688CEF2934B0979857E3C719F1",
  },
  {
    id: "pyemv-kd-doc-B1",
    derivation: "B",
    pan: "12345678901234567",
    psn: "01",
    iccMk: "AD406D7F6D7570916D75E5DCAB8CF737",
  },
] as const;
const VECTOR_IMK = fromHex("0123456789ABCDEFFEDCBA9876543210");

let hsm: SoftHsm;
let keys: Pkcs11KeyProvider;
/** A second view on the same token, through pkcs11js directly: what an attacker with the PIN can ask. */
let probe: { lib: pkcs11.PKCS11; session: Buffer };

/** What opening with a wrong PIN answered, tried before any login (a process logged in once stays logged in). */
let wrongPin: unknown;

beforeAll(() => {
  hsm = startSoftHsm();
  hsm.use();
  try {
    Pkcs11KeyProvider.open({ module: hsm.module, token: hsm.token, pin: "wrong-pin-0000" }).close();
  } catch (e) {
    wrongPin = e;
  }
  keys = Pkcs11KeyProvider.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, allowTestKeys: true });
  expect(keys.rotate()).toBe("g1");
  const lib = new pkcs11.PKCS11();
  lib.load(hsm.module);
  try {
    lib.C_Initialize();
  } catch (e) {
    // The provider initialised the module in this process already: its sessions are this one's too.
    if ((e as Error).message !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") throw e;
  }
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === hsm.token)!;
  probe = { lib, session: lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION) };
});

afterAll(() => {
  probe?.lib.C_CloseSession(probe.session);
  keys?.close();
  hsm?.dispose();
});

/** Every secret key object the token holds (token and session objects), by label when it has one. */
function secretKeys(extra: pkcs11.Template = []): Buffer[] {
  const { lib, session } = probe;
  lib.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY }, ...extra]);
  const found = lib.C_FindObjects(session, 10_000);
  lib.C_FindObjectsFinal(session);
  return found;
}

/** The token's private keys (the audit signing keys). */
function privateKeys(): Buffer[] {
  const { lib, session } = probe;
  lib.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }]);
  const found = lib.C_FindObjects(session, 100);
  lib.C_FindObjectsFinal(session);
  return found;
}

/** The token object of this class with this label. */
function findByLabel(cls: number, label: string): Buffer | undefined {
  const { lib, session } = probe;
  lib.C_FindObjectsInit(session, [
    { type: pkcs11.CKA_CLASS, value: cls },
    { type: pkcs11.CKA_LABEL, value: label },
  ]);
  const found = lib.C_FindObjects(session, 2);
  lib.C_FindObjectsFinal(session);
  return found[0];
}

function attributes(h: Buffer): { sensitive: boolean; extractable: boolean; valueReadable: boolean } {
  const { lib, session } = probe;
  const bool = (type: number) => lib.C_GetAttributeValue(session, h, [{ type }])[0]!.value![0] === 1;
  let valueReadable = true;
  try {
    lib.C_GetAttributeValue(session, h, [{ type: pkcs11.CKA_VALUE }]);
  } catch (e) {
    expect((e as Error).message).toBe("CKR_ATTRIBUTE_SENSITIVE");
    valueReadable = false;
  }
  return { sensitive: bool(pkcs11.CKA_SENSITIVE), extractable: bool(pkcs11.CKA_EXTRACTABLE), valueReadable };
}

describe("Pkcs11KeyProvider on SoftHSM2", () => {
  it("OATH: the token computes the HMAC of a sealed secret (RFC 4226 Appendix D); its key cannot be read or wrapped out", async () => {
    const sealed = await keys.seal("alice", "hmac", RFC4226_SECRET);
    expect(sealed).toMatch(/^p11:g1:/);
    const before = new Set(
      secretKeys([
        { type: pkcs11.CKA_SIGN, value: true },
        { type: pkcs11.CKA_TOKEN, value: false },
      ]).map((h) => h.toString("hex")),
    );
    const hmac = await keys.hmac("alice", sealed, "SHA1");
    const gen = new HotpGenerator(hmac, 6);
    expect([gen.code(0), gen.code(1)]).toEqual(RFC4226_HOTP);
    const [key] = secretKeys([
      { type: pkcs11.CKA_SIGN, value: true },
      { type: pkcs11.CKA_TOKEN, value: false },
    ]).filter((h) => !before.has(h.toString("hex")));
    expect(key).toBeDefined();
    expect(attributes(key!)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
    // Wrapping it out under a key the attacker makes is refused too.
    const { lib, session } = probe;
    const attacker = lib.C_CreateObject(session, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
      { type: pkcs11.CKA_VALUE, value: Buffer.alloc(32, 1) },
      { type: pkcs11.CKA_TOKEN, value: false },
      { type: pkcs11.CKA_WRAP, value: true },
    ]);
    expect(() =>
      lib.C_WrapKey(session, { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD }, attacker, key!, Buffer.alloc(256)),
    ).toThrow("CKR_KEY_UNEXTRACTABLE");
  });

  it("every persistent key (wrap, mac, data, issuer) is sensitive and not extractable", () => {
    keys.importIssuerKey("bank-1", VECTOR_IMK);
    const persistent = secretKeys([{ type: pkcs11.CKA_TOKEN, value: true }]);
    expect(persistent.length).toBe(4);
    for (const h of persistent)
      expect(attributes(h)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
  });

  it("HMAC of any key length and algorithm equals node:crypto's (short keys are zero-padded for the token, RFC 2104 §2)", async () => {
    const message = randomBytes(40);
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as OathAlgorithm[]) {
      for (const length of [10, 16, 20, 32, 63, 64, 72, 128]) {
        const secret = randomBytes(length);
        const hmac = await keys.hmac(`k${length}`, await keys.seal(`k${length}`, "hmac", secret), algorithm);
        const expected = createHmac(algorithm.replace("SHA", "sha"), secret).update(message).digest();
        expect(Buffer.from(hmac.mac(message)), `${algorithm} ${length}`).toEqual(expected);
      }
    }
    // SoftHSM2 unwraps a 65-byte key as 72 bytes (RFC 5649 padding left on): refused at enrolment, never wrong.
    for (const length of [65, 129])
      await expect(keys.seal("long", "hmac", randomBytes(length))).rejects.toMatchObject({
        code: "KEY_INVALID",
      });
  });

  it("a sealed key opens only for its own credential and use; an altered one is refused", async () => {
    const sealed = await keys.seal("alice", "hmac", RFC4226_SECRET);
    await expect(keys.hmac("bob", sealed, "SHA1")).rejects.toMatchObject({ code: "KEY_INVALID" });
    const asIssuer: CapCardKey = {
      pan: "4970000000000000",
      psn: "00",
      cryptogramVersion: "visa-10",
      issuerKey: { kind: "sealed-test-imk", sealed, derivation: "A" },
    };
    await expect(keys.cryptogram("alice", asIssuer)).rejects.toMatchObject({ code: "KEY_INVALID" });
    const [wrapped, tag] = sealed.split(":")[2]!.split(".");
    const flipped = Buffer.from(wrapped!, "base64");
    flipped[3]! ^= 1;
    await expect(
      keys.hmac("alice", `p11:g1:${flipped.toString("base64")}.${tag}`, "SHA1"),
    ).rejects.toMatchObject({
      code: "KEY_INVALID",
    });
    const pan = await keys.seal("alice", "pan", Buffer.from("4970000000000000"));
    await expect(
      keys.cryptogram("bob", {
        ...asIssuer,
        pan: { sealed: pan },
        issuerKey: { kind: "reference", id: "bank-1" },
      }),
    ).rejects.toMatchObject({ code: "KEY_INVALID" });
  });

  it("CAP: the token derives the ICC master key from the issuer key (EMV Book 2 A1.4 vectors, options A and B)", async () => {
    const data = randomBytes(37);
    for (const v of ICC_MK_VECTORS) {
      const expected = new CryptogramCalculator(cryptogramSpec("visa-10"), fromHex(v.iccMk));
      const issuerKey =
        v.derivation === "A"
          ? ({ kind: "reference", id: "bank-1" } as const)
          : ({
              kind: "sealed-test-imk",
              sealed: await keys.seal(v.id, "issuer-key", VECTOR_IMK),
              derivation: "B",
            } as const);
      const card: CapCardKey = {
        pan: { sealed: await keys.seal(v.id, "pan", Buffer.from(v.pan)) },
        psn: v.psn,
        cryptogramVersion: "visa-10",
        issuerKey,
      };
      const mac = await keys.cryptogram(v.id, card);
      const out = (m: typeof mac) => Buffer.from(m.macInto(data, 1, undefined, new Uint8Array(8), 0));
      expect(out(mac), v.id).toEqual(out(expected));
    }
  });

  it("a Verifier on the token: a simulated Sésame card and an SGpass HOTP token verify, replays are refused", async () => {
    const verifier = new Verifier({ store: new MemoryStore(), keys });
    const pin = "1234";
    const card = new SimulatedCard(newSimCardState("sesame", pin));
    await verifier.enroll({ id: "card", kind: "cap", record: card.issuerRecord() });
    const rp = readerProfile(card.profile.readerProfile);
    const code = (await generateCapCode(card, { mode: "identify" }, { pin, profile: rp })).code;
    expect((await verifier.verify({ id: "card", code })).result).toBe("accepted");
    expect((await verifier.verify({ id: "card", code })).result).toBe("rejected");
    const secret = randomBytes(20);
    await verifier.enroll({ id: "token", kind: "hotp", secret });
    const token = new SgpassToken({ kind: "hotp", secret, clock: new FakeClock(0) });
    expect((await verifier.verify({ id: "token", code: token.press().code! })).result).toBe("accepted");
  });

  it("rotation: a new generation seals, the previous still opens until re-sealed, a retired one is refused", async () => {
    const oldKey = await keys.seal("rot", "hmac", RFC4226_SECRET);
    const oldPan = await keys.seal("rot", "pan", Buffer.from("4970000000000000"));
    expect(keys.rotate()).toBe("g2");
    expect(keys.currentKeyId).toBe("g2");
    expect(keys.keyIdOf(oldKey)).toBe("g1");
    expect(new HotpGenerator(await keys.hmac("rot", oldKey, "SHA1")).code(1)).toBe(RFC4226_HOTP[1]);
    const newKey = await keys.reseal("rot", "hmac", oldKey);
    const newPan = await keys.reseal("rot", "pan", oldPan);
    expect([keys.keyIdOf(newKey), keys.keyIdOf(newPan)]).toEqual(["g2", "g2"]);
    expect(() => keys.retire("g2")).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
    keys.retire("g1");
    await expect(keys.hmac("rot", oldKey, "SHA1")).rejects.toMatchObject({
      code: "KEY_INVALID",
      message: expect.stringContaining("sealed under key g1"),
    });
    expect(new HotpGenerator(await keys.hmac("rot", newKey, "SHA1")).code(1)).toBe(RFC4226_HOTP[1]);
    const card: CapCardKey = {
      pan: { sealed: newPan },
      psn: "00",
      cryptogramVersion: "visa-10",
      issuerKey: { kind: "reference", id: "bank-1" },
    };
    await expect(keys.cryptogram("rot", card)).resolves.toBeDefined();
  });

  it("audit checkpoints are signed in the token (Ed25519) and verify offline with the public key alone", async () => {
    const message = Buffer.from("capkit-audit-checkpoint/1\nseq 1\n");
    const { keyId, signature } = await keys.signAudit(message);
    const publicKeys = await keys.auditPublicKeys();
    expect(Object.keys(publicKeys)).toContain(keyId);
    const spki = Buffer.concat([
      Buffer.from("302a300506032b6570032100", "hex"),
      Buffer.from(publicKeys[keyId]!, "hex"),
    ]);
    const key = createPublicKey({ key: spki, format: "der", type: "spki" });
    expect(verify(null, message, key, signature)).toBe(true);
    expect(verify(null, Buffer.from("altered"), key, signature)).toBe(false);
    const [signing] = privateKeys();
    expect(attributes(signing!)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
  });

  it("receipts are signed in the token by a key of their own (CKM_EDDSA); an approval's receipt verifies offline", async () => {
    const receiptKeys = await keys.receiptPublicKeys();
    const auditKeys = Object.values(await keys.auditPublicKeys());
    // g1's (retired: its public key stays, for the receipts it signed) and g2's, none of them an audit key.
    expect(Object.keys(receiptKeys)).toHaveLength(2);
    expect(Object.values(receiptKeys).some((k) => auditKeys.includes(k))).toBe(false);
    const store = new MemoryStore();
    const verifier = new Verifier({ store, keys });
    const approvals = new Approvals({ verifier, store: new MemorySecurityStore(store), keys });
    const w = { verifier, approvals } as unknown as World;
    const app = await appDevice(w);
    const op = await approvals.create({
      document: createOperation(
        { type: "beneficiary-add", payee: { iban: "DE75512108001245126199", name: "Garage Martin SARL" } },
        { id: "hsm-op-1", account: "DE89370400440532013000", now: Math.floor(Date.now() / 1000) },
      ),
      user: app.user,
      credential: app.credential,
      method: "device",
    });
    expect(verifySignedOperation(op.signed, await approvals.receiptKeys())).toEqual(op.document);
    const r = await approvals.decide({ id: op.id, device: await app.decide(op.digest) });
    if (r.result !== "approved") throw new Error(JSON.stringify(r));
    expect(Object.keys(receiptKeys)).toContain(r.receipt.keyId);
    expect(verifyReceipt(r.receipt, await approvals.receiptKeys())).toEqual({ ok: true });
    const receiptKey = findByLabel(pkcs11.CKO_PRIVATE_KEY, "capkit/g2/receipt");
    expect(attributes(receiptKey!)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
  });

  it("a key generation made before receipts has no receipt key: signing a receipt says so and how to make one", async () => {
    const legacy = Pkcs11KeyProvider.open({
      module: hsm.module,
      token: hsm.token,
      pin: hsm.pin,
      label: "legacy",
    });
    try {
      legacy.rotate();
      // What a generation made by an earlier capkit lacks.
      probe.lib.C_DestroyObject(probe.session, findByLabel(pkcs11.CKO_PRIVATE_KEY, "legacy/g1/receipt")!);
      await expect(legacy.signReceipt(Buffer.from("x"))).rejects.toMatchObject({
        code: "KEY_INVALID",
        message: "the token lacks legacy/g1/receipt",
        hint: expect.stringContaining("rotate"),
      });
      await expect(legacy.signAudit(Buffer.from("x"))).resolves.toBeDefined();
    } finally {
      legacy.close();
    }
  });

  it("a wrong PIN, an unknown token or a closed provider is KEY_UNAVAILABLE, never a secret in the message", () => {
    const open = (o: Partial<Parameters<typeof Pkcs11KeyProvider.open>[0]>) => () =>
      Pkcs11KeyProvider.open({ module: hsm.module, token: hsm.token, pin: hsm.pin, ...o });
    expect(wrongPin).toMatchObject({
      code: "KEY_UNAVAILABLE",
      message: expect.stringContaining("CKR_PIN_INCORRECT"),
    });
    expect((wrongPin as Error).message).not.toContain("wrong-pin");
    expect(open({ token: "no-such-token" })).toThrow(expect.objectContaining({ code: "KEY_UNAVAILABLE" }));
    expect(open({ module: "/nonexistent/libpkcs11.so" })).toThrow(
      expect.objectContaining({ code: "KEY_UNAVAILABLE" }),
    );
    const other = open({})();
    other.close();
    expect(() => other.currentKeyId).toThrow(expect.objectContaining({ code: "KEY_UNAVAILABLE" }));
  });
});
