import { Hono } from "hono";
import { accountPage } from "../pages/account.js";
import { passwordChangePage, sogenetLoginPage } from "../pages/sogenet.js";
import { sogesmartQrPage } from "../pages/sogesmart-qr.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { readAttempt } from "../web/forms.js";
import { answerLogin, logIn } from "../web/login.js";
import { signedIn } from "../web/signed-in.js";
import { demoOf, endSession, visitorOf } from "../web/visitor.js";
import { SESSION, SOGENET } from "../wording.js";

/**
 * SOGENET (Société Générale): the login with the identifiant and a password clicked on the shuffled keypad —
 * or the code the SGpass shows —, the forced change of the provisional password, the accounts.
 */
export function sogenetRoutes(deps: Deps): Hono<BankEnv> {
  const { bank } = deps;
  const app = new Hono<BankEnv>();
  const max = () => bank.codes.maxFailures;

  const accessible = (c: BankContext) => c.req.query("accessible") !== undefined;
  const loginPage = (c: BankContext, o: { error?: string | string[]; notice?: string; user?: string } = {}) =>
    sogenetLoginPage({
      csrf: visitorOf(c, deps).csrf,
      demo: demoOf(c, deps),
      layout: accessible(c) ? undefined : deps.keypads.issue(),
      ...o,
    });
  const me = (c: BankContext, passwordPage = false) =>
    signedIn(c, deps, "sogenet", (error) => loginPage(c, { error }), { passwordPage });

  app.get("/", (c) =>
    c.html(loginPage(c, c.req.query("done") === "logout" ? { notice: SESSION.loggedOut } : {})),
  );

  app.post("/", async (c) => {
    const { form, visitor } = await readAttempt(c, deps);
    const user = (form.get("user") ?? "").trim();
    if (!/^[0-9]{8}$/.test(user))
      return c.html(loginPage(c, { error: "L'identifiant comporte 8 chiffres.", user }), 400);
    let password: string;
    if (accessible(c)) password = form.get("password") ?? "";
    else {
      const r = deps.keypads.read(form.get("layout") ?? "", form.get("cells") ?? "");
      if (!r.ok && r.why === "layout")
        return c.html(loginPage(c, { error: SOGENET.keypadExpired, user }), 400);
      password = r.ok ? r.password : "";
    }
    if (!/^[0-9]{6}$/.test(password)) {
      return c.html(loginPage(c, { error: "Le mot de passe comporte 6 chiffres.", user }), 400);
    }
    // The same work for everyone: one lookup, one scrypt (against the customer's hash, or the stranger's when
    // there is none), one verifier call — a password customer, an SGpass customer and an unknown identifiant
    // cannot be told apart, and an unknown identifiant is counted and locked alike.
    const customer = bank.customers.get("sogenet", user);
    const passwordOk = await bank.passwords.check(password, customer?.password);
    const judgement = customer?.credential
      ? await bank.codes.checkLogin("sogenet", user, password) // with an SGpass, the password is its code
      : await bank.codes.checkPassword("sogenet", user, passwordOk);
    const page = (error: string | string[]) => loginPage(c, { error, user });
    const to = "/sogenet/account";
    return answerLogin(c, deps, { visitor, judgement, user, customer, to, words: SOGENET, page });
  });

  app.get("/account", (c) => {
    const { session, customer } = me(c);
    const notice = c.req.query("done") === "password" ? SOGENET.changed : undefined;
    return c.html(accountPage({ bank: "sogenet", csrf: session.csrf, name: customer.name, notice }));
  });

  app.get("/password", (c) => {
    const { session } = me(c, true);
    return c.html(passwordChangePage({ csrf: session.csrf, mustChange: session.mustChange }));
  });

  app.post("/password", async (c) => {
    const { session, customer } = me(c, true);
    const { form, visitor } = await readAttempt(c, deps);
    const current = form.get("current") ?? "";
    const next = form.get("next") ?? "";
    const again = (status: 400 | 401, error: string) =>
      c.html(passwordChangePage({ csrf: visitor.csrf, mustChange: session.mustChange, error }), status);
    if (!customer.password)
      return again(400, "Ce compte se connecte avec le SGpass : il n'a pas de mot de passe.");
    if (!/^[0-9]{6}$/.test(next))
      return again(400, "Le nouveau mot de passe comporte exactement 6 chiffres.");
    if (form.get("confirm") !== next)
      return again(400, "La confirmation ne correspond pas au nouveau mot de passe.");
    if (next === current) return again(400, "Le nouveau mot de passe doit être différent de l'actuel.");
    // The current password counts like a login: the change page is no way around the lockout.
    const j = await bank.codes.checkPassword(
      "sogenet",
      customer.id,
      await bank.passwords.check(current, customer.password),
    );
    if (j.result === "locked") {
      bank.sessions.endAllOf(customer.id);
      endSession(c, deps);
      return c.html(loginPage(c, { error: SOGENET.locked(max()) }), 423);
    }
    if (j.result === "rejected")
      return again(401, j.lastTry ? `${SOGENET.wrongCurrent}. ${SOGENET.lastTry}` : SOGENET.wrongCurrent);
    bank.customers.setPassword(customer.id, await bank.passwords.hash(next), undefined);
    // Every session of the customer ends, this one included; this browser gets a new one.
    bank.sessions.endAllOf(customer.id);
    const changed = { ...customer, mustChange: undefined };
    return logIn(c, deps, { ...visitor, sessionId: undefined }, changed, "/sogenet/account?done=password");
  });

  // « Activer SogeSmart sur mon téléphone »: an activation started from this session. The QR code carries the
  // web-session code (only this session shows it); the phone gets the SMS code: two features, two channels.
  app.get("/sogesmart", (c) => {
    const { session } = me(c);
    return c.html(sogesmartQrPage({ csrf: session.csrf, demo: demoOf(c, deps) }));
  });
  app.post("/sogesmart", async (c) => {
    const { customer } = me(c);
    const { visitor } = await readAttempt(c, deps);
    const demo = demoOf(c, deps);
    try {
      const started = await bank.sogesmart.startFromSession(customer.id);
      return c.html(sogesmartQrPage({ csrf: visitor.csrf, demo, started }));
    } catch (e) {
      const retryAfter = (e as { details?: { retryAfter?: number } }).details?.retryAfter;
      const error =
        retryAfter !== undefined
          ? `Un mot de passe vient de vous être envoyé par SMS : réessayez dans ${Math.ceil(retryAfter / 60)} minute(s).`
          : "Cet identifiant n'a pas accès à SogeSmart.";
      return c.html(sogesmartQrPage({ csrf: visitor.csrf, demo, error }), 400);
    }
  });

  return app;
}
