import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type BankServer, type BankServerOptions, startBankServer } from "../src/server.js";
import { expectAccessible, screenshot, textOf } from "./browser.js";

/** Driving the SogeSmart page's phones as a customer does: their buttons and fields, their SMS inbox. */
export async function sogesmartUsers(p: Page): Promise<{ a: string; b: string }> {
  const make = p.getByRole("button", { name: "Recevoir mes clients de démonstration" });
  if (await make.isVisible()) await make.click();
  const id = (slot: string) => textOf(p.locator(`[data-demo="sogesmart-${slot}"]`));
  return { a: await id("a"), b: await id("b") };
}

export const phone = (p: Page, slot: "a" | "b"): Locator =>
  p.locator(`capkit-sogesmart-app[data-phone="${slot}"]`);
export const heading = (ph: Locator) => textOf(ph.getByRole("heading", { level: 2 }));
export const alertOf = (ph: Locator) => textOf(ph.getByRole("alert"));
export const screenOf = (ph: Locator) => ph.evaluate((e) => (e as unknown as { screen: string }).screen);

/** The activation code in the newest SMS of the phone's inbox (waits for a new one after `after`). */
export async function smsCode(p: Page, slot: "a" | "b", after = 0): Promise<{ code: string; count: number }> {
  const items = p.locator(`capkit-sms-inbox[src="/dev/sms/${slot}"]`).locator("li[data-seq]");
  await expect.poll(() => items.count(), { timeout: 15_000 }).toBeGreaterThan(after);
  const text = await textOf(items.first());
  const m = /mot de passe d'activation est ([0-9]{4} [0-9]{4})/.exec(text);
  expect(m, text).not.toBeNull();
  return { code: m![1]!, count: await items.count() };
}

export async function fill(ph: Locator, label: string, value: string): Promise<void> {
  await ph.getByLabel(label, { exact: true }).fill(value);
}
export async function press(ph: Locator, name: string): Promise<void> {
  await ph.getByRole("button", { name, exact: true }).click();
}

/** « Première connexion ? » Oui → identifiant → the SMS code → the Sogenet password and a new one. */
export async function activate(
  p: Page,
  slot: "a" | "b",
  identifiant: string,
  o: { newPassword: string; sogenetPassword?: string; shots?: boolean; from?: "welcome" | "here" } = {
    newPassword: "246813",
  },
): Promise<void> {
  const ph = phone(p, slot);
  const shot = async (name: string) => {
    if (!o.shots) return;
    await expectAccessible(p);
    await screenshot(p, name);
  };
  const before = await p.locator(`capkit-sms-inbox[src="/dev/sms/${slot}"]`).locator("li[data-seq]").count();
  if ((o.from ?? "welcome") === "welcome") {
    await expect.poll(() => screenOf(ph)).toBe("welcome");
    await shot("sogesmart-welcome.png");
    await press(ph, "Oui");
  }
  await expect.poll(() => screenOf(ph)).toMatch(/^(activation|password-lost)$/);
  await fill(ph, "Identifiant Sogenet (8 chiffres)", identifiant);
  await shot("sogesmart-activation.png");
  await press(ph, "Valider");
  await expect.poll(() => screenOf(ph)).toBe("sms");
  const { code } = await smsCode(p, slot, before);
  await fill(ph, "Mot de passe reçu par SMS", code);
  await shot("sogesmart-sms.png");
  await press(ph, "Valider");
  await expect.poll(() => screenOf(ph)).toBe("authentication");
  await fill(ph, "Mot de passe actuel", o.sogenetPassword ?? "112233");
  await fill(ph, "Nouveau mot de passe", o.newPassword);
  await fill(ph, "Confirmation du mot de passe", o.newPassword);
  await shot("sogesmart-authentication.png");
  await press(ph, "Valider");
  await expect.poll(() => screenOf(ph), { timeout: 30_000 }).toBe("login");
}

export async function login(p: Page, slot: "a" | "b", identifiant: string, password: string): Promise<void> {
  const ph = phone(p, slot);
  await fill(ph, "Login", identifiant);
  await fill(ph, "Mot de passe", password);
  await press(ph, "Valider");
  await expect.poll(() => ph.locator('[aria-busy="false"]').count()).toBe(1);
}

/**
 * A bank the test stops and starts again itself (same data directory, same port: the page's origin, and so
 * its phones' IndexedDB, stay the same), and a French browser page.
 */
export async function ownBank(
  o: Omit<BankServerOptions, "dataDir" | "port"> & { dataDir?: string; port?: number } = {},
): Promise<BankServer & { dataDir: string; port: number }> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), "capkit-bank-"));
  const server = await startBankServer({ ...o, dataDir, port: o.port ?? 0 });
  return { ...server, dataDir, port: Number(new URL(server.url).port) };
}
