import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/http.js";
import { startBank } from "./browser.js";

/** The bank's HTTP hygiene, checked with plain requests (no browser needed). */
let bank: Awaited<ReturnType<typeof startBank>>;

beforeAll(async () => {
  bank = await startBank();
});
afterAll(async () => {
  await bank?.close();
});

/** A page's session cookie and CSRF token, as a browser would get them. */
async function formSession(path: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const r = await fetch(`${bank.url}${path}`);
  const setCookie = r.headers.get("set-cookie") ?? "";
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await r.text())?.[1] ?? "";
  return { cookie: setCookie.split(";")[0]!, csrf, setCookie };
}

function post(path: string, cookie: string, body: string, type = "application/x-www-form-urlencoded") {
  return fetch(`${bank.url}${path}`, {
    method: "POST",
    headers: { cookie, "content-type": type },
    body,
    redirect: "manual",
  });
}

describe("bank-login HTTP hygiene", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie and a strict CSP", async () => {
    const r = await fetch(`${bank.url}/sogenet`);
    expect(r.headers.get("set-cookie")).toMatch(/^bank_sid=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses a POST without the session's CSRF token, and counts nothing", async () => {
    const { cookie } = await formSession("/sogenet");
    const other = await formSession("/sogenet");
    for (const token of ["", "forged", other.csrf]) {
      const r = await post("/sogenet/login", cookie, `_csrf=${token}&user=10203040&password=000000`);
      expect(r.status).toBe(403);
      expect(await r.text()).toContain("Votre session a expiré ou le formulaire n&#39;est pas valide");
    }
    expect(bank.bank.users.get("10203040")!.failures).toBe(0);
  });

  it("limits bodies to 8 KiB and accepts only form encoding", async () => {
    const { cookie, csrf } = await formSession("/sogenet");
    const big = `_csrf=${csrf}&user=10203040&password=000000&pad=${"x".repeat(MAX_BODY_BYTES)}`;
    const r = await post("/sogenet/login", cookie, big);
    expect(r.status).toBe(413);
    expect(await r.text()).toContain("La requête est trop volumineuse.");
    const json = await post(
      "/sogenet/login",
      cookie,
      JSON.stringify({ user: "10203040" }),
      "application/json",
    );
    expect(json.status).toBe(415);
    expect(bank.bank.users.get("10203040")!.failures).toBe(0);
  });

  it("keeps passwords as scrypt hashes and gives a new session id at login (no fixation)", async () => {
    expect(bank.bank.users.get("10203040")!.password).toMatch(
      /^scrypt\$16384\$8\$1\$[\w+/]{22}==\$[\w+/]{43}=$/,
    );
    const { cookie, csrf } = await formSession("/sogenet");
    const r = await post("/sogenet/login", cookie, `_csrf=${csrf}&user=10203040&password=112233`);
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/sogenet/password");
    const after = (r.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(after).toMatch(/^bank_sid=/);
    expect(after).not.toBe(cookie);
    // The pre-login id opens nothing.
    const old = await fetch(`${bank.url}/account`, { headers: { cookie }, redirect: "manual" });
    expect(old.status).toBe(401);
  });

  it("answers unknown paths with 404 and a page, not a stack trace", async () => {
    const r = await fetch(`${bank.url}/nope`);
    expect(r.status).toBe(404);
    const text = await r.text();
    expect(text).toContain("Cette page n&#39;existe pas.");
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });
});
