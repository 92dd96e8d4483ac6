import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type BankServer, startBankServer } from "../src/server.js";

export { expectAccessible, launchChromium } from "@capkit/test-support/browser";

/** A bank with fresh data (its own temporary directory) on a free port. */
export async function startBank(): Promise<BankServer & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "capkit-bank-"));
  const server = await startBankServer({ dataDir });
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Screenshots for the README, written to docs/ when missing or when CAPKIT_SCREENSHOTS=1 (so an ordinary test
 * run leaves the working tree alone: the codes on them change every run).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const docs = join(import.meta.dirname, "../../../docs");
  const path = join(docs, name);
  if (existsSync(path) && process.env["CAPKIT_SCREENSHOTS"] !== "1") return;
  mkdirSync(docs, { recursive: true });
  await page.screenshot({ path, fullPage: true });
}

export function reader(page: Page): Locator {
  return page.locator("capkit-sesame-reader");
}

/** The element's text once it is there (Playwright waits for it), trimmed. */
export async function textOf(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the LCD's line break
  return (await l.innerText()).trim();
}

export async function lcd(device: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the LCD's line break
  return (await device.getByRole("status").innerText()).trim();
}

export async function readerState(device: Locator): Promise<string> {
  return device.evaluate((e) => (e as unknown as { screen: { state: string } }).screen.state);
}

/** Presses reader keys by their accessible names (digits, "OK (valider)", "C (correction)", "Fonction ▸"). */
export async function pressKeys(device: Locator, keys: readonly string[]): Promise<void> {
  const names: Record<string, string> = { OK: "OK (valider)", C: "C (correction)", FN: "Fonction ▸" };
  for (const k of keys) await device.getByRole("button", { name: names[k] ?? k, exact: true }).click();
}

/** Insert the card (if out), run a function on the reader with the PIN, and return the code as displayed. */
export async function readerCode(page: Page, steps: readonly string[], pin = "1234"): Promise<string> {
  const device = reader(page);
  const slot = device.getByRole("button", { name: "Insérer la carte" });
  await expect.poll(() => slot.isEnabled()).toBe(true); // the card arrives from /devices/card.json
  await slot.click();
  await pressKeys(device, [...steps, ...pin, "OK"]);
  await expect.poll(() => readerState(device)).toBe("code");
  const display = (await lcd(device)).split("\n")[1]!.trim();
  expect(display).toMatch(/^[0-9]{4} [0-9]{4}$/);
  return display;
}

export async function storedAtc(page: Page): Promise<number> {
  return reader(page).evaluate((e) => (e as unknown as { cardState: { atc: number } }).cardState.atc);
}
