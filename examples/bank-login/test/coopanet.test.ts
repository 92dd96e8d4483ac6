import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fromHex } from "@capkit/core";
import { verifyReceipt } from "@capkit/provision";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { COOPANET } from "../src/wording.js";
import {
  bankInChromium,
  demoCustomers,
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
let user: string;
beforeEach(async () => {
  ({ bank, page } = session);
  await page.goto(`${bank.url}/coopanet`);
  user = (await demoCustomers(page)).coopanet!;
});

async function login(code: string, as = user): Promise<void> {
  await page.getByLabel("Code utilisateur").fill(as);
  await page.getByLabel("Code Sésame").fill(code);
  await page.getByRole("button", { name: "Se connecter" }).click();
}

const alertText = () => textOf(page.getByRole("alert"));

describe("Coop@net login with the Sésame reader", () => {
  it("logs in with the code the reader shows; the same code again is refused", async () => {
    await expectAccessible(page);
    expect(user).toMatch(/^[A-Z2-9]{8}$/);
    const code = await readerCode(page, ["OK"]);
    await expectAccessible(page); // with the reader showing a code
    await screenshot(page, "bank-login-coopanet.png");
    await login(code);
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
    await expect.poll(() => page.getByText(/^Bonjour .+, vous êtes connecté\.$/).isVisible()).toBe(true);
    expect(page.url()).toBe(`${bank.url}/coopanet/account`);
    await expectAccessible(page);

    // Log out: back on Coop@net's login page, saying so; then the very same code again is refused.
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await expect.poll(() => textOf(page.locator("main").getByRole("status"))).toBe("Vous êtes déconnecté.");
    expect(page.url()).toBe(`${bank.url}/coopanet?done=logout`);
    await login(code);
    await expect.poll(alertText).toBe(COOPANET.wrong);
    // The address shown after a refused login opens the login page again.
    expect(page.url()).toBe(`${bank.url}/coopanet`);
    await page.reload();
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Connexion à Coop@net");
  });

  it("never repeats an ATC across a reload: the card's state lives in the browser", async () => {
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

  it("shows PIN FAUX with the tries left, then CARTE BLOQUEE — for good, even with the browser's storage cleared", async () => {
    const device = reader(page);
    const insert = async () => {
      await expect
        .poll(() => device.getByRole("button", { name: "Insérer la carte" }).isEnabled())
        .toBe(true);
      await device.getByRole("button", { name: "Insérer la carte" }).click();
    };
    await insert();
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("PIN FAUX\nESSAIS: 2");
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("PIN FAUX\nESSAIS: 1");
    // The last try: the reader asks first, as a real one does.
    await pressKeys(device, ["OK", ..."9999", "OK"]);
    await expect.poll(() => lcd(device)).toBe("DERNIER ESSAI\nOK:OUI  C:NON");
    await pressKeys(device, ["OK"]);
    await expect.poll(() => lcd(device)).toBe("CARTE BLOQUEE");
    // The bank is told (bank.js): the card it hands this browser is blocked from now on.
    await expect
      .poll(async () => (await page.request.get(`${bank.url}/devices/card.json`)).json())
      .toMatchObject({ pinTries: 0 });
    // Blocked for good: reload, and even with the browser's storage cleared.
    for (const clear of [false, true]) {
      if (clear)
        await page.evaluate(() => (globalThis as unknown as { localStorage: Storage }).localStorage.clear());
      await page.reload();
      await insert();
      await pressKeys(device, ["OK", ..."1234", "OK"]);
      await expect.poll(() => lcd(device)).toBe("CARTE BLOQUEE");
    }
  });

  it("is operable from the keyboard alone", async () => {
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
    await login("12345678", "DEMO");
    await expect.poll(alertText).toBe("Le code utilisateur comporte 8 lettres ou chiffres.");
    await login("1234-567");
    await expect.poll(alertText).toBe("Le code Sésame comporte 8 chiffres, par exemple 1234 5678.");
    await expectAccessible(page);
    // Nothing was counted: four wrong codes still leave one try before the lock.
    for (let i = 1; i <= 4; i++) await login("0000 0000");
    await expect.poll(alertText).toBe(`${COOPANET.wrong}\n${COOPANET.lastTry}`);
  });

  it("warns before the last try, locks at the 5th wrong code, until the adviser unlocks", async () => {
    for (let i = 1; i <= 3; i++) {
      await login("0000 0000");
      await expect.poll(alertText).toBe(COOPANET.wrong);
    }
    await login("0000 0000");
    await expect.poll(alertText).toBe(`${COOPANET.wrong}\n${COOPANET.lastTry}`);
    await expectAccessible(page);
    await login("00000000");
    await expect.poll(alertText).toBe(COOPANET.locked(5));
    // Even the right code is refused now.
    await login(await readerCode(page, ["OK"]));
    await expect.poll(alertText).toBe(COOPANET.locked(5));
    // The adviser's command, as the « Démo » box shows it; the next fresh code logs in.
    const r = spawnSync(
      "pnpm",
      ["--filter", "bank-login", "unlock", "--data", bank.dataDir, user.toLowerCase()],
      {
        cwd: fileURLToPath(new URL("../../..", import.meta.url)),
        encoding: "utf8",
      },
    );
    expect(r.stdout).toContain(`unlock: data directory ${bank.dataDir}`);
    expect(r.stdout).toContain(`${user} (coopanet) unlocked`);
    await login(await readerCode(page, ["OK"]));
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
  });
});

describe("Coop@net transfer signed with the reader, bound to the amount and the payee", () => {
  const IBAN = "FR76 3000 6000 0112 3456 7890 189";
  // The challenge is the last 8 digits of the payee's IBAN, read off the IBAN above by eye: 6789 0189.
  const PAYEE_DIGITS = "67890189";
  const newTransfer = async (amount: string, iban = IBAN, name = "Garage Dupont") => {
    await page.getByLabel("IBAN du bénéficiaire").fill(iban);
    await page.getByLabel("Nom du bénéficiaire").fill(name);
    await page.getByLabel("Montant en euros").fill(amount);
    await page.getByRole("button", { name: "Continuer" }).click();
  };
  const pending = async () => {
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Signez le virement");
    const challenge = (await page.locator("[data-challenge]").getAttribute("data-challenge"))!;
    return { challenge, cents: (await page.locator("[data-amount]").getAttribute("data-amount"))! };
  };
  const sign = async (code: string) => {
    await page.getByLabel("Code de signature").fill(code);
    await page.getByRole("button", { name: "Signer le virement" }).click();
  };
  const signOnReader = (challenge: string, cents: string) =>
    readerCode(page, ["FN", "FN", "OK", ...challenge, "OK", ...cents, "OK"]);

  it("signs the amount and the payee's last 8 IBAN digits, says what is not bound, and gives a receipt that verifies", async () => {
    await login(await readerCode(page, ["OK"]));
    await page.getByRole("link", { name: "Faire un virement" }).click();
    await expectAccessible(page);

    await newTransfer("1 250,5");
    const t = await pending();
    expect(t).toEqual({ challenge: PAYEE_DIGITS, cents: "125050" });
    // What the code binds, and what it does not, on the page.
    // (Intl writes French amounts with narrow no-break spaces: compared as plain spaces.)
    const bound = (await textOf(page.getByRole("region", { name: "Ce que votre code signe" }))).replace(
      /\s/g,
      " ",
    );
    expect(bound).toContain("le montant : 1 250,50 € (tapé en centimes : 125050)");
    expect(bound).toContain(`les 8 derniers chiffres de l'IBAN du bénéficiaire : ${PAYEE_DIGITS}`);
    expect(bound).toContain(
      "Votre code ne signe ni le nom du bénéficiaire, ni les autres caractères de son IBAN, ni le compte débité",
    );
    const table = page.getByRole("table", { name: "Le virement à signer" });
    expect(await textOf(table)).toContain("Garage Dupont");
    expect(await textOf(table)).toContain("FR76 3000 6000 0112 3456 7890 189");
    await expectAccessible(page);
    const code = await signOnReader(t.challenge, t.cents);
    await screenshot(page, "bank-login-transfer.png");
    await sign(code);
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Virement validé");
    expect(await textOf(page.locator("[data-receipt=result]"))).toBe("Opération validée");
    await expectAccessible(page);
    await page.getByText("Le reçu complet (JSON), à conserver").click();
    await screenshot(page, "bank-login-transfer-receipt.png");

    // The receipt checks offline with the bank's public keys alone (@capkit/provision, as a customer would).
    const signed = JSON.parse((await page.locator("[data-receipt=json]").textContent()) ?? "");
    const keys = (await (await page.request.get(`${bank.url}/receipt-keys.json`)).json()) as Record<
      string,
      string
    >;
    const raw = Object.fromEntries(Object.entries(keys).map(([id, hex]) => [id, fromHex(hex)]));
    expect(verifyReceipt(signed, raw)).toEqual({ ok: true });
    expect(signed.receipt).toMatchObject({
      result: "approved",
      method: "cap-sign",
      user: `coopanet:${user}`,
    });
    const changed = { ...signed, receipt: { ...signed.receipt, result: "declined" } };
    expect(verifyReceipt(changed, raw)).toMatchObject({ ok: false });
  });

  it("refuses a code made for another amount or another payee; the right one then signs", async () => {
    await login(await readerCode(page, ["OK"]));
    await page.goto(`${bank.url}/coopanet/transfer`);
    await newTransfer("20");
    const u = await pending();
    expect(u.cents).toBe("2000");
    // One cent more: not this transfer.
    await sign(await signOnReader(u.challenge, "2001"));
    await expect.poll(alertText).toBe(COOPANET.wrongSignature);
    // Another payee's IBAN digits (the last one changed): not this transfer either.
    await sign(await signOnReader("67890188", u.cents));
    await expect.poll(alertText).toBe(COOPANET.wrongSignature);
    await sign(await signOnReader(u.challenge, u.cents));
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Virement validé");
  });

  it("checks the IBAN (ISO 13616, mod 97) and the name with a clear message, and a pending transfer can be cancelled", async () => {
    await login(await readerCode(page, ["OK"]));
    await page.goto(`${bank.url}/coopanet/transfer`);
    await newTransfer("10", "FR00 0000 0000 0000 0000 0000 000");
    await expect
      .poll(alertText)
      .toBe("La clé de contrôle de l'IBAN ne correspond pas : vérifiez chaque caractère.");
    await newTransfer("10", "FR76 3000 6000 0112 3456 7890 18");
    await expect.poll(alertText).toBe("Un IBAN FR compte 27 caractères : vérifiez-le.");
    await newTransfer("10", IBAN, "   ");
    await expect.poll(alertText).toBe("Le nom du bénéficiaire comporte de 1 à 70 caractères.");
    await expectAccessible(page);
    // A name whose bytes say another thing than the screen (Trojan Source: RLO shows « 1234 » reversed).
    await newTransfer("10", IBAN, "Garage Martin \u202e4321");
    await expect
      .poll(alertText)
      .toBe(
        "Le nom du bénéficiaire contient un caractère invisible ou qui ne s'affiche pas tel quel (U+202E) : retapez-le.",
      );
    await expectAccessible(page);
    await screenshot(page, "bank-login-transfer-name-refused.png");
    await newTransfer("10");
    await pending();
    await page.getByRole("button", { name: "Annuler le virement" }).click();
    await expect.poll(() => textOf(page.getByRole("status"))).toBe(COOPANET.transferCancelled);
    await page.goto(`${bank.url}/coopanet/transfer`);
    await expect.poll(() => textOf(page.getByRole("heading", { level: 1 }))).toBe("Nouveau virement");
  });
});
