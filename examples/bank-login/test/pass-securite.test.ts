import { fromHex } from "@capkit/core";
import { verifyReceipt } from "@capkit/provision";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { PASS_SECURITE } from "../src/wording.js";
import { bankInChromium, expectAccessible, screenshot, textOf } from "./browser.js";
import {
  activate,
  alertOf,
  fill,
  heading,
  login,
  phone,
  press,
  screenOf,
  sogesmartUsers,
} from "./sogesmart-phone.js";

/**
 * « Pass Sécurité » end to end in Chromium: a SOGENET transfer made on the bank's page (one tab) and decided
 * in the SogeSmart app (another tab of the same browser: the phone), from the bank-signed document only.
 */
const session = bankInChromium({ sogesmart: { startIntervalSeconds: 0 } });
let page: Page;
let bankPage: Page;
let a: string;
const APP_PASSWORD = "246813";
const IBAN = "FR76 3000 6000 0112 3456 7890 189";

beforeEach(async () => {
  page = session.page;
  await page.goto(`${session.bank.url}/sogesmart`);
  ({ a } = await sogesmartUsers(page));
  await activate(page, "a", a, { newPassword: APP_PASSWORD });
  await login(page, "a", a, APP_PASSWORD);
  await expect.poll(() => screenOf(phone(page, "a"))).toBe("home");
  // The bank's site in another tab: SOGENET (accessible keypad), the first-login change, the accounts.
  bankPage = await session.context.newPage();
  await bankPage.goto(`${session.bank.url}/sogenet?accessible=1`);
  await bankPage.getByLabel("Identifiant").fill(a);
  await bankPage.getByLabel("Mot de passe (6 chiffres)").fill("112233");
  await bankPage.getByRole("button", { name: "Valider" }).click();
  await bankPage.getByLabel("Mot de passe actuel").fill("112233");
  await bankPage.getByLabel("Nouveau mot de passe (6 chiffres)").fill("135790");
  await bankPage.getByLabel("Confirmation du nouveau mot de passe").fill("135790");
  await bankPage.getByRole("button", { name: "Valider" }).click();
  await expect.poll(() => textOf(bankPage.getByRole("heading", { level: 1 }))).toBe("Vos comptes");
});

const bankHeading = () => textOf(bankPage.getByRole("heading", { level: 1 }));

async function newTransfer(amount: string, name = "Garage Dupont"): Promise<void> {
  await bankPage.goto(`${session.bank.url}/sogenet/transfer`);
  await bankPage.getByLabel("IBAN du bénéficiaire").fill(IBAN);
  await bankPage.getByLabel("Nom du bénéficiaire").fill(name);
  await bankPage.getByLabel("Montant en euros").fill(amount);
  await bankPage.getByRole("button", { name: "Continuer" }).click();
  await expect.poll(bankHeading).toBe("Validez le virement dans l'application");
}

/** The app's « Pass Sécurité » screen with the operation waiting: its lines, as drawn in the phone. */
async function openInApp(): Promise<string> {
  const ph = phone(page, "a");
  await press(ph, "Pass Sécurité : opération à valider");
  await expect.poll(() => screenOf(ph)).toBe("approval");
  // (Intl writes French amounts with narrow no-break spaces: compared as plain spaces.)
  return (await textOf(ph.locator("dl"))).replace(/\s/g, " ");
}

async function answered(): Promise<void> {
  await bankPage.getByRole("button", { name: "J'ai répondu dans l'application" }).click();
}

async function receiptOf(p: Page) {
  const signed = JSON.parse((await p.locator("[data-receipt=json]").textContent()) ?? "");
  const keys = (await (await p.request.get(`${session.bank.url}/receipt-keys.json`)).json()) as Record<
    string,
    string
  >;
  const raw = Object.fromEntries(Object.entries(keys).map(([id, hex]) => [id, fromHex(hex)]));
  return { signed, verdict: verifyReceipt(signed, raw) };
}

describe("SOGENET transfer validated with « Pass Sécurité » in the app", () => {
  it("is shown in the app from the bank-signed document, approved with the password, and the receipt is on the page", async () => {
    const ph = phone(page, "a");
    await bankPage.goto(`${session.bank.url}/sogenet/transfer`);
    await expectAccessible(bankPage);
    await newTransfer("1 250,5");
    await expectAccessible(bankPage);
    await screenshot(bankPage, "bank-login-sogenet-transfer.png");
    // Not answered yet: the page says so.
    await answered();
    await expect.poll(() => textOf(bankPage.getByRole("status"))).toBe(PASS_SECURITE.waiting);

    const lines = await openInApp();
    expect(await heading(ph)).toBe("PASS SÉCURITÉ");
    expect(lines).toContain(
      "Montant 1 250,50 € Bénéficiaire Garage Dupont IBAN FR76 3000 6000 0112 3456 7890 189",
    );
    await expectAccessible(page);
    await screenshot(page, "sogesmart-pass-securite.png");
    // A wrong password: refused, the operation still there.
    await fill(ph, "Mot de passe", "000000");
    await press(ph, "Valider l'opération");
    await expect.poll(() => alertOf(ph)).toBe("Identifiant ou mot de passe incorrect.");
    expect(await screenOf(ph)).toBe("approval");
    await fill(ph, "Mot de passe", APP_PASSWORD);
    await press(ph, "Valider l'opération");
    await expect.poll(() => screenOf(ph)).toBe("home");
    expect(await textOf(ph.getByRole("status").first())).toBe(
      "Opération validée : votre banque l'exécute et vous en remet le reçu signé.",
    );

    await answered();
    await expect.poll(bankHeading).toBe("Virement validé");
    const { signed, verdict } = await receiptOf(bankPage);
    expect(verdict).toEqual({ ok: true });
    expect(signed.receipt).toMatchObject({ result: "approved", method: "device", user: `sogenet:${a}` });
    await expectAccessible(bankPage);
    // Nothing left to validate.
    await press(ph, "Pass Sécurité : opération à valider");
    await expect
      .poll(() => textOf(ph.getByRole("status").first()))
      .toBe("Aucune opération n'attend votre validation.");
  });

  it("never shows a document the bank did not sign; declined in the app: not executed, with its receipt", async () => {
    const ph = phone(page, "a");
    await newTransfer("75");
    /** A man in the middle puts `name` as the payee's in the document on its way to the app. */
    const payeeNameOnTheWay = (name: string) =>
      page.route("**/api/sogesmart/operations/pending", async (route) => {
        const r = await route.fetch();
        const body = await r.json();
        body.signed.operation.payee.name = name;
        await route.fulfill({ response: r, json: body });
      });
    // A man in the middle changes the payee's name in the document on its way to the app: not shown.
    await payeeNameOnTheWay("Mallory");
    await press(ph, "Pass Sécurité : opération à valider");
    await expect
      .poll(() => alertOf(ph))
      .toBe("Cette opération n'est pas signée par votre banque : elle n'est pas affichée.");
    expect(await screenOf(ph)).toBe("home");
    await page.unroute("**/api/sogesmart/operations/pending");
    // A payee's name whose bytes say another thing than the screen (RLO: « 4321 » shown « 1234 »): not shown
    // either, whoever signed it, and the app says why.
    await payeeNameOnTheWay("Garage Dupont \u202e4321");
    await press(ph, "Pass Sécurité : opération à valider");
    await expect
      .poll(() => alertOf(ph))
      .toBe(
        "Le nom du bénéficiaire de cette opération contient un caractère qui ne s'affiche pas tel quel : elle n'est pas affichée.",
      );
    expect(await screenOf(ph)).toBe("home");
    await page.unroute("**/api/sogesmart/operations/pending");
    expect(await openInApp()).toContain("Bénéficiaire Garage Dupont");
    await press(ph, "Refuser l'opération");
    await expect.poll(() => screenOf(ph)).toBe("home");
    expect(await textOf(ph.getByRole("status").first())).toBe(
      "Opération refusée : elle ne sera pas exécutée.",
    );
    await answered();
    await expect.poll(bankHeading).toBe("Virement refusé");
    expect(await textOf(bankPage.locator("[data-receipt=result]"))).toBe("Opération refusée");
    const { signed, verdict } = await receiptOf(bankPage);
    expect(verdict).toEqual({ ok: true });
    expect(signed.receipt).toMatchObject({ result: "declined", method: "device" });
    await expectAccessible(bankPage);
  });

  it("changed after the customer approved it: the approval is refused, and the changed transfer waits for its own", async () => {
    const ph = phone(page, "a");
    await newTransfer("100");
    expect(await openInApp()).toContain("Montant 100,00 €");
    // Meanwhile the transfer is changed on the bank's side: 1 cent more (the first one cancelled, a new one made).
    await bankPage.getByRole("button", { name: "Annuler le virement" }).click();
    await newTransfer("100,01");
    const changedId = (await bankPage.locator("[data-operation]").getAttribute("data-operation"))!;
    // A man in the middle puts the changed transfer's id on the app's approval of the one it showed.
    await page.route("**/api/sogesmart/operations/decide", async (route) => {
      const body = JSON.parse(route.request().postData() ?? "{}");
      await route.continue({ postData: JSON.stringify({ ...body, id: changedId }) });
    });
    await fill(ph, "Mot de passe", APP_PASSWORD);
    await press(ph, "Valider l'opération");
    await expect.poll(() => screenOf(ph)).toBe("home");
    expect(await alertOf(ph)).toBe(
      "Cette opération a changé depuis que vous l'avez vue : votre réponse n'a pas été prise en compte.",
    );
    await page.unroute("**/api/sogesmart/operations/decide");
    // The changed transfer is not validated: the page still waits; the app shows it, with its own amount.
    await answered();
    await expect.poll(() => textOf(bankPage.getByRole("status"))).toBe(PASS_SECURITE.waiting);
    expect(await openInApp()).toContain("Montant 100,01 €");
    await fill(ph, "Mot de passe", APP_PASSWORD);
    await press(ph, "Valider l'opération");
    await expect.poll(() => screenOf(ph)).toBe("home");
    await answered();
    await expect.poll(bankHeading).toBe("Virement validé");
  });
});
