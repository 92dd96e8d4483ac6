/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { openBundledPage } from "@capkit/test-support/browser";
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
let browser: Browser;
let page: Page;

beforeAll(async () => {
  ({ browser, page } = await openBundledPage({
    module: "@capkit/provision",
    names: ["verifyReceipt", "verifyReceiptChain"],
    from: import.meta.url,
    title: "Receipts",
  }));
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
