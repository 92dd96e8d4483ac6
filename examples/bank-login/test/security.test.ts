import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/app.js";
import { startBank } from "./browser.js";
import { visitors } from "./http.js";

/** The bank's HTTP hygiene, checked with plain requests (no browser needed). */
let bank: Awaited<ReturnType<typeof startBank>>;
const visitor = visitors(() => bank.url);

beforeAll(async () => {
  bank = await startBank();
});
afterAll(async () => {
  visitor.closeAll();
  await bank?.close();
});

describe("bank-login HTTP hygiene", () => {
  it("sets HttpOnly, SameSite=Strict cookies, a strict CSP, no caching", async () => {
    const r = await visitor().get("/sogenet");
    expect(r.headers["set-cookie"]).toEqual([
      expect.stringMatching(/^bank_anon=[\w-]{32}\.\d+\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/),
    ]);
    expect(r.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.headers["x-frame-options"]).toBe("DENY");
  });

  it("refuses a POST without the visitor's CSRF token, or from another origin, and counts nothing", async () => {
    const v = visitor();
    const demo = await v.demo();
    await v.get("/sogenet");
    const other = visitor();
    await other.get("/sogenet");
    for (const token of ["", "forged", other.csrf]) {
      const r = await v.send(
        "POST",
        "/sogenet",
        `_csrf=${token}&user=${demo.sogenetPassword}&password=000000`,
      );
      expect(r.status).toBe(403);
      expect(r.text).toContain("Votre session a expiré ou le formulaire n&#39;est pas valide");
    }
    const fields = { user: demo.sogenetPassword, ...v.keypad("000000") };
    const body = new URLSearchParams({ _csrf: v.csrf, ...fields }).toString();
    expect((await v.send("POST", "/sogenet", body, { origin: "http://evil.example" })).status).toBe(403);
    expect((await v.send("POST", "/sogenet", body, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    // Nothing was counted: 4 wrong passwords now, and only the 4th warns of the lock.
    for (let i = 1; i <= 4; i++) {
      await v.get("/sogenet");
      const r = await v.post("/sogenet", { user: demo.sogenetPassword, ...v.keypad("000000") });
      expect(r.text.includes("Attention : au prochain mot de passe erroné")).toBe(i === 4);
    }
  });

  it("sends the demo button back only to the bank's own pages (no open redirect)", async () => {
    let address = 20; // each from its own address: making demo customers is throttled too
    for (const [back, to] of [
      ["/sogenet?accessible=1", "/sogenet?accessible=1"],
      ["//evil.example", "/"],
      ["/\\evil.example", "/"],
      ["https://evil.example", "/"],
    ]) {
      const v = visitor({ localAddress: `127.0.0.${address++}` });
      await v.get("/coopanet");
      expect((await v.post("/demo", { back: back! })).headers["location"]).toBe(to);
    }
  });

  it("limits bodies to 8 KiB and accepts only form encoding", async () => {
    const v = visitor();
    await v.get("/sogenet");
    const big = await v.post("/sogenet", { user: "10203040", pad: "x".repeat(MAX_BODY_BYTES) });
    expect(big.status).toBe(413);
    expect(big.text).toContain("La requête est trop volumineuse.");
    const json = await v.send("POST", "/sogenet", JSON.stringify({ user: "10203040" }), {
      "content-type": "application/json",
    });
    expect(json.status).toBe(415);
  });

  it("keeps passwords as scrypt hashes and gives a new session id at login (no fixation)", async () => {
    const v = visitor();
    const demo = await v.demo();
    expect(bank.bank.customers.get("sogenet", demo.sogenetPassword)!.password).toMatch(
      /^scrypt\$16384\$8\$1\$[\w+/]{22}==\$[\w+/]{43}=$/,
    );
    await v.get("/sogenet");
    const before = new Map(v.cookies);
    const r = await v.post("/sogenet", { user: demo.sogenetPassword, ...v.keypad("112233") });
    expect(r.status).toBe(303);
    expect(r.headers["location"]).toBe("/sogenet/password");
    expect(v.cookies.get("bank_sid")).toMatch(/^[\w-]{43}$/);
    // The pre-login cookies open nothing.
    const old = visitor();
    for (const [k, val] of before) old.cookies.set(k, val);
    expect((await old.get("/sogenet/password")).status).toBe(401);
  });

  it("answers unknown paths with 404 and a page, HEAD like GET without a body", async () => {
    const v = visitor();
    const r = await v.get("/nope");
    expect(r.status).toBe(404);
    expect(r.text).toContain("Cette page n&#39;existe pas.");
    expect(r.text).not.toMatch(/at .*\.ts:\d+/);
    for (const path of ["/", "/coopanet", "/sogenet", "/assets/bank.css"]) {
      const h = await v.send("HEAD", path);
      expect([path, h.status, h.text]).toEqual([path, 200, ""]);
    }
  });
});

describe("slow and aborted requests", () => {
  it("cuts a client that never finishes its headers or its body, and keeps serving others", async () => {
    const quick = await startBank({ timeouts: { headersMs: 1000, requestMs: 1500 } });
    try {
      const { port } = new URL(quick.url);
      const slow = (text: string) =>
        new Promise<string>((resolve) => {
          const s = connect(Number(port), "127.0.0.1", () => s.write(text));
          let got = "";
          s.on("data", (d) => {
            got += d.toString();
          });
          s.on("close", () => resolve(got));
          s.on("error", () => resolve(got));
        });
      const t0 = Date.now();
      const [headers, body] = await Promise.all([
        slow(`GET /coopanet HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `),
        slow(
          `POST /coopanet HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nuser=`,
        ),
      ]);
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(headers).toMatch(/^HTTP\/1\.1 408/);
      expect(body).toMatch(/^HTTP\/1\.1 408|^$/);
      // An aborted post: the client goes away mid-body; the server carries on.
      const aborted = connect(Number(port), "127.0.0.1", () => {
        aborted.write(
          `POST /sogenet HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nuser=1`,
        );
        aborted.destroy();
      });
      expect((await fetch(`${quick.url}/coopanet`)).status).toBe(200);
    } finally {
      await quick.close();
    }
  });
});
