import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Page, Request } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { SESSION, SOGENET } from "../src/wording.js";
import { bankInChromium, demoCustomers, expectAccessible, screenshot, textOf } from "./browser.js";

/** SOGENET end to end in Chromium: the shuffled keypad, the first-login change, the SGpass, the lockout. */
const session = bankInChromium();
let bank: typeof session.bank;
let page: Page;
let password: string;
let sgpass: string;
beforeEach(async () => {
  ({ bank, page } = session);
  await page.goto(`${bank.url}/sogenet`);
  const demo = await demoCustomers(page);
  password = demo.sogenetPassword!;
  sgpass = demo.sogenetSgpass!;
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
async function clickPassword(digits: string): Promise<void> {
  for (const d of digits) await page.locator(".keypad").getByRole("button", { name: d, exact: true }).click();
}

async function login(user: string, digits: string): Promise<void> {
  await page.getByLabel("Identifiant").fill(user);
  await page.locator(".keypad").getByRole("button", { name: "Effacer" }).click();
  await clickPassword(digits);
  await page.getByRole("button", { name: "Valider" }).click();
}

const alertText = () => textOf(page.getByRole("alert"));
const heading = () => textOf(page.getByRole("heading", { level: 1 }));

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

  it("posts the cells clicked, not the digits; the server maps them back with the layout it sealed", async () => {
    const posts: Request[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push(r);
    });
    const layout = await keypadLayout();
    await login(password, "112233");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
    const form = new URLSearchParams(posts[0]!.postData() ?? "");
    expect([...form.keys()].sort()).toEqual(["_csrf", "cells", "layout", "user"]);
    expect(form.get("password")).toBeNull();
    // Each cell is where the digit was on the layout shown: position, not value.
    const cellOf = (d: string) => layout.indexOf(d).toString(16);
    expect(form.get("cells")).toBe([..."112233"].map(cellOf).join(""));
    expect(form.get("layout")).toMatch(/^[\w-]{70,}$/);
    expect(form.get("layout")).not.toContain(layout.replaceAll("_", ""));
  });

  it("forces a 6-digit password change at first login, with SOGENET's words; a wrong current password is named", async () => {
    await login(password, "112233");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
    await expect.poll(heading).toBe("Changement mot de passe");
    await expect.poll(() => page.getByText(SOGENET.changeNow).isVisible()).toBe(true);
    await expect.poll(() => page.getByText(SOGENET.noMenuBeforeChange).isVisible()).toBe(true);
    await expectAccessible(page);
    // The account is out of reach until the password is changed.
    await page.goto(`${bank.url}/sogenet/account`);
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
    await change("999999", "246813", "246813");
    await expect.poll(alertText).toBe(SOGENET.wrongCurrent);
    await expectAccessible(page);
    await change("112233", "246813", "246813");
    // The guide's words: « Le changement de mot de passe a été enregistré. » then « Vous pouvez accéder
    // librement aux différents menus SOGENET ».
    await expect.poll(() => textOf(page.getByRole("status"))).toBe(SOGENET.changed.join("\n"));
    expect(SOGENET.changed).toEqual([
      "Le changement de mot de passe a été enregistré.",
      "Vous pouvez accéder librement aux différents menus SOGENET",
    ]);

    // The old password no longer opens the account; the new one does, straight to the accounts.
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet?done=logout`);
    await login(password, "112233");
    await expect.poll(alertText).toBe(SOGENET.wrong);
    await login(password, "246813");
    await expect.poll(heading).toBe("Vos comptes");
  });

  it("logs in with the code the SGpass shows as the password", async () => {
    const token = page.locator("capkit-sgpass-token");
    const button = token.getByRole("button", { name: "Afficher un code" });
    await expect.poll(() => button.isEnabled()).toBe(true);
    await button.click();
    const code = await textOf(token.getByRole("status"));
    expect(code).toMatch(/^[0-9]{6}$/);
    await page.getByLabel("Identifiant").fill(sgpass);
    await clickPassword(code);
    await expect.poll(() => textOf(page.locator("[data-dots]"))).toBe("●●●●●● (6 chiffres saisis)");
    await screenshot(page, "bank-login-sogenet.png");
    await page.getByRole("button", { name: "Valider" }).click();
    await expect.poll(heading).toBe("Vos comptes");
    await expectAccessible(page);
  });

  it("warns before the last try, locks at the 5th wrong password with SogeSmart's message; the adviser unlocks", async () => {
    for (let i = 1; i <= 3; i++) {
      await login(password, "000000");
      await expect.poll(alertText).toBe(SOGENET.wrong);
    }
    await login(password, "000000");
    await expect.poll(alertText).toBe(`${SOGENET.wrong}\n${SOGENET.lastTry}`);
    await login(password, "000000");
    await expect
      .poll(alertText)
      .toBe("Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné");
    await login(password, "112233"); // the right one, too late
    await expect.poll(alertText).toBe(SOGENET.locked(5));

    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const r = spawnSync("pnpm", ["--filter", "bank-login", "unlock", "--data", bank.dataDir, password], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.stdout).toContain(`${password} (sogenet) unlocked`);
    expect(r.status).toBe(0);
    await login(password, "112233");
    await expect.poll(() => page.url()).toBe(`${bank.url}/sogenet/password`);
  });

  it("has an accessible mode, explained on the page: fixed layout, labelled field typed from the keyboard", async () => {
    await page.getByRole("link", { name: /Mode accessible/ }).click();
    const first = await keypadLayout();
    expect(first).toBe("1234567890");
    await expect
      .poll(() =>
        page.getByText(/Dans ce mode, les chiffres\s+sont envoyés tels quels à la banque/).isVisible(),
      )
      .toBe(true);
    await page.reload();
    expect(await keypadLayout()).toBe(first);
    await expectAccessible(page);
    // Keyboard only: Tab into the fields, type, Enter submits.
    await page.getByLabel("Identifiant").focus();
    await page.keyboard.type(password);
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

  it("answers malformed input with a clear message and counts nothing", async () => {
    await login("1020304", "112233");
    await expect.poll(alertText).toBe("L'identifiant comporte 8 chiffres.");
    await login(password, "1122");
    await expect.poll(alertText).toBe("Le mot de passe comporte 6 chiffres.");
    // Nothing counted: four wrong passwords still leave one try.
    for (let i = 1; i <= 4; i++) await login(password, "000000");
    await expect.poll(alertText).toBe(`${SOGENET.wrong}\n${SOGENET.lastTry}`);
  });

  it("warns a minute before the idle limit; « Rester connecté » keeps the session (page clock)", async () => {
    await page.clock.install();
    await login(sgpass, await sgpassCode());
    await expect.poll(heading).toBe("Vos comptes");
    const warning = page.getByRole("alert");
    expect(await warning.isVisible()).toBe(false);
    await page.clock.runFor(4 * 60_000 + 1000);
    await expect.poll(() => textOf(warning)).toContain(SESSION.idleWarning);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Rester connecté" }).click();
    await expect.poll(() => warning.isVisible()).toBe(false);
  });
});

/** The SGpass's current code, read from its display. */
async function sgpassCode(): Promise<string> {
  const token = page.locator("capkit-sgpass-token");
  const button = token.getByRole("button", { name: "Afficher un code" });
  await expect.poll(() => button.isEnabled()).toBe(true);
  await button.click();
  return textOf(token.getByRole("status"));
}
