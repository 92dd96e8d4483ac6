import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { PASSERELLE } from "../src/wording.js";
import { bankInChromium, expectAccessible, screenshot, textOf } from "./browser.js";
import { activate, fill, heading, login, phone, press, screenOf, sogesmartUsers } from "./sogesmart-phone.js";

/**
 * The Progéliance Net passerelle end to end in Chromium: Progéliance Net on `pro.localhost`, the Particuliers
 * space on `perso.localhost` (two origins: two cookie jars), the consent approved on « Pass Sécurité PRO » in
 * the app, the tickets posted from one space to the other, step-up, and its deactivation — by the
 * preferences and by each of the leaflet's four events.
 */
const clock = { offset: 0 };
const session = bankInChromium({
  sogesmart: { startIntervalSeconds: 0 },
  now: () => Date.now() + clock.offset,
});
let page: Page;
let web: Page;
let a: string;
let pro: string;
let origins: { pro: string; perso: string };
const APP_PASSWORD = "246813";
const PERSO_PASSWORD = "135790";
const PRO_PASSWORD = "224466";

const h1 = (p: Page) => textOf(p.getByRole("heading", { level: 1 }));

beforeEach(async () => {
  clock.offset = 0;
  const port = new URL(session.bank.url).port;
  origins = { pro: `http://pro.localhost:${port}`, perso: `http://perso.localhost:${port}` };
  // The phone: SogeSmart on the Particuliers space's origin (its keys in that origin's IndexedDB).
  page = session.page;
  await page.goto(`${origins.perso}/sogesmart`);
  ({ a } = await sogesmartUsers(page));
  await activate(page, "a", a, { newPassword: APP_PASSWORD });
  await login(page, "a", a, APP_PASSWORD);
  // The website, in another tab: the first login on the Particuliers space (its provisional password changed).
  web = await session.context.newPage();
  await web.goto(`${origins.perso}/sogenet?accessible=1`);
  pro = await textOf(web.locator('[data-demo="progeliance"]'));
  await sogenetLogin(a, "112233");
  await web.getByLabel("Mot de passe actuel").fill("112233");
  await web.getByLabel("Nouveau mot de passe (6 chiffres)").fill(PERSO_PASSWORD);
  await web.getByLabel("Confirmation du nouveau mot de passe").fill(PERSO_PASSWORD);
  await web.getByRole("button", { name: "Valider" }).click();
  await expect.poll(() => h1(web)).toBe("Vos comptes");
  // The first login on Progéliance Net, on its own origin.
  await proLogin();
});

async function sogenetLogin(user: string, password: string): Promise<void> {
  await web.getByLabel("Identifiant").fill(user);
  await web.getByLabel("Mot de passe (6 chiffres)").fill(password);
  await web.getByRole("button", { name: "Valider" }).click();
}

async function proLogin(): Promise<void> {
  await web.goto(`${origins.pro}/progeliance`);
  await web.getByLabel("Identifiant Progéliance Net (8 chiffres)").fill(pro);
  await web.getByLabel("Code secret (6 chiffres)").fill(PRO_PASSWORD);
  await web.getByRole("button", { name: "Se connecter" }).click();
  await expect.poll(() => h1(web)).toBe("Vos comptes professionnels");
}

/** The consent journey, from Progéliance Net's menu to the Particuliers space shown (ÉTAPE 1 to 3). */
async function activatePasserelle(o: { shots?: boolean } = {}): Promise<void> {
  await web.goto(`${origins.pro}/progeliance/account`);
  await web.getByRole("button", { name: PASSERELLE.menuToPerso }).click();
  await expect.poll(() => h1(web)).toBe(PASSERELLE.title);
  if (o.shots) {
    await expectAccessible(web);
    await screenshot(web, "bank-login-passerelle-consent.png");
  }
  await web.getByRole("button", { name: "Activer la passerelle" }).click();
  await expect.poll(() => textOf(web.getByRole("alert"))).toBe(PASSERELLE.mustAgree);
  await web.getByLabel(PASSERELLE.agree).check();
  await web.getByRole("button", { name: "Activer la passerelle" }).click();
  await expect.poll(() => h1(web)).toBe(PASSERELLE.validate);
  if (o.shots) await expectAccessible(web);
  // « Pass Sécurité PRO » in the app: the activation, from the bank-signed document.
  const ph = phone(page, "a");
  await press(ph, "Pass Sécurité : opération à valider");
  await expect.poll(() => screenOf(ph)).toBe("approval");
  expect(await heading(ph)).toBe("PASS SÉCURITÉ PRO");
  expect(await textOf(ph.getByRole("heading", { level: 3 }))).toBe(
    "Activation de la passerelle entre vos espaces",
  );
  if (o.shots) {
    await expectAccessible(page);
    await screenshot(page, "sogesmart-pass-securite-pro.png");
  }
  await fill(ph, "Mot de passe", APP_PASSWORD);
  await press(ph, "Valider l'opération");
  await expect.poll(() => screenOf(ph)).toBe("home");
  // ÉTAPE 3: the Particuliers space shows, without typing anything more.
  await web.getByRole("button", { name: "J'ai répondu dans l'application" }).click();
  await expect.poll(() => web.url()).toBe(`${origins.perso}/passerelle/arrive`);
  await expect.poll(() => h1(web)).toBe("Vos comptes");
}

/** Whether the Particuliers tab's session still holds: its accounts page, or the login. */
async function persoSessionHolds(): Promise<boolean> {
  await web.goto(`${origins.perso}/sogenet/account`);
  return (await h1(web)) === "Vos comptes";
}

async function preferencesState(): Promise<string | null> {
  await web.goto(`${origins.pro}/progeliance/preferences`);
  return web.locator("[data-passerelle-state]").getAttribute("data-passerelle-state");
}

/**
 * A request to one space by its name, from Node: Node's resolver does not map `*.localhost` to loopback as
 * Chromium does, so the request goes to 127.0.0.1 with the space's Host header.
 */
function postTo(
  origin: string,
  path: string,
  body: string,
  from: string,
  method = "POST",
): Promise<{ status: number; text: string }> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(u.port),
        path,
        method,
        headers: {
          host: u.host,
          origin: from,
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function adviser(command: string, id: string): string {
  const r = spawnSync("pnpm", ["--filter", "bank-login", command, "--data", session.bank.dataDir, id], {
    cwd: fileURLToPath(new URL("../../..", import.meta.url)),
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe("the Progéliance Net passerelle", () => {
  it("keeps the two spaces on their own origins, with their own cookies", async () => {
    // Logged in on Progéliance Net: the Particuliers origin holds only its own session.
    const cookies = await session.context.cookies([origins.pro, origins.perso]);
    const sessions = cookies
      .filter((c) => c.name === "bank_sid")
      .map((c) => c.domain)
      .sort();
    expect(sessions).toEqual(["perso.localhost", "pro.localhost"]);
    // Each space's pages on its own origin only.
    expect((await postTo(origins.perso, "/progeliance", "", origins.perso, "GET")).status).toBe(404);
    await web.goto(`${origins.pro}/sogenet`);
    expect(web.url()).toBe(`${origins.pro}/progeliance`);
    expect(await h1(web)).toBe("Connexion à Progéliance Net");
    await expectAccessible(web);
  });

  it("activates through the consent journey approved in the app, then goes pro → perso and back; step-up on arrival", async () => {
    await activatePasserelle({ shots: true });
    await expectAccessible(web);
    await screenshot(web, "bank-login-passerelle-arrival.png");
    // Viewing works; an operation asks the Particuliers credentials first (step-up).
    await web.getByRole("link", { name: "Faire un virement" }).click();
    await expect.poll(() => h1(web)).toBe(PASSERELLE.stepUpTitle);
    expect(await textOf(web.locator("main p").first())).toBe(PASSERELLE.stepUp);
    await expectAccessible(web);
    await web.getByLabel("Code secret de votre Espace Client Particuliers (6 chiffres)").fill("000000");
    await web.getByRole("button", { name: "Valider" }).click();
    await expect.poll(() => textOf(web.getByRole("alert"))).toBe("Identifiant ou mot de passe incorrect.");
    await web.getByLabel("Code secret de votre Espace Client Particuliers (6 chiffres)").fill(PERSO_PASSWORD);
    await web.getByRole("button", { name: "Valider" }).click();
    await expect.poll(() => h1(web)).toBe("Nouveau virement");
    // And back: Particuliers → Progéliance Net by the menu, no code typed.
    await web.goto(`${origins.perso}/sogenet/account`);
    await web.getByRole("button", { name: PASSERELLE.menuToPro }).click();
    await expect.poll(() => web.url()).toBe(`${origins.pro}/passerelle/arrive`);
    await expect.poll(() => h1(web)).toBe("Vos comptes professionnels");
    await expectAccessible(web);
  });

  it("refuses a ticket replayed, expired, or for the other space", async () => {
    await activatePasserelle();
    await web.goto(`${origins.pro}/progeliance/account`);
    // Tickets caught on their way (answered by the test, never delivered), then posted by hand.
    const caught: string[] = [];
    await web.route(`${origins.perso}/passerelle/arrive`, async (route) => {
      caught.push(new URLSearchParams(route.request().postData() ?? "").get("ticket") ?? "");
      await route.fulfill({ status: 200, contentType: "text/plain", body: "caught" });
    });
    const ticket = async () => {
      await web.goto(`${origins.pro}/progeliance/account`);
      await web.getByRole("button", { name: PASSERELLE.menuToPerso }).click();
      await expect.poll(() => caught.length).toBeGreaterThan(0);
      await web.waitForURL(`${origins.perso}/passerelle/arrive`);
      return caught.pop()!;
    };
    const post = (to: "pro" | "perso", t: string, from = to === "pro" ? origins.perso : origins.pro) =>
      postTo(origins[to], "/passerelle/arrive", new URLSearchParams({ ticket: t }).toString(), from);
    const refusal = async (r: Awaited<ReturnType<typeof post>>) => {
      expect(r.status).toBe(401);
      return r.text.replaceAll("&#39;", "'");
    };

    // Without script, the hand-over page's button carries the ticket (bank.js kept from the page once).
    await web.route(`${origins.pro}/assets/bank.js`, (route) =>
      route.fulfill({ status: 200, contentType: "text/javascript", body: "" }),
    );
    await web.getByRole("button", { name: PASSERELLE.menuToPerso }).click();
    await expect.poll(() => h1(web)).toBe("Vers votre Espace Client Particuliers");
    await expectAccessible(web);
    await screenshot(web, "bank-login-passerelle-ticket.png");
    await web.getByRole("button", { name: PASSERELLE.go }).click();
    await expect.poll(() => caught.length).toBe(1);
    await web.waitForURL(`${origins.perso}/passerelle/arrive`);
    caught.pop();
    await web.unroute(`${origins.pro}/assets/bank.js`);

    // Used once: of 8 posts of one ticket at once, one opens a session; the others, and any later, are refused.
    const once = await ticket();
    const burst = await Promise.all(Array.from({ length: 8 }, () => post("perso", once)));
    expect(burst.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    for (const r of burst.filter((r) => r.status === 401))
      expect(r.text.replaceAll("&#39;", "'")).toContain(PASSERELLE.ticketRefused.replayed);
    expect(await refusal(await post("perso", once))).toContain(PASSERELLE.ticketRefused.replayed);
    // For the Particuliers space: refused by Progéliance Net.
    expect(await refusal(await post("pro", await ticket()))).toContain(PASSERELLE.ticketRefused.audience);
    // 60 seconds: one more second on the bank's clock, and it is refused.
    const late = await ticket();
    clock.offset = 61_000;
    expect(await refusal(await post("perso", late))).toContain(PASSERELLE.ticketRefused.expired);
    clock.offset = 0;
    // From anywhere but the other space: refused at the door, the ticket not even read.
    expect((await post("perso", await ticket(), "http://evil.localhost")).status).toBe(403);
    expect(await refusal(await post("perso", "not-a-ticket"))).toContain(PASSERELLE.ticketRefused.invalid);
  });

  it("is switched off in Profil → Vos préférences, and the sessions opened through it end", async () => {
    await activatePasserelle();
    expect(await persoSessionHolds()).toBe(true);
    await web.goto(`${origins.pro}/progeliance/account`);
    await web.getByRole("link", { name: "Vos préférences" }).click();
    expect(await textOf(web.locator("[data-passerelle-state]"))).toBe(PASSERELLE.active);
    await expectAccessible(web);
    await screenshot(web, "bank-login-passerelle-preferences.png");
    await web.getByRole("button", { name: PASSERELLE.deactivate }).click();
    await expect.poll(() => textOf(web.getByRole("status"))).toBe(PASSERELLE.deactivated);
    expect(await preferencesState()).toBe("inactive");
    expect(await textOf(web.locator("[data-passerelle-reason]"))).toBe("Motif : désactivée par vos soins");
    expect(await persoSessionHolds()).toBe(false);
    // The menu starts the consent journey again.
    await web.goto(`${origins.pro}/progeliance/account`);
    await web.getByRole("button", { name: PASSERELLE.menuToPerso }).click();
    await expect.poll(() => h1(web)).toBe(PASSERELLE.title);
  });

  it("is switched off by each of the four events, and the sessions opened through it end", async () => {
    const events: [string, () => Promise<void>][] = [
      ["changement d'administrateur", async () => void adviser("change-admin", pro)],
      [
        "révocation des transactions par votre conseiller",
        async () => void adviser("revoke-transactions", pro),
      ],
      [
        "changement volontaire du code secret par vos soins",
        async () => {
          // The customer changes it on the Particuliers space, logged in there directly (another browser).
          const other = await session.context.browser()!.newContext({ locale: "fr-FR" });
          const p = await other.newPage();
          await p.goto(`${origins.perso}/sogenet?accessible=1`);
          await p.getByLabel("Identifiant").fill(a);
          await p.getByLabel("Mot de passe (6 chiffres)").fill(PERSO_PASSWORD);
          await p.getByRole("button", { name: "Valider" }).click();
          await p.goto(`${origins.perso}/sogenet/password`);
          await p.getByLabel("Mot de passe actuel").fill(PERSO_PASSWORD);
          await p.getByLabel("Nouveau mot de passe (6 chiffres)").fill("975310");
          await p.getByLabel("Confirmation du nouveau mot de passe").fill("975310");
          await p.getByRole("button", { name: "Valider" }).click();
          await expect.poll(() => h1(p)).toBe("Vos comptes");
          await other.close();
        },
      ],
      ["réinitialisation du code secret", async () => void adviser("reset-password", a)],
    ];
    for (const [name, event] of events) {
      await activatePasserelle();
      expect(await persoSessionHolds(), name).toBe(true);
      await event();
      expect(await persoSessionHolds(), name).toBe(false);
      expect(await preferencesState(), name).toBe("inactive");
      expect(await textOf(web.locator("[data-passerelle-reason]"))).toBe(`Motif : ${name}`);
    }
  }, 300_000);
});
