/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { fileURLToPath } from "node:url";
import { launchChromium } from "@capkit/test-support/browser";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTP } from "./vectors.js";

/**
 * PSKC password files in a page, in Debian's Chromium: `importPskcAsync` takes WebCrypto's PBKDF2 in a secure
 * context (https) and @noble/hashes' yielding one where a page has no `crypto.subtle` (plain http), and both
 * read RFC 6030 Figure 7's secret; during a large derivation the page's event loop keeps turning either way.
 * The pages are served by Playwright's router at made-up origins.
 */
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const r = await build({
    entryPoints: [fileURLToPath(new URL("../src/index.ts", import.meta.url))],
    bundle: true,
    format: "iife",
    globalName: "capkitOath",
    platform: "browser",
    target: "es2022",
    conditions: ["@capkit/source"],
    write: false,
    logLevel: "silent",
  });
  bundle = r.outputFiles[0]!.text;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const fig7 = OTP.rfc6030_examples.figure7;
const withCount = (n: number) =>
  (fig7.xml as string)
    .replace("<IterationCount>1000</IterationCount>", `<IterationCount>${n}</IterationCount>`)
    .replace("<PRF/>", '<PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha512"/>');

type Oath = {
  importPskcAsync(xml: string, o: { password: string }): Promise<{ keys: { secret: Uint8Array }[] }>;
};
declare const capkitOath: Oath;

for (const [origin, derivation] of [
  ["https://capkit.test", "WebCrypto"],
  ["http://capkit.test", "@noble/hashes in slices"],
] as const) {
  describe(`a page at ${origin} (${derivation})`, () => {
    it("reads RFC 6030 Figure 7, and its event loop turns during 300,000 iterations of HMAC-SHA-512", async () => {
      const context = await browser.newContext();
      try {
        await context.route(`${origin}/**`, (route) =>
          route.fulfill({
            contentType: "text/html",
            body: `<!doctype html><title>pskc</title><script>${bundle}</script>`,
          }),
        );
        const page = await context.newPage();
        await page.goto(`${origin}/`);
        expect(await page.evaluate(() => window.isSecureContext && crypto.subtle !== undefined)).toBe(
          origin.startsWith("https"),
        );
        const secret = await page.evaluate(
          async ([xml, password]) => {
            const r = await capkitOath.importPskcAsync(xml, { password });
            return Array.from(r.keys[0]!.secret, (b) => b.toString(16).padStart(2, "0")).join("");
          },
          [fig7.xml as string, fig7.expect.password as string] as const,
        );
        expect(secret).toBe(fig7.expect.secretHex);
        // Turns of the page's event loop while it derives: timer tasks, and rendering opportunities (animation
        // frames). Chromium's scheduler.yield(), which @noble/hashes yields with, runs its continuation before
        // the page's ordinary tasks, so there timers wait while frames (and input) go on.
        const { timers, frames, outcome } = await page.evaluate(
          async ([xml, password]) => {
            let timers = 0;
            let frames = 0;
            let done = false;
            const timer = () => {
              if (done) return;
              timers++;
              setTimeout(timer, 0);
            };
            const frame = () => {
              if (done) return;
              frames++;
              requestAnimationFrame(frame);
            };
            setTimeout(timer, 0);
            requestAnimationFrame(frame);
            const outcome = await capkitOath.importPskcAsync(xml, { password }).then(
              () => "read",
              (e: { code?: string }) => e.code ?? "untyped",
            );
            done = true;
            return { timers, frames, outcome };
          },
          [withCount(300_000), fig7.expect.password as string] as const,
        );
        // The count changed, so the key did: derived, then refused by the MAC.
        expect(outcome).toBe("PSKC_MAC_INVALID");
        expect(frames).toBeGreaterThan(3);
        if (origin.startsWith("https")) expect(timers).toBeGreaterThan(3);
      } finally {
        await context.close();
      }
    });
  });
}
