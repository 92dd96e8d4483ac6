import { readFileSync } from "node:fs";
import { bundleCapkitWeb } from "@capkit/web/bundle";
import { Hono } from "hono";
import { homePage } from "../pages/home.js";
import { clientAddress } from "../web/client.js";
import type { BankEnv, Deps } from "../web/context.js";
import { readForm, throttle } from "../web/forms.js";
import { Refusal } from "../web/refusal.js";
import { demoOf, endSession, visitorOf } from "../web/visitor.js";

/** What no space owns: the home page, logout, the idle keep-alive, the assets. */
export function commonRoutes(deps: Deps, assets: Assets): Hono<BankEnv> {
  const app = new Hono<BankEnv>();

  app.get("/", (c) => c.html(homePage(visitorOf(c, deps).csrf, deps.bank.passerelle.origins)));
  app.get("/favicon.ico", (c) => c.body(null, 204));
  // The bank's receipt public keys ({ keyId: hex }): what `capkit receipt verify --public-keys` reads.
  app.get("/receipt-keys.json", async (c) => {
    const keys = await deps.bank.operations.receiptKeys();
    return c.json(
      Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, Buffer.from(k).toString("hex")])),
    );
  });

  for (const [path, a] of assets) {
    app.get(path, (c) => c.body(a.body, 200, { "content-type": a.type, "cache-control": "no-cache" }));
  }

  // Logout lands on the login page of the customer's bank.
  app.get("/logout", (c) => c.redirect("/", 303));
  app.post("/logout", async (c) => {
    const { visitor } = await readForm(c, deps);
    const bank = visitor.session?.bank;
    endSession(c, deps);
    return c.redirect(bank ? `/${bank}?done=logout` : "/", 303);
  });

  // The idle warning's « Rester connecté »: the request itself moved the session's idle time on.
  app.get("/session/keepalive", (c) => c.redirect("/", 303));
  app.post("/session/keepalive", async (c) => {
    const { visitor } = await readForm(c, deps);
    if (!visitor.session) throw new Refusal(401, "Votre session a expiré : connectez-vous de nouveau.");
    return c.body(null, 204);
  });

  return app;
}

/** Demo only: this browser's demo customers and their devices. */
export function demoRoutes(deps: Deps): Hono<BankEnv> {
  const app = new Hono<BankEnv>();
  const { demo } = deps.bank;

  app.get("/demo", (c) => c.redirect("/", 303));
  app.post("/demo", async (c) => {
    throttle(deps.throttles.demoPerAddress.take(clientAddress(c)));
    const { form } = await readForm(c, deps);
    const back = form.get("back") ?? "/";
    if (!demoOf(c, deps)) {
      throttle(deps.throttles.demoOverall.take("all"));
      const made = await demo.create();
      deps.cookies.set(c, "demo", made.browser);
    }
    // Back to the page the button was on: one of ours (a path, never another site).
    return c.redirect(/^(\/[a-z]+)+(\?accessible=1)?$/.test(back) ? back : "/", 303);
  });

  // A browser's own devices, to that browser only: no demo cookie, no device.
  app.get("/devices/card.json", async (c) => {
    const d = demoOf(c, deps);
    if (!d) return c.json({ error: "no demo customer in this browser" }, 401);
    // The card as the bank last saw it: its ATC never behind the last accepted one, so a browser whose storage
    // was cleared still cannot show a used code.
    const last = await deps.bank.codes.lastAccepted(d.cardCredential);
    return c.json({ ...d.card, atc: Math.max(d.card.atc, last) });
  });
  app.get("/devices/sgpass.json", (c) => {
    const d = demoOf(c, deps);
    if (!d) return c.json({ error: "no demo customer in this browser" }, 401);
    return c.json({ id: d.sgpass.id, kind: "totp", secretHex: d.sgpass.secretHex });
  });
  // The reader showed CARTE BLOQUEE (bank.js): the card stays blocked for this customer.
  app.post("/devices/card/blocked", async (c) => {
    await readForm(c, deps);
    const browser = deps.cookies.get(c, "demo");
    if (browser) demo.blockCard(browser);
    return c.body(null, 204);
  });
  app.get("/devices/card/blocked", (c) => c.redirect("/", 303));

  // FOR DEVELOPMENT ONLY: a phone's SMS from the bank's dev outbox, for <capkit-sms-inbox>; this browser's
  // SogeSmart users only (a, b), never another browser's.
  app.get("/dev/sms/:slot{[ab]}", async (c) => {
    const s = demoOf(c, deps)?.sogesmart;
    if (!s) return c.json({ error: "no demo customer in this browser" }, 401);
    const user = c.req.param("slot") === "a" ? s.a : s.b;
    return c.json({ phone: user.phone, messages: await deps.bank.sogesmart.inbox(user.phone) });
  });

  return app;
}

export type Assets = ReadonlyMap<string, { readonly type: string; readonly body: string }>;

export async function loadAssets(): Promise<Assets> {
  const file = (name: string) => readFileSync(new URL(`../public/${name}`, import.meta.url), "utf8");
  return new Map([
    ["/assets/capkit-web.js", { type: "text/javascript; charset=utf-8", body: await bundleCapkitWeb() }],
    [
      "/assets/capkit-sogesmart.js",
      { type: "text/javascript; charset=utf-8", body: await bundleCapkitWeb({ entry: "sogesmart" }) },
    ],
    ["/assets/bank.js", { type: "text/javascript; charset=utf-8", body: file("bank.js") }],
    ["/assets/bank.css", { type: "text/css; charset=utf-8", body: file("bank.css") }],
  ]);
}
