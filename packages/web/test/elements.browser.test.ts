/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import type { CapkitErrorCode } from "@capkit/core";
import { expectAccessible, launchChromium } from "@capkit/test-support/browser";
import { newSimCardState, type SimCardState } from "@capkit/token-sim";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleCapkitWeb } from "../src/bundle.js";
import { checkDoor, type Door, registryDoor } from "./doors.js";

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

/** What the made-up origin serves besides the page: the bundle, a module that hands its exports to tests, JSON. */
const FILES: Record<string, { type: string; body: () => string }> = {
  "/capkit-web.js": { type: "text/javascript", body: () => bundle },
  "/expose.js": {
    type: "text/javascript",
    body: () => `import * as web from "/capkit-web.js"; window.capkitWeb = web;`,
  },
  "/wrong-card.json": {
    type: "application/json",
    body: () => JSON.stringify({ ...newSimCardState("sesame", "1234"), atc: "12" }),
  },
  "/not-json.json": { type: "application/json", body: () => "{ not json" },
  "/wrong-token.json": {
    type: "application/json",
    body: () => JSON.stringify({ id: "t", kind: "totp", secretHex: 3132 }),
  },
};

beforeAll(async () => {
  [browser, bundle] = await Promise.all([launchChromium(), bundleCapkitWeb()]);
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    const file = FILES[url.pathname];
    if (file) return route.fulfill({ contentType: file.type, body: file.body() });
    if (url.pathname.endsWith(".json")) return route.fulfill({ status: 404, body: "" });
    return route.fulfill({ contentType: "text/html", body: PAGE });
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

describe("the elements' doors: what plain JavaScript hands them wrong is refused, typed and true", () => {
  const INPUT: CapkitErrorCode[] = ["INPUT_INVALID"];
  const RFC_HEX = "3132333435363738393031323334353637383930";
  const TOKEN = { element: "capkit-sgpass-token" } as const;
  const READER = { element: "capkit-sesame-reader" } as const;
  const integer = (min: number, max: number) => (x: unknown) =>
    typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;
  const optional = (valid: (x: unknown) => boolean) => (x: unknown) => x === undefined || valid(x);
  const matching = (re: RegExp) => (x: unknown) => typeof x === "string" && re.test(x);
  const oneOf =
    (...v: unknown[]) =>
    (x: unknown) =>
      v.includes(x);
  const never = () => false;

  async function openWithExports(): Promise<void> {
    await open();
    await page.addScriptTag({ url: "/expose.js", type: "module" });
    await page.waitForFunction(() => "capkitWeb" in window);
  }

  it("<capkit-sgpass-token>.provision(p): every field, and the token there stays as it was", async () => {
    await openWithExports();
    const base = { id: "door", kind: "hotp", secretHex: RFC_HEX };
    const field = (
      f: string,
      names: RegExp,
      valid: (x: unknown) => boolean,
      codes: CapkitErrorCode[] = INPUT,
    ): Door => ({
      target: TOKEN,
      method: "provision",
      args: [base],
      arg: 0,
      field: f,
      names,
      codes,
      valid,
    });
    const doors: Door[] = [
      {
        target: TOKEN,
        method: "provision",
        args: [base],
        arg: 0,
        names: /^the token provisioning must be an object/,
        codes: INPUT,
        valid: never,
        inner: ["INPUT_INVALID", "HEX_INVALID", "OTP_SECRET_INVALID", "OTP_SECRET_TOO_SHORT"],
      },
      field("id", /^the token's id must be /, matching(/^[\w.@:+-]{1,128}$/)),
      field("kind", /^the kind must be /, oneOf("totp", "hotp")),
      field("secretHex", /^(secretHex|the secret )/, never, [
        "INPUT_INVALID",
        "HEX_INVALID",
        "OTP_SECRET_INVALID",
        "OTP_SECRET_TOO_SHORT",
      ]),
      field("algorithm", /^the algorithm must be /, optional(oneOf("SHA1", "SHA256", "SHA512"))),
      field("digits", /^digits must be /, optional(integer(6, 10))),
      field("step", /^the step must be /, optional(integer(1, 86_400))),
      field("t0", /^T0 must be /, optional(integer(0, Number.MAX_SAFE_INTEGER))),
      field("counter", /^the counter must be /, optional(integer(0, Number.MAX_SAFE_INTEGER))),
      field("pin", /^(the PIN must be|the token PIN must be )/, optional(matching(/^[0-9]{4,8}$/)), [
        "PIN_INVALID",
      ]),
    ];
    for (const door of doors) await checkDoor(page, door);

    // A token provisioned, then documents refused: the same token, its counter where it was (RFC 4226
    // Appendix D: counter 0 → 755224), nothing stored under the refused ids.
    const refused = await page.evaluate(
      ({ hex }) => {
        const token = document.querySelector("capkit-sgpass-token") as unknown as TokenEl;
        token.provision({ id: "kept", kind: "hotp", secretHex: hex });
        const wrong = [
          null,
          [],
          { id: "other", kind: "hotp", secretHex: 3132 },
          { id: "other", kind: "ocra", secretHex: hex },
          { id: "other", kind: "hotp", secretHex: hex, counter: "5" },
          { id: "other", kind: "hotp", secretHex: hex, digits: 5 },
          { id: "other", kind: "hotp", secretHex: hex, pin: 1234 },
          { id: "bad id!", kind: "hotp", secretHex: hex },
        ];
        let n = 0;
        for (const p of wrong)
          try {
            token.provision(p);
          } catch {
            n++;
          }
        token.press();
        return { n, stored: Object.keys(localStorage).filter((k) => k.startsWith("capkit-sgpass:")) };
      },
      { hex: RFC_HEX },
    );
    expect(refused.n).toBe(8);
    expect(await tokenLcd()).toBe("755224");
    expect(refused.stored).toEqual(["capkit-sgpass:kept"]);
  });

  it("<capkit-sgpass-token>.enterPin(pin): a PIN that is not a string is refused and not counted", async () => {
    await openWithExports();
    await page.evaluate((hex) => {
      const token = document.querySelector("capkit-sgpass-token") as unknown as TokenEl;
      token.provision({ id: "pin-door", kind: "hotp", secretHex: hex, pin: "4321" });
      token.press();
    }, RFC_HEX);
    const wrongType = (x: unknown) => typeof x !== "string";
    await checkDoor(page, {
      target: TOKEN,
      method: "enterPin",
      args: ["4321"],
      arg: 0,
      names: /^the PIN must be a string; got /,
      codes: ["PIN_INVALID"],
      valid: (x) => !wrongType(x),
    });
    // A fresh token: ten PINs of the wrong type, then one wrong PIN — the first failure counted.
    const refused = await page.evaluate((hex) => {
      const token = document.querySelector("capkit-sgpass-token") as unknown as TokenEl;
      token.provision({ id: "pin-count", kind: "hotp", secretHex: hex, pin: "4321" });
      token.press();
      let n = 0;
      for (const pin of [1111, 4321, null, undefined, [], {}, true, 4321n, Number.NaN, ["4321"]])
        try {
          token.enterPin(pin as unknown as string);
        } catch {
          n++;
        }
      token.enterPin("1111");
      return n;
    }, RFC_HEX);
    expect(refused).toBe(10);
    expect(await tokenLcd()).toBe("FAIL 1");
  });

  it("<capkit-sesame-reader>: setCard(state) and press(key); a card refused leaves the card in the reader", async () => {
    await openWithExports();
    const state = newSimCardState("sesame", "1234");
    await page.evaluate((card) => {
      const r = document.querySelector("capkit-sesame-reader") as unknown as ReaderEl;
      r.setCard(card);
      r.insertCard();
    }, state);
    const cardField = (f: string, valid: (x: unknown) => boolean): Door => ({
      target: READER,
      method: "setCard",
      args: [state],
      arg: 0,
      field: f,
      names: new RegExp(`^simulated card state: "${f}" must be `),
      codes: INPUT,
      valid,
    });
    await checkDoor(page, {
      target: READER,
      method: "setCard",
      args: [state],
      arg: 0,
      names: /^the simulated card state must be /,
      codes: INPUT,
      valid: never,
      inner: INPUT,
    });
    // (No value of the door's list is a valid PAN or ATC: every setCard here is refused.)
    await checkDoor(page, cardField("pan", matching(/^[0-9]{12,19}$/)));
    await checkDoor(page, cardField("atc", integer(0, 0xffff)));
    // The card given first is still in the reader: CODE, its PIN, a code.
    const code = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const r = document.querySelector("capkit-sesame-reader") as unknown as ReaderEl;
          document.addEventListener("capkit-code", (e) => resolve((e as CustomEvent).detail.code), {
            once: true,
          });
          for (const k of ["OK", "1", "2", "3", "4", "OK"]) r.press(k);
        }),
    );
    expect(code).toMatch(/^[0-9]{8}$/);
    await checkDoor(page, cardField("pin", matching(/^[0-9]{4,12}$/)));
    await checkDoor(page, {
      target: READER,
      method: "press",
      args: ["OK"],
      arg: 0,
      names: /^the key must be /,
      codes: INPUT,
      valid: oneOf("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "OK", "C", "FN"),
    });
  });

  it("defineCapkitElements(registry): anything but a registry is refused", async () => {
    await openWithExports();
    await checkDoor(page, registryDoor("capkitWeb", "defineCapkitElements"));
  });

  it("card-src and token-src: a document that is not there, not JSON or refused is a capkit-error event with its code", async () => {
    await open();
    const errors = await page.evaluate(async () => {
      const seen: { code: string; message: string }[] = [];
      document.addEventListener("capkit-error", (e) => seen.push((e as CustomEvent).detail));
      const reader = document.querySelector("capkit-sesame-reader")!;
      const token = document.querySelector("capkit-sgpass-token")!;
      reader.setAttribute("card-src", "/wrong-card.json");
      token.setAttribute("token-src", "/wrong-token.json");
      reader.setAttribute("card-src", "/missing.json");
      token.setAttribute("token-src", "/not-json.json");
      for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      return seen.map((d) => `${d.code} ${d.message}`).sort();
    });
    expect(errors).toEqual([
      "INPUT_INVALID card-src: /missing.json answered HTTP 404",
      "INPUT_INVALID secretHex must be a string; got a number",
      'INPUT_INVALID simulated card state: "atc" must be 0–65535; got a string',
      "INPUT_INVALID token-src: /not-json.json is not JSON",
    ]);
    // Nothing was provisioned: the slot has no card, the token's button is off.
    expect(
      await page
        .locator("capkit-sesame-reader")
        .getByRole("button", { name: "Insérer la carte" })
        .isDisabled(),
    ).toBe(true);
    expect(
      await page
        .locator("capkit-sgpass-token")
        .getByRole("button", { name: "Afficher un code" })
        .isDisabled(),
    ).toBe(true);
  });
});
