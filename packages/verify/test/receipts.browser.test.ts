/// <reference lib="dom" />
// (The callbacks given to page.evaluate run in the browser: they are typed against the DOM.)
import { openBundledPage } from "@capkit/test-support/browser";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySecurityStore } from "../src/approvals.js";
import { MemoryStore } from "../src/index.js";
import { appDevice, world } from "./approvals-world.js";

/**
 * The receipts a bank's @capkit/verify makes (its key provider's receipt key, chained per user) checked by a
 * customer's browser with @capkit/provision alone, bundled for the browser platform: what a bank's page or a
 * customer's own tool does offline.
 */
let browser: Browser;
let page: Page;

beforeAll(async () => {
  ({ browser, page } = await openBundledPage({
    module: "@capkit/provision",
    names: ["verifyReceiptChain"],
    from: import.meta.url,
    title: "Receipts",
  }));
});
afterAll(async () => {
  await browser?.close();
});

describe("a bank's receipts verified in Chromium", () => {
  it("the chain the approvals made verifies in the page with the receipt public keys; a changed or swapped one does not", async () => {
    const store = new MemoryStore();
    const w = world({ store, security: new MemorySecurityStore(store) });
    const app = await appDevice(w);
    for (const decision of ["accept", "decline", "accept"] as const) {
      const op = await app.operation();
      await w.approvals.decide({ id: op.id, device: await app.decide(op.digest, decision) });
      w.clock.advance(1000);
    }
    const chain = await w.approvals.receipts(app.user);
    const keys = Object.fromEntries(
      Object.entries(await w.approvals.receiptKeys()).map(([k, v]) => [k, [...v]]),
    );
    const changed = chain.map((s, i) =>
      i === 1 ? { ...s, receipt: { ...s.receipt, result: "approved" } } : s,
    );
    const verdicts = await page.evaluate(
      ({ chain, keys, changed }) => {
        type V = { ok: boolean; reason?: string; index?: number };
        const c = (window as unknown as { capkit: { verifyReceiptChain(s: unknown[], k: unknown): V } })
          .capkit;
        const k = Object.fromEntries(Object.entries(keys).map(([id, b]) => [id, new Uint8Array(b)]));
        return {
          chain: c.verifyReceiptChain(chain, k),
          changed: c.verifyReceiptChain(changed, k),
          swapped: c.verifyReceiptChain([chain[0], chain[2], chain[1]], k),
          unknownKey: c.verifyReceiptChain(chain, {}),
        };
      },
      { chain, keys, changed },
    );
    expect(verdicts).toEqual({
      chain: { ok: true },
      changed: { ok: false, reason: "bad-signature", index: 1 },
      swapped: { ok: false, reason: "broken-chain", index: 1 },
      unknownKey: { ok: false, reason: "unknown-key", index: 0 },
    });
  });
});
