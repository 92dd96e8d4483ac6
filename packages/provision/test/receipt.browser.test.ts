/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { launchChromium } from "@capkit/test-support/browser";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateSigningKey,
  type Receipt,
  receiptDigest,
  type SignedReceipt,
  signReceipt,
  softwareSigner,
} from "../src/index.js";

/**
 * Receipts checked offline in a browser: @capkit/provision bundled for the browser platform (no Node
 * built-in can be pulled in), loaded by a bare page in Debian's Chromium, given receipts the bank signed in
 * Node. The same verdicts as in Node, from the same code.
 */
const ORIGIN = "http://capkit.test";
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>receipts</title>
<script type="module" src="/provision.js"></script></head><body><main><h1>Receipts</h1></main></body></html>`;

let browser: Browser;
let page: Page;

async function bundle(): Promise<string> {
  const r = await build({
    stdin: {
      contents: `import { verifyReceipt, verifyReceiptChain } from "@capkit/provision"; window.capkit = { verifyReceipt, verifyReceiptChain };`,
      resolveDir: new URL(".", import.meta.url).pathname,
      loader: "js",
    },
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    conditions: ["@capkit/source"],
    logLevel: "silent",
  });
  return r.outputFiles[0]!.text;
}

beforeAll(async () => {
  const [b, js] = await Promise.all([launchChromium(), bundle()]);
  browser = b;
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) => {
    const isJs = route.request().url().endsWith("/provision.js");
    return route.fulfill({ contentType: isJs ? "text/javascript" : "text/html", body: isJs ? js : PAGE });
  });
  page = await context.newPage();
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => "capkit" in window);
});
afterAll(async () => {
  await browser?.close();
});

describe("receipts verified in Chromium", () => {
  it("a chain signed in Node verifies in the page; a tampered or reordered one does not", async () => {
    const signer = softwareSigner(generateSigningKey(), "receipts-2026");
    const chain: SignedReceipt[] = [];
    let previous: string | null = null;
    for (let i = 0; i < 3; i++) {
      const r: Receipt = {
        v: "capkit-receipt/1",
        operationDigest: String(i).repeat(64),
        user: "10203040",
        credential: "soft-1",
        method: "device",
        evidence: { signatureDigest: "ab".repeat(32) },
        result: i === 1 ? "declined" : "approved",
        time: `2026-12-05T09:0${i}:00Z`,
        previous,
      };
      chain.push(await signReceipt(r, signer));
      previous = receiptDigest(r);
    }
    const keys = { "receipts-2026": Array.from(signer.publicKey) };
    const tampered = { ...chain[1]!, receipt: { ...chain[1]!.receipt, result: "approved" } };
    const verdicts = await page.evaluate(
      ({ chain, keys, tampered }) => {
        type V = { ok: boolean; reason?: string; index?: number };
        const c = (
          window as unknown as {
            capkit: {
              verifyReceipt(s: unknown, k: unknown): V;
              verifyReceiptChain(s: unknown[], k: unknown): V;
            };
          }
        ).capkit;
        const k = { "receipts-2026": new Uint8Array(keys["receipts-2026"]) };
        return {
          one: c.verifyReceipt(chain[0], k),
          chain: c.verifyReceiptChain(chain, k),
          tampered: c.verifyReceipt(tampered, k),
          reordered: c.verifyReceiptChain([chain[1], chain[0], chain[2]], k),
          removed: c.verifyReceiptChain([chain[0], chain[2]], k),
        };
      },
      { chain, keys, tampered },
    );
    expect(verdicts.one).toEqual({ ok: true });
    expect(verdicts.chain).toEqual({ ok: true });
    expect(verdicts.tampered).toEqual({ ok: false, reason: "bad-signature" });
    expect(verdicts.reordered).toEqual({ ok: false, reason: "broken-chain", index: 0 });
    expect(verdicts.removed).toEqual({ ok: false, reason: "broken-chain", index: 1 });
  });
});
