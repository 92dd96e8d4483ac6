/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { expectAccessible, launchChromium } from "@capkit/test-support/browser";
import { newSimCardState, type SimCardState } from "@capkit/token-sim";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleCapkitWeb } from "../src/bundle.js";

/**
 * The elements alone in Chromium, on a bare page with no framework: the page is served by Playwright's router
 * at a made-up origin (localStorage works there like anywhere).
 */
const ORIGIN = "http://capkit.test";
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>capkit devices</title>
<script type="module" src="/capkit-web.js"></script></head>
<body><main><h1>Devices</h1><capkit-sesame-reader></capkit-sesame-reader>
<capkit-sgpass-token></capkit-sgpass-token></main></body></html>`;

let browser: Browser;
let bundle: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [browser, bundle] = await Promise.all([launchChromium(), bundleCapkitWeb()]);
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) => {
    const js = route.request().url().endsWith("/capkit-web.js");
    return route.fulfill({ contentType: js ? "text/javascript" : "text/html", body: js ? bundle : PAGE });
  });
  page = await context.newPage();
});
afterEach(async () => {
  await context.close();
});

async function open(): Promise<void> {
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => customElements.get("capkit-sgpass-token") !== undefined);
}

type TokenEl = { provision(p: unknown): void; press(): void; enterPin(pin: string): void };
type ReaderEl = { setCard(s: SimCardState): void; insertCard(): void; press(k: string): void };

// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the LCD's line break
const tokenLcd = () => page.locator("capkit-sgpass-token").getByRole("status").innerText();
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the LCD's line break
const readerLcd = () => page.locator("capkit-sesame-reader").getByRole("status").innerText();

describe("<capkit-sgpass-token>", () => {
  // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890" (ASCII), 8 digits: T = 59 s → 94287082 and
  // T = 1111111109 s → 07081804.
  const RFC_SEED_HEX = Buffer.from("12345678901234567890", "ascii").toString("hex");

  for (const [seconds, expected] of [
    [59, "94287082"],
    [1111111109, "07081804"],
  ] as const) {
    it(`shows the RFC 6238 code at T = ${seconds} s (page clock)`, async () => {
      await page.clock.install({ time: (seconds - 9) * 1000 });
      await open();
      await page.clock.pauseAt(seconds * 1000);
      await page.evaluate(
        (hex) =>
          (document.querySelector("capkit-sgpass-token") as unknown as TokenEl).provision({
            id: "rfc6238",
            kind: "totp",
            secretHex: hex,
            digits: 8,
          }),
        RFC_SEED_HEX,
      );
      const codes = page.evaluate(
        () =>
          new Promise<string>((resolve) =>
            document.addEventListener("capkit-code", (e) => resolve((e as CustomEvent).detail.code), {
              once: true,
            }),
          ),
      );
      await page.locator("capkit-sgpass-token").getByRole("button", { name: "Afficher un code" }).click();
      expect(await tokenLcd()).toBe(expected);
      expect(await codes).toBe(expected);
    });
  }

  it("asks for its PIN and locks after 5 wrong ones in a row, reloads included, for good", async () => {
    await open();
    const provision = () =>
      page.evaluate(() =>
        (document.querySelector("capkit-sgpass-token") as unknown as TokenEl).provision({
          id: "pin-token",
          kind: "hotp",
          secretHex: "3132333435363738393031323334353637383930",
          pin: "4321",
        }),
      );
    await provision();
    const token = page.locator("capkit-sgpass-token");
    await token.getByRole("button", { name: "Afficher un code" }).click();
    expect(await tokenLcd()).toBe("PIN ?");
    await expectAccessible(page);
    const wrongPin = async () => {
      await token.getByLabel("PIN du SGpass").fill("1111");
      await token.getByRole("button", { name: "OK" }).click();
    };
    for (let i = 1; i <= 3; i++) {
      await wrongPin();
      expect(await tokenLcd()).toBe(`FAIL ${i}`);
    }
    // A reload does not give five fresh tries: the count is kept with the token.
    await page.reload();
    await provision();
    await token.getByRole("button", { name: "Afficher un code" }).click();
    await wrongPin();
    expect(await tokenLcd()).toBe("FAIL 4");
    await wrongPin();
    expect(await tokenLcd()).toBe("LOCK");
    await page.reload();
    await provision();
    await token.getByRole("button", { name: "Afficher un code" }).click();
    expect(await tokenLcd()).toBe("LOCK");
  });

  it("shows the RFC 4226 HOTP codes in order and never twice across a reload", async () => {
    // RFC 4226 Appendix D, same seed, 6 digits: counter 0 → 755224, 1 → 287082, 2 → 359152.
    await open();
    const provision = () =>
      page.evaluate(() =>
        (document.querySelector("capkit-sgpass-token") as unknown as TokenEl).provision({
          id: "hotp-token",
          kind: "hotp",
          secretHex: "3132333435363738393031323334353637383930",
        }),
      );
    await provision();
    const button = page.locator("capkit-sgpass-token").getByRole("button", { name: "Afficher un code" });
    await button.click();
    expect(await tokenLcd()).toBe("755224");
    await button.click();
    expect(await tokenLcd()).toBe("287082");
    await page.reload();
    await provision();
    await button.click();
    expect(await tokenLcd()).toBe("359152");
  });
});

describe("<capkit-sesame-reader>", () => {
  it("takes a card given by the page, emits the code as an event, and keeps the ATC across reloads", async () => {
    const issued = newSimCardState("sesame", "1234");
    await open();
    await expectAccessible(page);
    const run = () =>
      page.evaluate(
        (card) =>
          new Promise<{ code: string; display: string }>((resolve) => {
            const r = document.querySelector("capkit-sesame-reader") as unknown as ReaderEl;
            document.addEventListener("capkit-code", (e) => resolve((e as CustomEvent).detail), {
              once: true,
            });
            r.setCard(card);
            r.insertCard();
            for (const k of ["OK", "1", "2", "3", "4", "OK"]) r.press(k);
          }),
        issued,
      );
    const first = await run();
    expect(first.display).toBe(`${first.code.slice(0, 4)} ${first.code.slice(4)}`);
    expect(await readerLcd()).toBe(`CODE\n${first.display}`);
    const saved = await page.evaluate(
      (pan) => JSON.parse(localStorage.getItem(`capkit-sim-card:${pan}`)!),
      issued.pan,
    );
    expect(saved.atc).toBe(issued.atc + 1);
    // The page hands the same issued card again after a reload: the browser's copy, one ATC further, wins.
    await page.reload();
    const second = await run();
    expect(second.code).not.toBe(first.code);
    const again = await page.evaluate(
      (pan) => JSON.parse(localStorage.getItem(`capkit-sim-card:${pan}`)!),
      issued.pan,
    );
    expect(again.atc).toBe(issued.atc + 2);
  });

  it("counts the code's display down from the screen's offAt, and clears the line when the display goes off", async () => {
    const start = Date.UTC(2026, 11, 5, 9, 0, 0);
    await page.clock.install({ time: start - 60_000 });
    await open();
    await page.clock.pauseAt(start);
    const countdown = page.locator("capkit-sesame-reader").locator(".countdown");
    const offAt = await page.evaluate(
      (card) =>
        new Promise<number | undefined>((resolve) => {
          const r = document.querySelector("capkit-sesame-reader") as unknown as ReaderEl;
          // (An arrow function: a named one would carry the test transform's helpers into the page.)
          document.addEventListener("capkit-screen", (e) => {
            const s = (e as CustomEvent).detail as { state: string; offAt?: number };
            if (s.state === "code") resolve(s.offAt);
          });
          r.setCard(card);
          r.insertCard();
          for (const k of ["OK", "1", "2", "3", "4", "OK"]) r.press(k);
        }),
      newSimCardState("sesame", "1234"),
    );
    expect(offAt).toBe(start + 35_000); // the reader's default; the element restates no delay
    expect(await countdown.textContent()).toBe("Code affiché encore 35 s");
    await page.clock.runFor(10_000);
    expect(await countdown.textContent()).toBe("Code affiché encore 25 s");
    await page.clock.resume(); // axe waits on timers
    await expectAccessible(page);
    await page.clock.runFor(25_000);
    expect(await readerLcd()).toBe("");
    expect(await countdown.textContent()).toBe("");
  });
});
