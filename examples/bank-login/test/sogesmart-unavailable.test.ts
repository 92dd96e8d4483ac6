import { rmSync } from "node:fs";
import { launchChromium } from "@capkit/test-support/browser";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectAccessible, screenshot } from "./browser.js";
import {
  activate,
  alertOf,
  fill,
  login,
  ownBank,
  phone,
  press,
  screenOf,
  sogesmartUsers,
} from "./sogesmart-phone.js";

/**
 * « Le serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement »: the app's 30
 * seconds, on the page's clock, three ways — a request the network never answers (a route never fulfilled), a
 * socket the bank holds open without answering (its fault hook), the bank stopped — and each time nothing was
 * counted, and the retry with the same Idempotency-Key does the thing once.
 */
const UNAVAILABLE = "Le serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement";
let browser: Browser;
let context: BrowserContext;
let page: Page;
let bank: Awaited<ReturnType<typeof ownBank>>;
let a: string;
const keys: { url: string; key: string | undefined }[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  bank = await ownBank({ sogesmart: { startIntervalSeconds: 0 } });
  context = await browser.newContext({ locale: "fr-FR" });
  page = await context.newPage();
  keys.length = 0;
  page.on("request", (r: Request) => {
    if (r.url().includes("/api/sogesmart/")) keys.push({ url: r.url(), key: r.headers()["idempotency-key"] });
  });
  // The page's clock: it flows as the real one until the test moves it on.
  await page.clock.install({ time: Date.now() });
  await page.goto(`${bank.url}/sogesmart`);
  ({ a } = await sogesmartUsers(page));
});
afterEach(async () => {
  await context?.close();
  await bank?.close();
  rmSync(bank.dataDir, { recursive: true, force: true });
});

const smsTo = async (identifiant: string) =>
  (await bank.bank.outbox.list({ to: `+687 ${identifiant.replace(/(..)(?=.)/g, "$1 ")}` })).length;
const keysOf = (path: string) => keys.filter((k) => k.url.endsWith(path)).map((k) => k.key);

describe("SogeSmart: the server unavailable for 30 seconds", () => {
  it("a request the network never answers: the message after 30 s, no SMS; the retry sends one", async () => {
    const ph = phone(page, "a");
    await press(ph, "Oui");
    await fill(ph, "Identifiant Sogenet (8 chiffres)", a);
    await page.route("**/api/sogesmart/activation/start", () => {}); // never fulfilled
    const sent = page.waitForRequest("**/api/sogesmart/activation/start");
    await press(ph, "Valider");
    await sent;
    await page.clock.runFor(29_000);
    expect(await screenOf(ph)).toBe("activation");
    expect(await ph.getByRole("alert").count()).toBe(0);
    await page.clock.runFor(1_000);
    expect(await alertOf(ph)).toBe(UNAVAILABLE);
    await expectAccessible(page);
    await screenshot(page, "sogesmart-unavailable.png");
    expect(await smsTo(a)).toBe(0);
    await page.unroute("**/api/sogesmart/activation/start");
    await press(ph, "Valider");
    await expect.poll(() => screenOf(ph)).toBe("sms");
    expect(await smsTo(a)).toBe(1);
    const k = keysOf("/activation/start");
    expect(k).toHaveLength(2);
    expect(k[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(k[1]).toBe(k[0]);
  });

  it("a socket the bank holds without answering: the message, nothing judged; released, the retry logs in once", async () => {
    const ph = phone(page, "a");
    await activate(page, "a", a, { newPassword: "246813" });
    const s = bank.bank.sogesmart;
    const real = s.login.bind(s);
    let judged = 0;
    s.login = async (...args) => {
      judged++;
      return real(...args);
    };
    const stall = bank.faults.stall("/api/sogesmart/login");
    await login(page, "a", a, "246813").catch(() => undefined);
    await expect.poll(() => stall.held).toBe(1);
    await page.clock.runFor(30_000);
    expect(await alertOf(ph)).toBe(UNAVAILABLE);
    expect(judged).toBe(0);
    stall.release(); // the held request goes on, its client long gone: judged once, its answer kept
    await expect.poll(() => judged).toBe(1);
    await fill(ph, "Mot de passe", "246813");
    await press(ph, "Valider");
    await expect.poll(() => screenOf(ph)).toBe("home");
    expect(judged).toBe(1);
    const k = keysOf("/login");
    expect(k).toHaveLength(2);
    expect(k[1]).toBe(k[0]);
  });

  it("the bank stopped: the app tries again until 30 s, then the message; the bank back, one SMS", async () => {
    const ph = phone(page, "a");
    await press(ph, "Oui");
    await fill(ph, "Identifiant Sogenet (8 chiffres)", a);
    const { dataDir, port } = bank;
    await bank.close();
    const failed: string[] = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    await press(ph, "Valider");
    await expect.poll(() => failed.length).toBeGreaterThan(0);
    await page.clock.runFor(30_000);
    expect(await alertOf(ph)).toBe(UNAVAILABLE);
    expect(failed.length).toBeGreaterThan(1); // tried again within the 30 seconds
    bank = await ownBank({ dataDir, port, sogesmart: { startIntervalSeconds: 0 } });
    expect(await smsTo(a)).toBe(0);
    await press(ph, "Valider");
    await expect.poll(() => screenOf(ph)).toBe("sms");
    expect(await smsTo(a)).toBe(1);
    expect(new Set(keysOf("/activation/start")).size).toBe(1);
  });
});
