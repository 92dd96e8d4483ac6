import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { SOGENET_LOCKED, SOGENET_WRONG, SOGENET_WRONG_CURRENT } from "../src/server.js";
import { bankInChromium, expectAccessible, screenshot, textOf } from "./browser.js";

/** SOGENET end to end in Chromium: the shuffled keypad, the first-login change, the SGpass, the lockout. */
const session = bankInChromium();
let bank: typeof session.bank;
let page: Page;
beforeEach(() => {
  ({ bank, page } = session);
});

/** The digits of the keypad in screen order (left to right, top to bottom), blanks as "_". */
async function keypadLayout(): Promise<string> {
  return page
    .locator(".keypad .grid > *")
    .evaluateAll((cells) =>
      cells.map((c) => (c as unknown as { textContent: string }).textContent || "_").join(""),
    );
}

/** Types a password by clicking the keypad's buttons (where they are on this display). */
async function clickPassword(password: string): Promise<void> {
  for (const d of password)
    await page.locator(".keypad").getByRole("button", { name: d, exact: true }).click();
}

async function login(user: string, password: string): Promise<void> {
  await page.getByLabel("Identifiant").fill(user);
  await page.locator(".keypad").getByRole("button", { name: "Effacer" }).click();
  await clickPassword(password);
  await page.getByRole("button", { name: "Valider" }).click();
}

const alertText = () => textOf(page.getByRole("alert"));

describe("SOGENET login", () => {
  it("shuffles the keypad's digits on every display", async () => {
    const layouts: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${bank.url}/sogenet`);
      const layout = await keypadLayout();
      expect(layout).toHaveLength(16);
      expect([...layout.replaceAll("_", "")].sort().join("")).toBe("0123456789");
      layouts.push(layout);
    }
    // Two equal layouts in a row have probability 6!·10!/16! ≈ 1/8 008 008 each: a repeat means no shuffle.
    expect(layouts[1]).not.toBe(layouts[0]);
    expect(layouts[2]).not.toBe(layouts[1]);
    await expectAccessible(page);
  });

  it("forces a 6-digit password change at first login; a wrong current password is named", async () => {
    await page.goto(`${bank.url}/sogenet`);
    await login("10203040", "112233");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
    await expectAccessible(page);
    // The account is out of reach until the password is changed.
    await page.goto(`${bank.url}/account`);
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);

    const change = async (current: string, next: string, confirm: string) => {
      await page.getByLabel("Mot de passe actuel").fill(current);
      await page.getByLabel("Nouveau mot de passe (6 chiffres)").fill(next);
      await page.getByLabel("Confirmation du nouveau mot de passe").fill(confirm);
      await page.getByRole("button", { name: "Valider" }).click();
    };
    await change("112233", "12345", "12345");
    await expect.poll(alertText).toBe("Le nouveau mot de passe comporte exactement 6 chiffres.");
    await change("112233", "246813", "246812");
    await expect.poll(alertText).toBe("La confirmation ne correspond pas au nouveau mot de passe.");
    expect(bank.bank.users.get("10203040")!.failures).toBe(0); // malformed: nothing counted
    await change("999999", "246813", "246813");
    await expect.poll(alertText).toBe(SOGENET_WRONG_CURRENT);
    await expectAccessible(page);
    await change("112233", "246813", "246813");
    await expect.poll(() => textOf(page.getByRole("status"))).toBe("Votre mot de passe a été changé.");

    // The old password no longer opens the account; the new one does, straight to the accounts.
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.goto(`${bank.url}/sogenet`);
    await login("10203040", "112233");
    await expect.poll(alertText).toBe(SOGENET_WRONG);
    await login("10203040", "246813");
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
  });

  it("logs in with the code the SGpass shows as the password", async () => {
    await page.goto(`${bank.url}/sogenet`);
    const token = page.locator("capkit-sgpass-token");
    const button = token.getByRole("button", { name: "Afficher un code" });
    await expect.poll(() => button.isEnabled()).toBe(true);
    await button.click();
    const code = await textOf(token.getByRole("status"));
    expect(code).toMatch(/^[0-9]{6}$/);
    await page.getByLabel("Identifiant").fill("50607080");
    await clickPassword(code);
    await expect.poll(() => textOf(page.locator("[data-dots]"))).toBe("●●●●●● (6 chiffres saisis)");
    await screenshot(page, "bank-login-sogenet.png");
    await page.getByRole("button", { name: "Valider" }).click();
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
    await expectAccessible(page);
  });

  it("locks at the 5th wrong password with SogeSmart's message; the CLI unlocks", async () => {
    await page.goto(`${bank.url}/sogenet`);
    for (let i = 1; i <= 4; i++) {
      await login("10203040", "000000");
      await expect.poll(alertText).toBe(SOGENET_WRONG);
    }
    await login("10203040", "000000");
    await expect
      .poll(alertText)
      .toBe("Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné");
    await login("10203040", "112233"); // the right one, too late
    await expect.poll(alertText).toBe(SOGENET_LOCKED);

    // The adviser's command, as documented: pnpm --filter bank-login unlock <id>.
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const r = spawnSync("pnpm", ["--filter", "bank-login", "unlock", "--data", bank.dataDir, "10203040"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.stderr + r.stdout).toContain("10203040 (sogenet) unlocked");
    expect(r.status).toBe(0);
    await login("10203040", "112233");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
  });

  it("has an accessible mode: fixed layout, labelled field typed from the keyboard", async () => {
    await page.goto(`${bank.url}/sogenet`);
    await page.getByRole("link", { name: /Mode accessible/ }).click();
    const first = await keypadLayout();
    expect(first).toBe("1234567890");
    await page.reload();
    expect(await keypadLayout()).toBe(first);
    await expectAccessible(page);
    // Keyboard only: Tab into the fields, type, Enter submits.
    await page.getByLabel("Identifiant").focus();
    await page.keyboard.type("10203040");
    await page.keyboard.press("Tab");
    await page.keyboard.type("112233");
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement
            .id,
      ),
    ).toBe("password");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
  });

  it("answers malformed input with a clear message and stores nothing", async () => {
    await page.goto(`${bank.url}/sogenet`);
    await login("1020304", "112233");
    await expect.poll(alertText).toBe("L'identifiant comporte 8 chiffres.");
    await login("10203040", "1122");
    await expect.poll(alertText).toBe("Le mot de passe comporte 6 chiffres.");
    expect(bank.bank.users.get("10203040")!.failures).toBe(0);
    // An unknown identifiant gets the same answer as a wrong password.
    await login("99999999", "112233");
    await expect.poll(alertText).toBe(SOGENET_WRONG);
  });
});
