/// <reference lib="dom" />
import { expectAccessible, launchChromium } from "@capkit/test-support/browser";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleCapkitWeb } from "../src/bundle.js";
import { checkDoor, registryDoor } from "./doors.js";

/**
 * `<capkit-sogesmart-app>` and `<capkit-sms-inbox>` alone in Chromium, on a bare page under a strict CSP (no
 * inline script or style): keyboard use, the transport's 30 seconds and retries on the page's clock, the inbox.
 * The whole journeys against a real bank are in examples/bank-login/test/sogesmart*.test.ts.
 */
const ORIGIN = "http://capkit.test";
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'";
const PAGE = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>SogeSmart</title>
<script type="module" src="/capkit-sogesmart.js"></script></head>
<body><main><h1>Téléphone</h1><capkit-sogesmart-app phone="t1"></capkit-sogesmart-app>
<capkit-sms-inbox src="/feed" label="SMS reçus"></capkit-sms-inbox></main></body></html>`;

let browser: Browser;
let bundle: string;
let context: BrowserContext;
let page: Page;
let feed: { phone: string; messages: { seq: number; at: number; text: string }[] };
const violations: string[] = [];

beforeAll(async () => {
  [browser, bundle] = await Promise.all([launchChromium(), bundleCapkitWeb({ entry: "sogesmart" })]);
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  feed = { phone: "+687 12 34 56 78", messages: [] };
  violations.length = 0;
  context = await browser.newContext({ locale: "fr-FR" });
  await context.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    if (url.endsWith("/capkit-sogesmart.js"))
      return route.fulfill({ contentType: "text/javascript", body: bundle });
    if (url.endsWith("/expose.js"))
      return route.fulfill({
        contentType: "text/javascript",
        body: `import * as web from "/capkit-sogesmart.js"; window.capkitSogesmart = web;`,
      });
    if (url.endsWith("/feed"))
      return route.fulfill({ contentType: "application/json", body: JSON.stringify(feed) });
    if (url.includes("/api/")) return route.fallback();
    return route.fulfill({
      contentType: "text/html",
      body: PAGE,
      headers: { "content-security-policy": CSP },
    });
  });
  page = await context.newPage();
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
});
afterEach(async () => {
  expect(violations).toEqual([]);
  await context.close();
});

const app = () => page.locator("capkit-sogesmart-app");
const screen = () => app().evaluate((e) => (e as unknown as { screen: string }).screen);

async function open(): Promise<void> {
  await page.goto(`${ORIGIN}/`);
  await expect.poll(screen).toBe("welcome");
}

describe("<capkit-sogesmart-app>", () => {
  it("is operated from the keyboard alone: Tab to a button, Enter, the focus on the next screen's field", async () => {
    await open();
    await expectAccessible(page);
    await page.keyboard.press("Tab"); // into the phone: « Oui »
    await page.keyboard.press("Enter");
    await expect.poll(screen).toBe("activation");
    // The new screen put the focus in its field: type and send with Enter.
    await page.keyboard.type("1234567");
    await page.keyboard.press("Enter");
    await expect
      .poll(() => app().getByRole("alert").textContent())
      .toBe("L'identifiant Sogenet comporte 8 chiffres.");
    await expectAccessible(page);
  });

  it("sends a request that gets no answer again under the same key, and gives up at 30 s with the guide's words", async () => {
    const requests: Request[] = [];
    let answered = 0;
    await page.route(`${ORIGIN}/api/sogesmart/activation/start`, (route) => {
      requests.push(route.request());
      // The bank's proxy says it is unavailable three times, then the request hangs for good.
      if (answered++ < 3) return route.fulfill({ status: 503, body: "" });
    });
    await page.clock.install({ time: Date.UTC(2026, 11, 5, 9, 0, 0) });
    await open();
    await app().getByRole("button", { name: "Oui" }).click();
    await app().getByLabel("Identifiant Sogenet (8 chiffres)", { exact: true }).fill("12345678");
    await app().getByRole("button", { name: "Valider" }).click();
    await expect.poll(() => requests.length).toBe(1);
    await page.clock.runFor(1_000);
    await expect.poll(() => requests.length).toBe(2);
    await page.clock.runFor(2_000);
    await expect.poll(() => requests.length).toBe(3);
    await page.clock.runFor(4_000);
    await expect.poll(() => requests.length).toBe(4); // this one hangs
    expect(await app().getByRole("alert").count()).toBe(0);
    await page.clock.runFor(23_000); // 30 s in all
    await expect
      .poll(() => app().getByRole("alert").textContent())
      .toBe("Le serveur Sogesmart est actuellement indisponible, veuillez réessayer ultérieurement");
    const keys = new Set(requests.map((r) => r.headers()["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f]{32}$/);
    expect(requests.every((r) => r.postData() === requests[0]!.postData())).toBe(true);
    expect(requests[0]!.headers()["cookie"]).toBeUndefined();
    await page.clock.resume();
    await expectAccessible(page);
  });
});

describe("<capkit-sms-inbox>", () => {
  it("shows the phone's SMS newest first, and the new ones as they come", async () => {
    feed.messages = [{ seq: 1, at: Date.UTC(2026, 11, 5, 9, 0), text: "SogeSmart : premier" }];
    await page.clock.install({ time: Date.UTC(2026, 11, 5, 9, 0, 30) });
    await open();
    const items = page.locator("capkit-sms-inbox").locator("li[data-seq]");
    await expect.poll(() => items.count()).toBe(1);
    const arrived = page.evaluate(
      () =>
        new Promise<number>((resolve) =>
          document.addEventListener("capkit-sms", (e) => resolve((e as CustomEvent).detail.length), {
            once: true,
          }),
        ),
    );
    feed.messages.push({ seq: 2, at: Date.UTC(2026, 11, 5, 9, 1), text: "SogeSmart : second" });
    await page.clock.runFor(2_000);
    expect(await arrived).toBe(1);
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.first().locator(".text").textContent()).toBe("SogeSmart : second");
    expect(await page.locator("capkit-sms-inbox").getByRole("heading").textContent()).toBe(
      "Messages (+687 12 34 56 78)",
    );
    await page.clock.resume();
    await expectAccessible(page);
  });
});

describe("the doors of @capkit/web/sogesmart: what plain JavaScript hands them wrong is refused, typed and true", () => {
  it("scan(text): a text that is not a string is refused before the app changes screen", async () => {
    await open();
    await checkDoor(page, {
      target: { element: "capkit-sogesmart-app" },
      method: "scan",
      args: ["sogesmart:activation?v=1"],
      arg: 0,
      names: /^the QR code's text must be a string; got /,
      codes: ["INPUT_INVALID"],
      valid: (x) => typeof x === "string",
    });
    // The strings of the door's list were scanned (the app said each is not SogeSmart's QR code); a refusal
    // from a fresh app leaves it on its first screen.
    await page.reload();
    await open();
    const refused = await app().evaluate(async (e) => {
      const a = e as unknown as { scan(t: unknown): Promise<void> };
      return a.scan(42).then(
        () => "scanned",
        (err: { code?: string }) => err.code,
      );
    });
    expect(refused).toBe("INPUT_INVALID");
    expect(await screen()).toBe("welcome");
  });

  it("defineSogesmartElements(registry): anything but a registry is refused", async () => {
    await open();
    await page.addScriptTag({ url: "/expose.js", type: "module" });
    await page.waitForFunction(() => "capkitSogesmart" in window);
    await checkDoor(page, registryDoor("capkitSogesmart", "defineSogesmartElements"));
  });

  it("an app-version that is not a version number: a capkit-error event, a blank phone, scan refused", async () => {
    await open();
    const outcome = await app().evaluate(async (e) => {
      const a = e as unknown as HTMLElement & { ready: Promise<void>; scan(t: string): Promise<void> };
      const seen: { code: string; message: string }[] = [];
      a.addEventListener("capkit-error", (ev) => seen.push((ev as CustomEvent).detail));
      a.setAttribute("app-version", "cinq");
      await a.ready;
      const scan = await a.scan("sogesmart:activation?v=1").then(
        () => "scanned",
        (err: { code?: string; message?: string }) => `${err.code} ${err.message}`,
      );
      return { seen, scan, blank: a.shadowRoot!.childElementCount === 0 };
    });
    expect(outcome).toEqual({
      seen: [{ code: "INPUT_INVALID", message: "app-version must be a version number (5.0.0)" }],
      scan: "INPUT_INVALID the app is not open: app-version must be a version number",
      blank: true,
    });
  });
});
