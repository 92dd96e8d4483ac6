import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { COOPANET_LOCKED, COOPANET_WRONG } from "../src/server.js";
import {
  bankInChromium,
  expectAccessible,
  lcd,
  pressKeys,
  reader,
  readerCode,
  readerState,
  screenshot,
  storedAtc,
  textOf,
} from "./browser.js";

/** Coop@net end to end in Chromium: the user code and the code the simulated Sésame reader shows. */
const session = bankInChromium();
let bank: typeof session.bank;
let page: Page;
beforeEach(() => {
  ({ bank, page } = session);
});

async function login(code: string): Promise<void> {
  await page.getByLabel("Code utilisateur").fill("DEMO2026");
  await page.getByLabel("Code Sésame").fill(code);
  await page.getByRole("button", { name: "Se connecter" }).click();
}

describe("Coop@net login with the Sésame reader", () => {
  it("logs in with the code the reader shows; the same code again is refused", async () => {
    await page.goto(`${bank.url}/coopanet`);
    await expectAccessible(page);
    const code = await readerCode(page, ["OK"]);
    await expectAccessible(page); // with the reader showing a code
    await screenshot(page, "bank-login-coopanet.png");
    await login(code);
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
    await expect.poll(() => page.getByText("Bonjour Camille Martin").isVisible()).toBe(true);
    await expectAccessible(page);

    // Log out, then replay the very same code: one-time, so refused with a message saying so.
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.goto(`${bank.url}/coopanet`);
    await login(code);
    await expect.poll(() => textOf(page.getByRole("alert"))).toBe(COOPANET_WRONG);
    expect(bank.bank.users.get("DEMO2026")!.failures).toBe(1);
  });

  it("never repeats an ATC across a reload: the card's state lives in the browser", async () => {
    await page.goto(`${bank.url}/coopanet`);
    const first = await readerCode(page, ["OK"]);
    const atc1 = await storedAtc(page);
    await page.reload();
    const second = await readerCode(page, ["OK"]);
    const atc2 = await storedAtc(page);
    expect(atc2).toBe(atc1 + 1);
    expect(second).not.toBe(first);
    // Both codes are fresh for the bank: the later one logs in (the earlier one is then behind it).
    await login(second);
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
  });

  it("turns the display off 35 s after the code is shown (page clock)", async () => {
    await page.clock.install({ time: new Date("2026-11-23T09:00:00Z") });
    await page.goto(`${bank.url}/coopanet`);
    await page.clock.pauseAt(new Date("2026-11-23T09:01:00Z")); // from here, time moves only when told
    await readerCode(page, ["OK"]);
    const device = reader(page);
    await page.clock.runFor(34_900);
    expect(await readerState(device)).toBe("code");
    await page.clock.runFor(200);
    expect(await readerState(device)).toBe("off");
    expect(await lcd(device)).toBe("");
  });

  it("shows PIN FAUX with the tries left, then CARTE BLOQUEE", async () => {
    await page.goto(`${bank.url}/coopanet`);
    const device = reader(page);
    await expect.poll(() => device.getByRole("button", { name: "Insérer la carte" }).isEnabled()).toBe(true);
    await device.getByRole("button", { name: "Insérer la carte" }).click();
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("PIN FAUX\nESSAIS: 2");
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("PIN FAUX\nESSAIS: 1");
    // The last try: the reader asks first, as a real one does.
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("DERNIER ESSAI\nOK:OUI  C:NON");
    await pressKeys(device, ["OK"]);
    await expect.poll(() => lcd(device)).toBe("CARTE BLOQUEE");
    // Blocked for good, reload or not.
    await page.reload();
    await expect.poll(() => device.getByRole("button", { name: "Insérer la carte" }).isEnabled()).toBe(true);
    await device.getByRole("button", { name: "Insérer la carte" }).click();
    await pressKeys(device, ["OK", ..."1234", "OK"]);
    await expect.poll(() => lcd(device)).toBe("CARTE BLOQUEE");
  });

  it("is operable from the keyboard alone", async () => {
    await page.goto(`${bank.url}/coopanet`);
    const device = reader(page);
    await expect.poll(() => device.getByRole("button", { name: "Insérer la carte" }).isEnabled()).toBe(true);
    await device.getByRole("button", { name: "Insérer la carte" }).focus();
    await page.keyboard.press("Enter"); // the slot button
    await device.getByRole("group", { name: "Lecteur Sésame simulé" }).focus();
    await page.keyboard.press("Enter"); // OK: function CODE
    await page.keyboard.type("1234");
    expect(await lcd(device)).toBe("PIN ?\n****");
    await page.keyboard.press("Enter");
    await expect.poll(() => readerState(device)).toBe("code");
  });

  it("refuses malformed input with a clear message and counts nothing", async () => {
    await page.goto(`${bank.url}/coopanet`);
    await page.getByLabel("Code utilisateur").fill("DEMO");
    await page.getByLabel("Code Sésame").fill("12345678");
    await page.getByRole("button", { name: "Se connecter" }).click();
    await expect
      .poll(() => textOf(page.getByRole("alert")))
      .toBe("Le code utilisateur comporte 8 lettres ou chiffres.");
    await login("1234-567");
    await expect
      .poll(() => textOf(page.getByRole("alert")))
      .toBe("Le code Sésame comporte 8 chiffres, par exemple 1234 5678.");
    expect(bank.bank.users.get("DEMO2026")!.failures).toBe(0);
    await expectAccessible(page);
  });

  it("locks after 5 wrong codes until the CLI unlocks", async () => {
    await page.goto(`${bank.url}/coopanet`);
    for (let i = 1; i <= 4; i++) {
      await login("0000 0000");
      await expect.poll(() => textOf(page.getByRole("alert"))).toBe(COOPANET_WRONG);
    }
    await login("00000000");
    await expect.poll(() => textOf(page.getByRole("alert"))).toBe(COOPANET_LOCKED);
    // Even the right code is refused now.
    await login(await readerCode(page, ["OK"]));
    await expect.poll(() => textOf(page.getByRole("alert"))).toBe(COOPANET_LOCKED);
    // The adviser unlocks (the bank's count and the verifier's); the next fresh code logs in.
    const r = spawnSync("pnpm", ["--filter", "bank-login", "unlock", "--data", bank.dataDir, "demo2026"], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      encoding: "utf8",
    });
    expect(r.stderr + r.stdout).toContain("DEMO2026 (coopanet) unlocked");
    await login(await readerCode(page, ["OK"]));
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
  });
});

describe("Coop@net transfer signed with the reader", () => {
  it("signs the server's challenge and the amount; a code for another amount is refused", async () => {
    await page.goto(`${bank.url}/coopanet`);
    await login(await readerCode(page, ["OK"]));
    await page.getByRole("link", { name: "Faire un virement" }).click();
    await expectAccessible(page);
    const newTransfer = async (amount: string) => {
      await page.getByLabel("IBAN du bénéficiaire").fill("FR76 3000 6000 0112 3456 7890 189");
      await page.getByLabel("Montant en euros").fill(amount);
      await page.getByRole("button", { name: "Continuer" }).click();
      await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Signez le virement");
      const challenge = (await page.locator("[data-challenge]").getAttribute("data-challenge"))!;
      expect(challenge).toMatch(/^[1-9][0-9]{7}$/); // 8 digits from the CSPRNG, never a leading 0
      return { challenge, cents: (await page.locator("[data-amount]").getAttribute("data-amount"))! };
    };
    const sign = async (code: string) => {
      await page.getByLabel("Code de signature").fill(code);
      await page.getByRole("button", { name: "Signer le virement" }).click();
    };

    const t = await newTransfer("1 250,5");
    expect(t.cents).toBe("125050");
    await expectAccessible(page);
    // On the reader: FN twice → SIGNATURE, OK, challenge, OK, amount in cents, OK, PIN, OK.
    const code = await readerCode(page, ["FN", "FN", "OK", ...t.challenge, "OK", ...t.cents, "OK"]);
    await screenshot(page, "bank-login-transfer.png");
    await sign(code);
    await expect
      .poll(() => textOf(page.getByRole("status")))
      .toBe("Virement de 1 250,50 € vers FR7630006000011234567890189 signé et validé.");
    await expectAccessible(page);

    // The amount is in the signature: a code made for 20,01 € does not sign 20,00 €, and the challenge is spent.
    await page.getByRole("link", { name: "Faire un virement" }).click();
    const u = await newTransfer("20");
    expect(u.cents).toBe("2000");
    await sign(await readerCode(page, ["FN", "FN", "OK", ...u.challenge, "OK", ..."2001", "OK"]));
    await expect
      .poll(() => textOf(page.getByRole("alert")))
      .toBe("Code de signature incorrect : signez de nouveau avec ce nouveau défi.");
    const next = (await page.locator("[data-challenge]").getAttribute("data-challenge"))!;
    expect(next).not.toBe(u.challenge);
    await sign(await readerCode(page, ["FN", "FN", "OK", ...next, "OK", ...u.cents, "OK"]));
    await expect
      .poll(() => textOf(page.getByRole("status")))
      .toBe("Virement de 20,00 € vers FR7630006000011234567890189 signé et validé.");
  });
});
