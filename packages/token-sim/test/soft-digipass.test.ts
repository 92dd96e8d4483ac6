import { fromBase64, toBase64, toHex } from "@capkit/core";
import { HmacKey, totp } from "@capkit/oath";
import {
  type ActivationCredential,
  type ActivationServerState,
  activationPolicy,
  activationServerStep,
  approvalMessage,
  canonicalBytes,
  createOperation,
  generateSigningKey,
  loginMessage,
  operationDigest,
  signOperation,
  softwareSigner,
  startActivation,
  verifyDeviceSignature,
} from "@capkit/provision";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../src/index.js";
import { MemoryKeyStore, SoftDigipass } from "../src/soft-digipass.js";

const BANK_PASSWORD = "112233";
const APP_PASSWORD = "246810";

/** The bank: the pure server state machine, its state replaced by each step's result (as a store would). */
function bank(clock: FakeClock) {
  const signer = softwareSigner(generateSigningKey(), "bank-2026");
  const started = startActivation({
    policy: activationPolicy({ features: ["sms", "password"] }),
    serverIdentity: "sogesmart.example",
    serial: "SOFT0042",
    instance: 1,
    now: clock.now() / 1000,
    bankKeys: { [signer.keyId]: signer.publicKey },
  });
  const b = {
    signer,
    state: started.state as ActivationServerState,
    sms: started.codes.sms!,
    credential: undefined as ActivationCredential | undefined,
    requests: [] as string[],
    otp(at = clock.now() / 1000) {
      const c = b.credential!;
      return totp(new HmacKey(c.seed, c.otp.algorithm), at, c.otp.digits, { step: c.otp.step });
    },
    transport: async (request: string) => {
      b.requests.push(request);
      const r = await activationServerStep({
        state: b.state,
        request,
        now: clock.now() / 1000,
        checks: { password: (p) => p === BANK_PASSWORD, otp: (code) => code === b.otp() },
      });
      b.state = r.state;
      if (r.credential) b.credential = r.credential;
      return r.reply;
    },
  };
  return b;
}

async function activated() {
  const clock = new FakeClock();
  const store = new MemoryKeyStore();
  const b = bank(clock);
  const app = await SoftDigipass.open({ store, appVersion: "5.2.0", clock });
  const token = await app.activate({
    transport: b.transport,
    activationId: b.state.activationId,
    regId: b.state.regId,
    serverIdentity: "sogesmart.example",
    codes: { sms: `${b.sms.slice(0, 4)} ${b.sms.slice(4)}` },
    bankPassword: BANK_PASSWORD,
    appPassword: APP_PASSWORD,
  });
  return { clock, store, b, app, token };
}

describe("SoftDigipass: activation against the bank's state machine", () => {
  it("activates: the bank's credential and the app's codes agree, both keys non-extractable", async () => {
    const { b, app, token, store, clock } = await activated();
    expect(token).toEqual({ serial: "SOFT0042", instance: 1 });
    expect(b.state.phase).toBe("active");
    expect(await app.status()).toBe("active");
    expect((await app.code()).code).toBe(b.otp());
    clock.advance(30_000);
    expect((await app.code()).code).toBe(b.otp());
    const device = (await store.get("device")) as { privateKey: CryptoKey; publicKey: Uint8Array };
    const t = (await store.get("token")) as { hmac: CryptoKey };
    expect(device.privateKey.extractable).toBe(false);
    expect(t.hmac.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("raw", t.hmac)).rejects.toThrow();
    await expect(crypto.subtle.exportKey("pkcs8", device.privateKey)).rejects.toThrow();
    expect(toHex(device.publicKey)).toBe(toHex(b.credential!.devicePublicKey));
  });

  it("survives lost replies: each request resent with its idempotency key, one try counted", async () => {
    const clock = new FakeClock();
    const b = bank(clock);
    let n = 0;
    const lossy = async (request: string) => {
      const reply = await b.transport(request);
      if (n++ % 2 === 0) throw new Error("the reply was lost");
      return reply;
    };
    const app = await SoftDigipass.open({ store: new MemoryKeyStore(), appVersion: "5.2.0", clock });
    await app.activate({
      transport: lossy,
      activationId: b.state.activationId,
      regId: b.state.regId,
      serverIdentity: "sogesmart.example",
      codes: { sms: b.sms },
      bankPassword: BANK_PASSWORD,
      appPassword: APP_PASSWORD,
    });
    expect(b.state.phase).toBe("active");
    expect(b.state.tries).toBe(1);
    expect(b.requests).toHaveLength(6);
  });

  it("refuses a wrong SMS code at key confirmation and a wrong banking password at the bank, storing nothing", async () => {
    const clock = new FakeClock();
    const b = bank(clock);
    const store = new MemoryKeyStore();
    const app = await SoftDigipass.open({ store, appVersion: "5.2.0", clock });
    const base = {
      transport: b.transport,
      activationId: b.state.activationId,
      regId: b.state.regId,
      serverIdentity: "sogesmart.example",
      appPassword: APP_PASSWORD,
    };
    const wrong = b.sms === "00000000" ? "11111111" : "00000000";
    await expect(
      app.activate({ ...base, codes: { sms: wrong }, bankPassword: BANK_PASSWORD }),
    ).rejects.toMatchObject({ code: "ACTIVATION_REFUSED", details: { retry: true } });
    await expect(
      app.activate({ ...base, codes: { sms: b.sms }, bankPassword: "000000" }),
    ).rejects.toMatchObject({ code: "ACTIVATION_REFUSED" });
    expect(await app.status()).toBe("new");
    expect(await store.get("token")).toBeUndefined();
    await app.activate({ ...base, codes: { sms: b.sms }, bankPassword: BANK_PASSWORD });
    expect(await app.status()).toBe("active");
  });
});

describe("SoftDigipass: the app password", () => {
  it("has 5 tries: a right one resets the count, the fifth wrong locks and forgets the keys", async () => {
    const { app, store } = await activated();
    app.lock();
    await expect(app.code()).rejects.toMatchObject({ code: "PIN_INVALID" });
    for (let i = 1; i <= 4; i++)
      await expect(app.unlock("000000")).rejects.toMatchObject({
        code: "PIN_WRONG",
        details: { triesLeft: 5 - i },
      });
    await app.unlock(APP_PASSWORD);
    expect((await app.code()).code).toMatch(/^[0-9]{6}$/);
    app.lock();
    for (let i = 1; i <= 4; i++)
      await expect(app.unlock("999999")).rejects.toMatchObject({ code: "PIN_WRONG" });
    await expect(app.unlock("999999")).rejects.toMatchObject({ code: "PIN_BLOCKED" });
    expect(await app.status()).toBe("locked");
    expect(await store.get("token")).toBeUndefined();
    await expect(app.unlock(APP_PASSWORD)).rejects.toMatchObject({ code: "PIN_BLOCKED" });
  });
  it("keeps no password when the bank checks it: no unlock needed, none possible, across a reopen", async () => {
    const clock = new FakeClock();
    const b = bank(clock);
    const store = new MemoryKeyStore();
    const app = await SoftDigipass.open({ store, appVersion: "5.2.0", clock });
    await app.activate({
      transport: b.transport,
      activationId: b.state.activationId,
      regId: b.state.regId,
      serverIdentity: "sogesmart.example",
      codes: { sms: b.sms },
      bankPassword: BANK_PASSWORD,
    });
    expect(await store.get("password")).toBeUndefined();
    const reopened = await SoftDigipass.open({ store, appVersion: "5.2.0", clock });
    expect((await reopened.code()).code).toBe(b.otp());
    await expect(reopened.unlock(APP_PASSWORD)).rejects.toMatchObject({ code: "PIN_INVALID" });
    expect(await reopened.status()).toBe("active");
  });
});

describe("SoftDigipass: logins and approvals", () => {
  it("proves possession at login: the code and a device signature over the bank's challenge", async () => {
    const { app, b } = await activated();
    const proof = await app.loginProof("c0ffee0123456789");
    expect(proof.otp).toBe(b.otp());
    const message = loginMessage({
      serial: "SOFT0042",
      instance: 1,
      challenge: "c0ffee0123456789",
      otp: proof.otp,
    });
    expect(verifyDeviceSignature(b.credential!.devicePublicKey, message, fromBase64(proof.signature))).toBe(
      true,
    );
    const other = loginMessage({ serial: "SOFT0042", instance: 1, challenge: "another", otp: proof.otp });
    expect(verifyDeviceSignature(b.credential!.devicePublicKey, other, fromBase64(proof.signature))).toBe(
      false,
    );
  });

  it("renders the operation from the signed document and signs accept or decline over its digest", async () => {
    const { app, b, clock } = await activated();
    const op = createOperation(
      {
        type: "transfer",
        payee: { iban: "DE89370400440532013000", name: "Dupont SARL" },
        amount: { minor: 123456, currency: "EUR" },
      },
      { id: "op-7", account: "FR1420041010050500013M02606", now: clock.now() / 1000 },
    );
    const signed = await signOperation(op, b.signer);
    clock.advance(500); // half a second later: the app reviews at whole seconds, not at the clock's milliseconds
    const { view } = await app.review(signed);
    expect(view.title).toBe("Virement");
    // French format: narrow no-break space between thousands, no-break space before the sign
    expect(view.lines.map(([k, v]) => [k, v.replace(/\s/g, " ")])).toContainEqual(["Montant", "1 234,56 €"]);
    expect(view.lines).toContainEqual(["IBAN", "DE89 3704 0044 0532 0130 00"]);
    const accept = await app.decide(signed, "accept");
    const digest = operationDigest(op);
    const pub = b.credential!.devicePublicKey;
    expect(accept.operationDigest).toBe(toHex(digest).toLowerCase());
    expect(verifyDeviceSignature(pub, approvalMessage(digest, "accept"), fromBase64(accept.signature))).toBe(
      true,
    );
    expect(verifyDeviceSignature(pub, approvalMessage(digest, "decline"), fromBase64(accept.signature))).toBe(
      false,
    );
    const decline = await app.decide(signed, "decline");
    expect(
      verifyDeviceSignature(pub, approvalMessage(digest, "decline"), fromBase64(decline.signature)),
    ).toBe(true);
    // a man in the browser changing the payee: the bank's signature no longer verifies, nothing is signed
    const forged = {
      ...signed,
      operation: { ...signed.operation, payee: { iban: "GB29NWBK60161331926819", name: "Dupont SARL" } },
    };
    await expect(app.decide(forged, "accept")).rejects.toMatchObject({ code: "OPERATION_SIGNATURE_INVALID" });
    // A name the screen would show otherwise than its bytes (RLO: « 4321 » shown « 1234 »), even under the
    // bank's own signature (a bank that did not check it): neither drawn nor signed.
    const hostile = {
      ...signed.operation,
      payee: { iban: "DE89370400440532013000", name: "Dupont \u202e4321" },
    };
    const signedHostile = {
      operation: hostile,
      keyId: signed.keyId,
      signature: toBase64(await b.signer.sign(canonicalBytes(hostile as never))),
    };
    const refused = { code: "OPERATION_INVALID", details: { field: "payee.name" } };
    await expect(app.review(signedHostile)).rejects.toMatchObject(refused);
    await expect(app.decide(signedHostile, "accept")).rejects.toMatchObject(refused);
    clock.advance(301_000);
    await expect(app.review(signed)).rejects.toMatchObject({ code: "OPERATION_INVALID" });
  });
});
