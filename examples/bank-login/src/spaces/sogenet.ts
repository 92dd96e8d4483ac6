import { Hono } from "hono";
import { accountPage } from "../pages/account.js";
import { stepUpPage } from "../pages/passerelle.js";
import {
  approveInAppPage,
  passwordChangePage,
  sogenetLoginPage,
  sogenetTransferPage,
} from "../pages/sogenet.js";
import { sogesmartQrPage } from "../pages/sogesmart-qr.js";
import { transferDonePage } from "../pages/transfer.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { readAttempt, readForm } from "../web/forms.js";
import { answerLogin, logIn } from "../web/login.js";
import { signedIn } from "../web/signed-in.js";
import { readTransfer } from "../web/transfer-form.js";
import { demoOf, endSession, visitorOf } from "../web/visitor.js";
import { PASS_SECURITE, SESSION, SOGENET } from "../wording.js";
import { handOver, spacesMenu } from "./passerelle.js";

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
  /** An operation (a transfer, a password change, an app's activation): step-up first through the passerelle. */
  const meToOperate = (c: BankContext, passwordPage = false) =>
    signedIn(c, deps, "sogenet", (error) => loginPage(c, { error }), { passwordPage, operation: true });

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

  app.get("/account", async (c) => {
    const { session, customer } = me(c);
    const notice = c.req.query("done") === "password" ? SOGENET.changed : undefined;
    const spaces = await spacesMenu(deps, "perso", customer.id);
    return c.html(
      accountPage({
        bank: "sogenet",
        csrf: session.csrf,
        name: customer.name,
        notice,
        ...(spaces ? { spaces } : {}),
      }),
    );
  });

  // The passerelle, the other way: « Accéder à votre Espace Client Progéliance Net », with a ticket.
  app.get("/progeliance", (c) => c.redirect("/sogenet/account", 303));
  app.post("/progeliance", async (c) => {
    const { session, customer } = me(c);
    await readForm(c, deps);
    return (
      (await handOver(c, deps, "perso", customer.id, session.csrf)) ?? c.redirect("/sogenet/account", 303)
    );
  });

  // Step-up: the customer's own SOGENET password, counted in their lockout like a login.
  app.get("/step-up", (c) => c.redirect("/sogenet/account", 303));
  app.post("/step-up", async (c) => {
    const { sessionId, session, customer } = me(c);
    const { form } = await readAttempt(c, deps);
    const next = form.get("next") ?? "";
    const back = /^\/sogenet\/[a-z-]+$/.test(next) ? next : "/sogenet/account";
    const password = form.get("password") ?? "";
    if (!/^[0-9]{6}$/.test(password))
      return c.html(
        stepUpPage({ csrf: session.csrf, next: back, error: "Le code secret comporte 6 chiffres." }),
        400,
      );
    const ok = await bank.passwords.check(password, customer.password);
    const j = await bank.codes.checkPassword("sogenet", customer.id, ok);
    if (j.result === "locked") {
      bank.sessions.endAllOf(customer.id);
      endSession(c, deps);
      return c.html(loginPage(c, { error: SOGENET.locked(max()) }), 423);
    }
    if (j.result === "rejected") {
      const error = j.lastTry ? [SOGENET.wrong, SOGENET.lastTry] : SOGENET.wrong;
      return c.html(stepUpPage({ csrf: session.csrf, next: back, error }), 401);
    }
    bank.sessions.steppedUp(sessionId);
    return c.redirect(back, 303);
  });

  app.get("/password", (c) => {
    const { session } = meToOperate(c, true);
    return c.html(passwordChangePage({ csrf: session.csrf, mustChange: session.mustChange }));
  });

  app.post("/password", async (c) => {
    const { session, customer } = meToOperate(c, true);
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
    // « Changement volontaire du code secret par vos soins »: a security event (a first-login change is not
    // one: it sets the customer's first own password). The passerelle is switched off with it.
    if (!session.mustChange)
      await bank.codes.events().record({
        type: "password-change",
        subject: { kind: "user", id: `sogenet:${customer.id}` },
        cause: "changement volontaire du code secret par le client",
      });
    // Every session of the customer ends, this one included; this browser gets a new one.
    bank.sessions.endAllOf(customer.id);
    const changed = { ...customer, mustChange: undefined };
    return logIn(c, deps, { ...visitor, sessionId: undefined }, changed, "/sogenet/account?done=password");
  });

  // A transfer validated with « Pass Sécurité » in the app (`device`): the operation is made here, the app
  // fetches its bank-signed document, the customer accepts or declines there, and this page reads the outcome.
  const transferOf = async (c: BankContext) => {
    const { session, customer } = me(c);
    const id = session.transfer?.operation;
    return id ? bank.operations.of("sogenet", customer.id, id) : undefined;
  };

  app.get("/transfer", async (c) => {
    const { session, customer } = meToOperate(c);
    const op = await transferOf(c);
    if (op?.state === "pending") return c.html(approveInAppPage({ csrf: session.csrf, operation: op }));
    const approving = (await bank.sogesmart.approvingApp(customer.id)) !== undefined;
    return c.html(sogenetTransferPage({ csrf: session.csrf, approving }));
  });

  app.post("/transfer", async (c) => {
    const { sessionId, customer } = meToOperate(c);
    const { form, visitor } = await readForm(c, deps);
    const credential = await bank.sogesmart.approvingApp(customer.id);
    const read = readTransfer(form);
    if (!credential || "error" in read) {
      const values = "error" in read ? read.values : undefined;
      const error = "error" in read ? read.error : undefined;
      const page = sogenetTransferPage({ csrf: visitor.csrf, approving: !!credential, error, values });
      return c.html(page, credential ? 400 : 409);
    }
    const op = await bank.operations.transfer({
      bank: "sogenet",
      customer: customer.id,
      credential,
      method: "device",
      payee: read.payee,
      cents: read.cents,
    });
    bank.sessions.setTransfer(sessionId, { operation: op.id });
    return c.redirect("/sogenet/transfer", 303);
  });

  app.get("/transfer/check", (c) => c.redirect("/sogenet/transfer", 303));
  app.post("/transfer/check", async (c) => {
    const { sessionId, session, customer } = meToOperate(c);
    await readForm(c, deps);
    const op = await transferOf(c);
    if (!op) return c.redirect("/sogenet/transfer", 303);
    if (op.state === "pending")
      return c.html(approveInAppPage({ csrf: session.csrf, operation: op, notice: PASS_SECURITE.waiting }));
    bank.sessions.setTransfer(sessionId, undefined);
    if ((op.state === "approved" || op.state === "declined") && op.receipt)
      return c.html(
        transferDonePage({ bank: "sogenet", csrf: session.csrf, document: op.document, receipt: op.receipt }),
      );
    const notice = PASS_SECURITE.closed;
    return c.html(accountPage({ bank: "sogenet", csrf: session.csrf, name: customer.name, notice }), 409);
  });

  app.get("/transfer/cancel", (c) => c.redirect("/sogenet/transfer", 303));
  app.post("/transfer/cancel", async (c) => {
    const { sessionId, session, customer } = me(c);
    await readForm(c, deps);
    const op = await transferOf(c);
    if (op?.state === "pending") await bank.operations.cancel(op);
    bank.sessions.setTransfer(sessionId, undefined);
    const notice = op ? PASS_SECURITE.cancelled : undefined;
    return c.html(accountPage({ bank: "sogenet", csrf: session.csrf, name: customer.name, notice }));
  });

  // « Activer SogeSmart sur mon téléphone »: an activation started from this session. The QR code carries the
  // web-session code (only this session shows it); the phone gets the SMS code: two features, two channels.
  app.get("/sogesmart", (c) => {
    const { session } = meToOperate(c);
    return c.html(sogesmartQrPage({ csrf: session.csrf, demo: demoOf(c, deps) }));
  });
  app.post("/sogesmart", async (c) => {
    const { customer } = meToOperate(c);
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
