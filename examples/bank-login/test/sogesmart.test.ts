import type { Page } from "playwright-core";
import decodeQR from "qr/decode.js";
import { beforeEach, describe, expect, it } from "vitest";
import { SESSION } from "../src/wording.js";
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
  smsCode,
  sogesmartUsers,
} from "./sogesmart-phone.js";

/**
 * SogeSmart end to end in Chromium, through the page only: the two phones of this browser's SogeSmart account
 * (`<capkit-sogesmart-app>`), their SMS read from `<capkit-sms-inbox>`, the bank's app API behind them.
 */
const session = bankInChromium({ sogesmart: { startIntervalSeconds: 0 } });
let page: Page;
let a: string;

beforeEach(async () => {
  page = session.page;
  await page.goto(`${session.bank.url}/sogesmart`);
  ({ a } = await sogesmartUsers(page));
});

describe("SogeSmart: activation and login", () => {
  it("activates by SMS and the Sogenet password on every screen of the guide, then logs in", async () => {
    const ph = phone(page, "a");
    await activate(page, "a", a, { newPassword: "246813", shots: true });
    expect(await textOf(ph.getByRole("status").first())).toBe(
      "Votre application est activée : connectez-vous avec votre nouveau mot de passe.",
    );
    await login(page, "a", a, "246813");
    await expect.poll(() => screenOf(ph)).toBe("home");
    expect(await heading(ph)).toBe("CONSULTATION DES COMPTES");
    await expectAccessible(page);
    await screenshot(page, "sogesmart-home.png");
    // The keys in IndexedDB: CryptoKeys, non-extractable.
    const keys = await page.evaluate(
      (db) =>
        new Promise<{ device: boolean; seed: boolean }>((resolve, reject) => {
          const open = indexedDB.open(db, 1);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction("records");
            const s = tx.objectStore("records");
            const d = s.get("device");
            const t = s.get("token");
            tx.oncomplete = () =>
              resolve({
                device: (d.result as { privateKey: CryptoKey }).privateKey.extractable,
                seed: (t.result as { hmac: CryptoKey }).hmac.extractable,
              });
          };
        }),
      `capkit-sogesmart:${a}`,
    );
    expect(keys).toEqual({ device: false, seed: false });
  });

  it("warns at the 4th wrong password and blocks at the 5th in the guide's words; « Mot de passe perdu » unblocks", async () => {
    const ph = phone(page, "a");
    await activate(page, "a", a, { newPassword: "246813" });
    for (let i = 1; i <= 3; i++) {
      await login(page, "a", a, "999999");
      expect(await alertOf(ph)).toBe("Identifiant ou mot de passe incorrect.");
    }
    await login(page, "a", a, "999999");
    expect(await alertOf(ph)).toBe(
      "Identifiant ou mot de passe incorrect. Attention : au prochain mot de passe erroné, votre accès sera bloqué.",
    );
    await login(page, "a", a, "999999");
    expect(await alertOf(ph)).toBe(
      "Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné",
    );
    await expectAccessible(page);
    await screenshot(page, "sogesmart-blocked.png");
    await login(page, "a", a, "246813");
    expect(await alertOf(ph)).toBe(
      "Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné",
    );
    // A's SOGENET session in another tab: « Mot de passe perdu » is a security event that ends it.
    const web = await session.context.newPage();
    await web.goto(`${session.bank.url}/sogenet?accessible=1`);
    await web.getByLabel("Identifiant (8 chiffres)").fill(a);
    await web.getByLabel("Mot de passe (6 chiffres)").fill("112233");
    await web.getByRole("button", { name: "Valider" }).click();
    await expect.poll(() => web.url()).toBe(`${session.bank.url}/sogenet/password`);
    // « Mot de passe perdu »: a new activation by SMS, a new password, the block lifted.
    await ph.getByRole("button", { name: "Mot de passe perdu" }).click();
    await expect.poll(() => heading(ph)).toBe("MOT DE PASSE PERDU");
    await expectAccessible(page);
    await screenshot(page, "sogesmart-password-lost.png");
    await activate(page, "a", a, { newPassword: "135790", from: "here" });
    await login(page, "a", a, "135790");
    await expect.poll(() => screenOf(ph)).toBe("home");
    await web.goto(`${session.bank.url}/sogenet/password`);
    await expect.poll(() => textOf(web.getByRole("heading", { level: 1 }))).toBe("Connexion à SOGENET");
    expect(await textOf(web.getByRole("alert"))).toBe(SESSION.notLoggedIn);
  });
});

describe("SogeSmart: the other screens", () => {
  it("sends the subscription request when the conditions are accepted, and nothing when they are refused", async () => {
    const ph = phone(page, "b");
    await press(ph, "Oui");
    await press(ph, "Je ne dispose pas de Sogenet");
    await expect.poll(() => heading(ph)).toBe("FAIRE UNE DEMANDE D'ABONNEMENT");
    await fill(ph, "Prénom", "Camille");
    await fill(ph, "Nom", "Martin");
    await fill(ph, "Date de naissance", "1990-04-12");
    await fill(ph, "Adresse mail", "camille");
    await fill(ph, "N° de compte", "12345678901");
    await press(ph, "Accepter les conditions");
    expect(await alertOf(ph)).toBe("L'adresse mail n'est pas valide.");
    await fill(ph, "Adresse mail", "camille@example.nc");
    await expectAccessible(page);
    await screenshot(page, "sogesmart-subscription.png");
    await press(ph, "Refuser les conditions");
    await expect.poll(() => screenOf(ph)).toBe("welcome");
    expect(await textOf(ph.getByRole("status").first())).toBe(
      "Vous avez refusé les conditions d'utilisation : votre demande d'abonnement n'a pas été envoyée.",
    );
    await press(ph, "Oui");
    await press(ph, "Je ne dispose pas de Sogenet");
    for (const [label, value] of [
      ["Prénom", "Camille"],
      ["Nom", "Martin"],
      ["Date de naissance", "1990-04-12"],
      ["Adresse mail", "camille@example.nc"],
      ["N° de compte", "12345678901"],
    ] as const)
      await fill(ph, label, value);
    await press(ph, "Accepter les conditions");
    await expect.poll(() => screenOf(ph)).toBe("subscribed");
    expect(await heading(ph)).toBe("ABONNEMENT");
    await expectAccessible(page);
  });

  it("asks for a new activation by SMS when the new version of the app is installed (« ACTIVER LA NOUVELLE VERSION »)", async () => {
    const ph = phone(page, "a");
    await activate(page, "a", a, { newPassword: "246813" });
    await page.getByRole("button", { name: "Installer la nouvelle version de SogeSmart" }).first().click();
    await expect.poll(() => heading(ph)).toBe("ACTIVER LA NOUVELLE VERSION DE L'APPLICATION");
    await expectAccessible(page);
    await screenshot(page, "sogesmart-new-version.png");
    await activate(page, "a", a, { newPassword: "135790", from: "here" });
    await page.reload(); // the installed version is kept by the phone
    await expect.poll(() => screenOf(ph)).toBe("login");
    await login(page, "a", a, "135790");
    await expect.poll(() => screenOf(ph)).toBe("home");
  });
});

describe("SogeSmart: activation from a SOGENET session (QR code)", () => {
  it("shows a QR code on SOGENET that the app reads back and activates with, the SMS as the second feature", async () => {
    // SOGENET first (accessible mode: a labelled field): the provisional password, changed at first login.
    await page.goto(`${session.bank.url}/sogenet?accessible=1`);
    await page.getByLabel("Identifiant (8 chiffres)").fill(a);
    await page.getByLabel("Mot de passe (6 chiffres)").fill("112233");
    await page.getByRole("button", { name: "Valider" }).click();
    await page.getByLabel("Mot de passe actuel").fill("112233");
    await page.getByLabel("Nouveau mot de passe (6 chiffres)").fill("246813");
    await page.getByLabel("Confirmation du nouveau mot de passe").fill("246813");
    await page.getByRole("button", { name: "Valider" }).click();
    await page.getByRole("link", { name: "Activer SogeSmart sur mon téléphone" }).click();
    await page.getByRole("button", { name: "Afficher le QR code" }).click();
    const img = page.locator("img[data-qr]");
    await img.waitFor();
    await expectAccessible(page);
    await screenshot(page, "sogesmart-qr.png");
    // The phone's camera: the QR code drawn on a canvas, its pixels decoded by qr's decoder.
    const pixels = await img.evaluate((i) => {
      const im = i as HTMLImageElement;
      const canvas = document.createElement("canvas");
      canvas.width = im.naturalWidth;
      canvas.height = im.naturalHeight;
      const g = canvas.getContext("2d")!;
      g.drawImage(im, 0, 0);
      const d = g.getImageData(0, 0, canvas.width, canvas.height);
      return { width: d.width, height: d.height, data: Array.from(d.data) };
    });
    const text = decodeQR({ width: pixels.width, height: pixels.height, data: new Uint8Array(pixels.data) });
    expect(text).toMatch(
      /^sogesmart:activation\?v=1&a=[0-9a-f]{32}&r=[0-9a-f]{32}&s=[\w.:-]+&w=[0-9a-f]{32}$/,
    );

    const ph = page.locator("aside capkit-sogesmart-app");
    await press(ph, "Oui");
    await press(ph, "Activer avec le QR code de Sogenet");
    await expectAccessible(page);
    await fill(ph, "Contenu du QR code scanné", text);
    await press(ph, "Valider");
    await expect.poll(() => ph.evaluate((e) => (e as unknown as { screen: string }).screen)).toBe("sms");
    const { code } = await smsCode(page, "a");
    await fill(ph, "Mot de passe reçu par SMS", code);
    await press(ph, "Valider");
    // No « Mot de passe actuel »: the Sogenet session vouched for the customer (the QR code's feature).
    expect(await ph.getByLabel("Mot de passe actuel", { exact: true }).count()).toBe(0);
    await fill(ph, "Nouveau mot de passe", "975310");
    await fill(ph, "Confirmation du mot de passe", "975310");
    await press(ph, "Valider");
    await expect
      .poll(() => ph.evaluate((e) => (e as unknown as { screen: string }).screen), {
        timeout: 30_000,
      })
      .toBe("login");
    await fill(ph, "Mot de passe", "975310");
    await press(ph, "Valider");
    await expect.poll(() => ph.evaluate((e) => (e as unknown as { screen: string }).screen)).toBe("home");
    // The same phone on the SogeSmart page: activated (its keys are this browser's, one database per phone).
    await page.goto(`${session.bank.url}/sogesmart`);
    await expect.poll(() => screenOf(phone(page, "a"))).toBe("login");
  });
});
