import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "@capkit/test-support/browser";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { type BankServer, type BankServerOptions, startBankServer } from "../src/server.js";

export { expectAccessible } from "@capkit/test-support/browser";

type Bank = BankServer & { dataDir: string };

/** A bank with fresh data (its own temporary directory) on a free port. */
export async function startBank(o: Omit<BankServerOptions, "dataDir"> = {}): Promise<Bank> {
  const dataDir = mkdtempSync(join(tmpdir(), "capkit-bank-"));
  const server = await startBankServer({ dataDir, ...o });
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

/**
 * This browser's demo customers: the « Démo » box's button on the current page (a bank's login page), then
 * the identifiants the box shows.
 */
export async function demoCustomers(
  page: Page,
): Promise<{ coopanet?: string; sogenetPassword?: string; sogenetSgpass?: string }> {
  const make = page.getByRole("button", { name: "Recevoir mes clients de démonstration" });
  if (await make.isVisible()) await make.click();
  await page.locator("[data-demo]").first().waitFor();
  const id = async (k: string) => {
    const l = page.locator(`[data-demo="${k}"]`);
    return (await l.count()) ? textOf(l) : undefined;
  };
  const [coopanet, sogenetPassword, sogenetSgpass] = await Promise.all(
    ["coopanet", "sogenet-password", "sogenet-sgpass"].map(id),
  );
  return {
    ...(coopanet ? { coopanet } : {}),
    ...(sogenetPassword ? { sogenetPassword } : {}),
    ...(sogenetSgpass ? { sogenetSgpass } : {}),
  };
}

export function reader(page: Page): Locator {
  return page.locator("capkit-sesame-reader");
}

/** The element's text once it is there (Playwright waits for it), trimmed. */
export async function textOf(l: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the LCD's line break
  return (await l.innerText()).trim().replace(/\n{2,}/g, "\n"); // paragraphs: one line each
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

/**
 * The hooks every bank test in Chromium needs: one browser per file, a fresh bank (its own data directory)
 * and a fresh French browser context per test. Read `bank` and `page` inside tests or later hooks.
 */
export function bankInChromium(options: Omit<BankServerOptions, "dataDir"> = {}): {
  readonly bank: Bank;
  readonly page: Page;
  readonly context: BrowserContext;
} {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const now = {} as { bank: Bank; page: Page; context: BrowserContext };
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    now.bank = await startBank(options);
    context = await browser!.newContext({ locale: "fr-FR" });
    now.context = context;
    now.page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
    await now.bank?.close();
  });
  return now;
}
