import { rmSync } from "node:fs";
import { launchChromium } from "@capkit/test-support/browser";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BankServerOptions } from "../src/server.js";
import { expectAccessible, screenshot, textOf } from "./browser.js";
import {
  activate,
  alertOf,
  fill,
  heading,
  login,
  ownBank,
  phone,
  press,
  screenOf,
  sogesmartUsers,
} from "./sogesmart-phone.js";

/**
 * The guide's « COMPTE BLOQUÉ » with two users on one SogeSmart account: user A's « mot de passe perdu »,
 * password change or new app version leaves user B's app typing a password that no longer works. The legacy
 * mode (SOGESMART_LEGACY=1) reproduces the guide: one password per account, B's 5th try blocks the account,
 * A included. The default: personal passwords, A's actions change nothing for B, and a device that must be
 * activated again is told so after its proof of possession, with nothing counted.
 */
const BLOCKED = "Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné";
const WRONG = "Identifiant ou mot de passe incorrect.";
const LAST = `${WRONG} Attention : au prochain mot de passe erroné, votre accès sera bloqué.`;

let browser: Browser;
let context: BrowserContext;
let page: Page;
let bank: Awaited<ReturnType<typeof ownBank>>;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await context?.close();
  await bank?.close();
  if (bank) rmSync(bank.dataDir, { recursive: true, force: true });
});

async function open(sogesmart: BankServerOptions["sogesmart"]): Promise<{ a: string; b: string }> {
  bank = await ownBank({ sogesmart: { startIntervalSeconds: 0, ...sogesmart } });
  context = await browser.newContext({ locale: "fr-FR" });
  page = await context.newPage();
  await page.goto(`${bank.url}/sogesmart`);
  return sogesmartUsers(page);
}

/** A logs in, then changes the password in Paramétrages. */
async function changeInSettings(identifiant: string, current: string, next: string): Promise<void> {
  const ph = phone(page, "a");
  await login(page, "a", identifiant, current);
  await expect.poll(() => screenOf(ph)).toBe("home");
  await press(ph, "Paramétrages");
  await expect.poll(() => heading(ph)).toBe("PARAMÉTRAGES");
  await expectAccessible(page);
  await fill(ph, "Mot de passe actuel", current);
  await fill(ph, "Nouveau mot de passe", next);
  await fill(ph, "Confirmation du mot de passe", next);
  await press(ph, "Valider");
  await expect.poll(() => screenOf(ph)).toBe("home");
  await press(ph, "Se déconnecter");
}

describe("legacy mode: the guide's one password per account", () => {
  it("A's « mot de passe perdu »: B's app types the old password, is warned at the 4th and the account blocked at the 5th — A too", async () => {
    const { a, b } = await open({ legacySharedPassword: true });
    await activate(page, "a", a, { newPassword: "246813" });
    await activate(page, "b", b, { newPassword: "246813" }); // the account's password, as A set it
    const pa = phone(page, "a");
    const pb = phone(page, "b");
    await login(page, "b", b, "246813");
    await expect.poll(() => screenOf(pb)).toBe("home");
    await press(pb, "Se déconnecter");
    // A: « Mot de passe perdu » → a new activation and a new password for the account.
    await pa.getByRole("button", { name: "Mot de passe perdu" }).click();
    await activate(page, "a", a, { newPassword: "135790", from: "here" });
    for (let i = 1; i <= 3; i++) {
      await login(page, "b", b, "246813");
      expect(await alertOf(pb)).toBe(WRONG);
    }
    await login(page, "b", b, "246813");
    expect(await alertOf(pb)).toBe(LAST);
    await login(page, "b", b, "246813");
    expect(await alertOf(pb)).toBe(BLOCKED);
    await expectAccessible(page);
    await screenshot(page, "sogesmart-legacy-blocked.png");
    // The whole account: A, with the right password, is blocked as well.
    await login(page, "a", a, "135790");
    expect(await alertOf(pa)).toBe(BLOCKED);
  });

  it("A's password change and A's new app version: B's old password is counted each time", async () => {
    const { a, b } = await open({ legacySharedPassword: true });
    await activate(page, "a", a, { newPassword: "246813" });
    await activate(page, "b", b, { newPassword: "246813" });
    const pb = phone(page, "b");
    await changeInSettings(a, "246813", "135790");
    await login(page, "b", b, "246813");
    expect(await alertOf(pb)).toBe(WRONG);
    await login(page, "b", b, "135790"); // told by A: right, the count starts again
    await expect.poll(() => screenOf(pb)).toBe("home");
    await press(pb, "Se déconnecter");
    await page.getByRole("button", { name: "Installer la nouvelle version de SogeSmart" }).first().click();
    await expect.poll(() => heading(phone(page, "a"))).toBe("ACTIVER LA NOUVELLE VERSION DE L'APPLICATION");
    await activate(page, "a", a, { newPassword: "975310", from: "here" });
    for (let i = 1; i <= 4; i++) await login(page, "b", b, "135790");
    expect(await alertOf(pb)).toBe(LAST);
  });
});

describe("default mode: personal passwords, possession first", () => {
  it("A's « mot de passe perdu », password change and new app version change nothing for B, and count nothing", async () => {
    const { a, b } = await open({});
    await activate(page, "a", a, { newPassword: "246813" });
    await activate(page, "b", b, { newPassword: "864200" });
    const pa = phone(page, "a");
    await pa.getByRole("button", { name: "Mot de passe perdu" }).click();
    await activate(page, "a", a, { newPassword: "135790", from: "here" });
    await changeInSettings(a, "135790", "975310");
    await page.getByRole("button", { name: "Installer la nouvelle version de SogeSmart" }).first().click();
    await activate(page, "a", a, { newPassword: "112358", from: "here" });
    // B: four wrong passwords of B's own and then B's right one — not blocked, so nothing of A's was counted.
    const pb = phone(page, "b");
    for (let i = 1; i <= 4; i++) await login(page, "b", b, "000000");
    expect(await alertOf(pb)).toBe(LAST);
    await login(page, "b", b, "864200");
    await expect.poll(() => screenOf(pb)).toBe("home");
  });

  it("B's device below the bank's new app-version floor proves possession and is told to reactivate, counting nothing", async () => {
    const { b } = await open({});
    await activate(page, "b", b, { newPassword: "864200" });
    // The bank publishes version 6 and raises its floor: restarted with SOGESMART_MIN_APP_VERSION=6.
    const { dataDir, port } = bank;
    await bank.close();
    bank = await ownBank({ dataDir, port, sogesmart: { startIntervalSeconds: 0, minAppVersion: "6.0.0" } });
    const pb = phone(page, "b");
    for (let i = 1; i <= 6; i++) {
      await login(page, "b", b, i === 6 ? "864200" : "000000");
      await expect.poll(() => screenOf(pb)).toBe("reactivation");
      expect(await textOf(pb.getByRole("paragraph").first())).toBe(
        "La nouvelle version de SogeSmart oblige à recevoir un nouveau mot de passe par SMS : activez l'application.",
      );
      if (i === 1) {
        await expectAccessible(page);
        await screenshot(page, "sogesmart-reactivation.png");
      }
      await press(pb, "Retour Accueil");
      await press(pb, "Non");
    }
    // Installed and activated again: B's password works, and was never counted (6 tries above, no block).
    await page.getByRole("button", { name: "Installer la nouvelle version de SogeSmart" }).nth(1).click();
    await activate(page, "b", b, { newPassword: "864200", from: "here" });
    await login(page, "b", b, "864200");
    await expect.poll(() => screenOf(pb)).toBe("home");
  });
});
