import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { SESSION } from "../src/wording.js";
import { bankInChromium, demoCustomers, expectAccessible, readerCode, textOf } from "./browser.js";

/** The pages the flows do not stop on, through axe in Chromium: home, refusals, a browser with no demo yet. */
const session = bankInChromium();
let bank: typeof session.bank;
let page: Page;
beforeEach(() => {
  ({ bank, page } = session);
});

const heading = () => textOf(page.getByRole("heading", { level: 1 }));

describe("every other page is accessible", () => {
  it("home, 404, the login pages before any demo customer, 401 and another bank's page", async () => {
    await page.goto(`${bank.url}/`);
    expect(await heading()).toBe("Banque de démonstration");
    await expectAccessible(page);
    const missing = await page.goto(`${bank.url}/nope`);
    expect(missing?.status()).toBe(404);
    await expectAccessible(page);
    for (const path of ["/coopanet", "/sogenet", "/sogenet?accessible=1"]) {
      await page.goto(`${bank.url}${path}`);
      await expect
        .poll(() => page.getByRole("button", { name: "Recevoir mes clients de démonstration" }).isVisible())
        .toBe(true);
      await expectAccessible(page);
    }
    const out = await page.goto(`${bank.url}/coopanet/account`);
    expect(out?.status()).toBe(401);
    expect(await textOf(page.getByRole("alert"))).toBe(SESSION.notLoggedIn);
    await expectAccessible(page);

    await page.goto(`${bank.url}/coopanet`);
    const { coopanet } = await demoCustomers(page);
    await page.getByLabel("Code utilisateur").fill(coopanet!);
    await page.getByLabel("Code Sésame").fill(await readerCode(page, ["OK"]));
    await page.getByRole("button", { name: "Se connecter" }).click();
    await expect.poll(heading).toBe("Vos comptes");
    const other = await page.goto(`${bank.url}/sogenet/account`);
    expect(other?.status()).toBe(403);
    expect(await textOf(page.getByRole("alert"))).toBe(SESSION.otherBank("Coop@net", "SOGENET"));
    await expectAccessible(page);
  });
});
