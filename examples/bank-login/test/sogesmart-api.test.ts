import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startBank } from "./browser.js";

/**
 * The app API at its door, the way it will be attacked: no browser, hostile requests. Every refusal is JSON,
 * sets no cookie, and leaves nothing behind (no SMS, no activation, nothing counted).
 */
let bank: Awaited<ReturnType<typeof startBank>>;
beforeEach(async () => {
  bank = await startBank({ sogesmart: { startIntervalSeconds: 0 } });
});
afterEach(async () => {
  await bank.close();
});

const key = () => randomBytes(16).toString("hex");
async function api(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${bank.url}/api/sogesmart${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key(), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: r.status,
    cookie: r.headers.get("set-cookie"),
    type: r.headers.get("content-type"),
    body: (await r.json()) as Record<string, unknown>,
  };
}
const sms = async () => (await bank.bank.outbox.list()).length;

describe("the SogeSmart app API's door", () => {
  it("refuses what is not the app's JSON, in JSON, setting no cookie and sending nothing", async () => {
    const { set } = await bank.bank.demo.create();
    const start = { identifiant: set.sogenetPassword, appVersion: "5.0.0", purpose: "first" };
    const refusals = [
      await api("/activation/start", "identifiant=1", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      await api("/activation/start", start, { "idempotency-key": "not-a-key" }),
      await api("/activation/start", start, { origin: "http://evil.example" }),
      await api("/activation/start", start, { "sec-fetch-site": "cross-site" }),
      await api("/activation/start", "[1,2]"),
      await api("/activation/start", "{"),
      await api("/activation/start", { ...start, identifiant: 12345678 }),
      await api("/activation/start", { ...start, purpose: "everything" }),
      await api("/activation/start", { ...start, appVersion: "5.0.0; DROP" }),
      await api("/login", { credential: { $gt: "" }, challenge: "x", otp: 1, signature: [] }),
      await api("/login/challenge", { credential: "../../etc" }),
      await api("/operations/pending", { credential: [], challenge: 1, otp: null, signature: {} }),
      await api("/operations/decide", { credential: "x", id: { $ne: 1 }, device: "accept" }),
      await api("/nothing", {}),
    ];
    expect(refusals.map((r) => r.status)).toEqual([
      415, 400, 403, 403, 400, 400, 400, 400, 400, 400, 400, 400, 400, 404,
    ]);
    for (const r of refusals) {
      expect(r.cookie).toBeNull();
      expect(r.type).toMatch(/^application\/json/);
      expect(typeof r.body["error"]).toBe("string");
    }
    expect(await sms()).toBe(0);
    expect((await bank.bank.sogesmart.status(set.sogenetPassword)).activations).toEqual([]);
  });

  it("does a request once per Idempotency-Key: the same one again gets the kept answer, another is refused", async () => {
    const { set } = await bank.bank.demo.create();
    const k = key();
    const start = { identifiant: set.sogenetPassword, appVersion: "5.0.0", purpose: "first" };
    const [first, second] = await Promise.all([
      api("/activation/start", start, { "idempotency-key": k }),
      api("/activation/start", start, { "idempotency-key": k }),
    ]);
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(
      await api("/activation/start", { ...start, purpose: "password-lost" }, { "idempotency-key": k }),
    ).toMatchObject({
      status: 422,
      body: { error: "IDEMPOTENCY_KEY_REUSED" },
    });
    await expect.poll(sms).toBe(1);
    expect((await bank.bank.sogesmart.status(set.sogenetPassword)).activations).toHaveLength(1);
  });

  it("answers an identifiant nobody holds like a customer's, and sends it nothing", async () => {
    const { set } = await bank.bank.demo.create();
    const known = await api("/activation/start", {
      identifiant: set.sogenetPassword,
      appVersion: "5.0.0",
      purpose: "first",
    });
    const unknown = await api("/activation/start", {
      identifiant: "00000001",
      appVersion: "5.0.0",
      purpose: "first",
    });
    expect(unknown.status).toBe(known.status);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort());
    await expect.poll(sms).toBe(1);
  });

  it("counts a login without the device (a forged signature) in the customer's one lockout, and locks at 5", async () => {
    const results: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const { body } = await api("/login/challenge", { credential: "SD0000000000000001.1" });
      const r = await api("/login", {
        credential: "SD0000000000000001.1",
        challenge: body["challenge"],
        otp: "123456",
        signature: randomBytes(64).toString("base64"),
        password: "123456",
      });
      results.push(r.body["result"]);
    }
    expect(results).toEqual(["rejected", "rejected", "rejected", "rejected", "locked", "locked"]);
  });

  it("shows a phone's SMS to its own browser only", async () => {
    const mine = await bank.bank.demo.create();
    await bank.bank.demo.create();
    const feed = async (cookie?: string) =>
      fetch(`${bank.url}/dev/sms/a`, { headers: cookie ? { cookie } : {} }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { phone?: string },
      }));
    expect((await feed()).status).toBe(401);
    const seen = await feed(`bank_demo=${mine.browser}`);
    expect(seen.status).toBe(200);
    expect(seen.body.phone).toBe(mine.set.sogesmart!.a.phone);
  });
});
