import { toBase64, toHex } from "@capkit/core";
import { base32Encode } from "@capkit/oath";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activationClientBind,
  activationClientStart,
  activationPolicy,
  activationServerStep,
  parseActivationMessage,
} from "../src/index.js";
import { Bank, NOW, PASSWORD, runActivation, softwareDevice } from "./harness.js";

const code = (e: unknown) => (e as { code?: string }).code;

async function expectCode(p: Promise<unknown> | (() => unknown), c: string) {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(code(e), String(e)).toBe(c);
    return;
  }
  throw new Error(`expected ${c}`);
}

describe("capkit-activation/1: a whole run", () => {
  it("derives the same seed on both sides, binds the device key, activates on the first OTP", async () => {
    const bank = new Bank();
    const device = softwareDevice();
    const run = await runActivation(bank, device);
    expect(bank.outcomes).toEqual(["answered", "bound", "activated"]);
    expect(bank.state.phase).toBe("active");
    expect(run.client.phase).toBe("active");
    expect(toHex(run.seed)).toBe(toHex(bank.credential!.seed));
    expect(run.seed).toHaveLength(20);
    expect(toHex(bank.credential!.devicePublicKey)).toBe(toHex(device.publicKey));
    expect(bank.state.secrets).toEqual({ w: "" }); // nothing secret kept once active
    expect(run.client.token?.bankKeys["bank-2026"]).toEqual(new Uint8Array(32).fill(7));
    expect(run.wire).toHaveLength(6);
  });

  it("activates with the web-session code of a QR and an SMS code, as generated or as typed (case, spaces)", async () => {
    for (const typed of [(c: string) => c, (c: string) => c.toUpperCase().replace(/(.{4})/g, "$1 ")]) {
      const bank = new Bank(["web-session", "sms"]);
      const codes = { "web-session": typed(bank.codes["web-session"]!), sms: bank.codes["sms"]! };
      await runActivation(bank, softwareDevice(), { codes });
      expect(bank.state.phase).toBe("active");
    }
  });

  it("puts no seed, code or password on the wire, in any encoding", async () => {
    for (let i = 0; i < 3; i++) {
      const bank = new Bank();
      const run = await runActivation(bank, softwareDevice());
      const wire = run.wire.join("\n");
      const smsCode = bank.codes["sms"]!;
      const secrets = [
        smsCode,
        `${smsCode.slice(0, 4)} ${smsCode.slice(4)}`,
        toHex(new TextEncoder().encode(smsCode)),
        toBase64(new TextEncoder().encode(smsCode)),
        PASSWORD,
        toBase64(new TextEncoder().encode(PASSWORD)),
        toHex(new TextEncoder().encode(PASSWORD)),
        toHex(run.seed),
        toHex(run.seed).toLowerCase(),
        toBase64(run.seed),
        toBase64(run.seed).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"),
        base32Encode(run.seed),
        BigInt(`0x${toHex(run.seed)}`).toString(10),
        bank.state.secrets.w,
      ].filter((s) => s.length > 0);
      for (const s of secrets) expect(wire.includes(s), `${s} on the wire`).toBe(false);
      for (const s of [toHex(run.seed).slice(0, 16), toBase64(run.seed).slice(0, 12)])
        expect(wire.toLowerCase().includes(s.toLowerCase())).toBe(false);
    }
  });
});

describe("an attacker", () => {
  it("relaying without the code fails at key confirmation, with one guess spent per run", async () => {
    const bank = new Bank();
    const wrong = bank.codes["sms"] === "00000000" ? "00000001" : "00000000";
    const attacker = activationClientStart({
      activationId: bank.state.activationId,
      regId: bank.state.regId,
      serverIdentity: "sogesmart.example",
      codes: { sms: wrong },
    });
    const b1 = await bank.handle(attacker.request);
    expect(bank.state.tries).toBe(1);
    await expectCode(
      activationClientBind(attacker, b1.reply, { device: softwareDevice(), appVersion: "1" }),
      "ACTIVATION_REFUSED",
    );
    // the real customer still activates with the code
    await runActivation(bank, softwareDevice());
    expect(bank.state.phase).toBe("active");
    expect(bank.state.tries).toBe(2);
  });

  it("posing as the bank without the code fails the device's key confirmation", async () => {
    const bank = new Bank();
    const fake = new Bank(); // another activation: the attacker's own code and ids
    const client = activationClientStart({
      activationId: bank.state.activationId,
      regId: bank.state.regId,
      serverIdentity: "sogesmart.example",
      codes: { sms: bank.codes["sms"]! },
    });
    const forged = await activationServerStep({
      state: { ...fake.state, activationId: bank.state.activationId, regId: bank.state.regId },
      request: client.request,
      now: NOW,
    });
    await expectCode(
      activationClientBind(client, forged.reply, { device: softwareDevice(), appVersion: "1" }),
      "ACTIVATION_REFUSED",
    );
  });

  it("gets 5 tries per code: wrong confirmations and abandoned runs both count, then the code is dead", async () => {
    const bank = new Bank();
    for (let i = 0; i < 5; i++) {
      const guess = String(i).padStart(8, "0");
      const a = activationClientStart({
        activationId: bank.state.activationId,
        regId: bank.state.regId,
        serverIdentity: "sogesmart.example",
        codes: { sms: guess === bank.codes["sms"] ? "99999999" : guess },
      });
      const b1 = await bank.handle(a.request);
      if (i % 2 === 0) {
        // a forged a2: any confirmation — refused, the run is over
        const m = JSON.parse(b1.reply);
        const a2 = JSON.stringify({
          v: m.v,
          type: "a2",
          activationId: m.activationId,
          idempotencyKey: "f".repeat(32),
          confirmation: toBase64(new Uint8Array(32)),
          box: toBase64(new Uint8Array(40)),
        });
        const r = await bank.handle(a2);
        expect(r.outcome).toBe("confirmation-failed");
        expect(parseActivationMessage(r.reply, ["refused"]).retry).toBe(i < 4);
      }
    }
    expect(bank.state.tries).toBe(5);
    await expectCode(runActivation(bank, softwareDevice()), "ACTIVATION_CODE_DEAD");
  });

  it("with the SMS code alone fails the second feature (the customer's password, inside the channel)", async () => {
    const bank = new Bank();
    await expectCode(runActivation(bank, softwareDevice(), { password: "999999" }), "ACTIVATION_REFUSED");
    expect(bank.outcomes).toEqual(["answered", "second-feature-failed"]);
    expect(bank.credential).toBeUndefined();
    expect(bank.state.phase).toBe("awaiting-a1");
    await runActivation(bank, softwareDevice()); // the customer, with both features
    expect(bank.state.phase).toBe("active");
  });

  it("tampering any byte of any message makes its receiver refuse it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(5),
        fc.nat(2000),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (index, at, char) => {
          const bank = new Bank();
          let changed = false;
          const tamper = (i: number, text: string) => {
            if (i !== index) return text;
            const pos = at % text.length;
            if (text.charCodeAt(pos) === char) return text;
            changed = true;
            return text.slice(0, pos) + String.fromCharCode(char) + text.slice(pos + 1);
          };
          let failed = false;
          try {
            await runActivation(bank, softwareDevice(), {}, tamper);
          } catch {
            failed = true;
          }
          expect(failed).toBe(changed);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("cannot replay a finished run; a retry of the last request gets the same answer and changes nothing", async () => {
    const bank = new Bank();
    const run = await runActivation(bank, softwareDevice());
    await expectCode(bank.handle(run.wire[0]!), "ACTIVATION_FINISHED");
    await expectCode(bank.handle(run.wire[2]!), "ACTIVATION_FINISHED");
    const rev = bank.state.rev;
    const retry = await bank.handle(run.wire[4]!);
    expect(retry.outcome).toBe("retried");
    expect(retry.reply).toBe(run.wire[5]);
    expect(bank.state.rev).toBe(rev);
    // the same recorded run against another activation: not even the ids match
    const other = new Bank();
    for (const i of [0, 2, 4]) await expectCode(other.handle(run.wire[i]!), "ACTIVATION_MESSAGE_INVALID");
  });
});

describe("the bank's state", () => {
  it("counts a try once per a1: a retry with the same idempotency key gets the stored reply", async () => {
    const bank = new Bank();
    const a = activationClientStart({
      activationId: bank.state.activationId,
      regId: bank.state.regId,
      serverIdentity: "sogesmart.example",
      codes: bank.codes,
    });
    const first = await bank.handle(a.request);
    const again = await bank.handle(a.request);
    expect(again.reply).toBe(first.reply);
    expect(again.changed).toBe(false);
    expect(bank.state.tries).toBe(1);
    const other = JSON.stringify({ ...JSON.parse(a.request), share: JSON.parse(first.reply).share });
    await expectCode(bank.handle(other), "IDEMPOTENCY_KEY_REUSED");
  });

  it("refuses at the door, counting nothing: malformed, oversized, expired", async () => {
    const bank = new Bank();
    for (const bad of ["", "[]", "{}", "x".repeat(9000), JSON.stringify({ v: "capkit-activation/2" })])
      await expectCode(bank.handle(bad), "ACTIVATION_MESSAGE_INVALID");
    const a = activationClientStart({
      activationId: bank.state.activationId,
      regId: bank.state.regId,
      serverIdentity: "sogesmart.example",
      codes: bank.codes,
    });
    const m = JSON.parse(a.request);
    await expectCode(
      bank.handle(JSON.stringify({ ...m, share: toBase64(new Uint8Array(65)) })),
      "ACTIVATION_MESSAGE_INVALID",
    );
    await expectCode(bank.handle(JSON.stringify({ ...m, extra: 1 })), "ACTIVATION_MESSAGE_INVALID");
    expect(bank.state.tries).toBe(0);
    expect(bank.state.rev).toBe(0);
    bank.now = NOW + 600;
    await expectCode(bank.handle(a.request), "ACTIVATION_EXPIRED");
  });

  it("is plain JSON: it survives storage as text between every step", async () => {
    const bank = new Bank();
    const orig = bank.handle.bind(bank);
    bank.handle = async (r) => {
      bank.state = JSON.parse(JSON.stringify(bank.state));
      return orig(r);
    };
    await runActivation(bank, softwareDevice());
    expect(bank.state.phase).toBe("active");
  });
});

describe("activation policy (PSD2 RTS Art. 25: never two features through one channel)", () => {
  it("accepts two features on two channels", () => {
    expect(activationPolicy({ features: ["sms", "password"] }).features).toEqual(["sms", "password"]);
    expect(activationPolicy({ features: ["sms", "letter"] }).maxTries).toBe(5);
  });
  it("refuses shared channels, single features, no bank-generated code, unknown features", () => {
    for (const input of [
      { features: ["sms", "letter"], channels: { letter: "mobile-network" } },
      { features: ["sms"] },
      { features: ["sms", "sms"] },
      { features: ["password", "sms"], channels: { password: "mobile-network" } },
      { features: ["password"] },
      { features: ["sms", "carrier-pigeon"] },
      { features: ["sms", "password"], ttl: 10 },
    ])
      expect(() => activationPolicy(input as never), JSON.stringify(input)).toThrow(
        expect.objectContaining({ code: "ACTIVATION_POLICY_INVALID" }),
      );
  });
});

describe("properties", () => {
  it("the right code and password activate; a wrong code never does", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9]{8}$/), fc.boolean(), async (guess, right) => {
        const bank = new Bank();
        const typed = right ? bank.codes["sms"]! : guess;
        let ok = true;
        try {
          await runActivation(bank, softwareDevice(), { code: typed });
        } catch (e) {
          ok = false;
          expect(code(e)).toBe("ACTIVATION_REFUSED");
        }
        expect(ok).toBe(typed === bank.codes["sms"]);
      }),
      { numRuns: 30 },
    );
  });
});
