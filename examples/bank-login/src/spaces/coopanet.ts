import { Hono } from "hono";
import {
  electronicFormatIBAN,
  getCountrySpecifications,
  ValidationErrorsIBAN,
  validateIBAN,
} from "ibantools";
import { formatEuros, parseEuros } from "../money.js";
import { accountPage } from "../pages/account.js";
import { coopanetLoginPage, signPage, transferPage } from "../pages/coopanet.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { readAttempt, readForm } from "../web/forms.js";
import { answerLogin } from "../web/login.js";
import { signedIn } from "../web/signed-in.js";
import { demoOf, endSession, visitorOf } from "../web/visitor.js";
import { COOPANET, SESSION } from "../wording.js";

/**
 * Coop@net (Crédit Coopératif): the login with the user code and the code the Sésame reader shows, the
 * accounts, a transfer signed on the reader (the bank's challenge and the amount).
 */
export function coopanetRoutes(deps: Deps): Hono<BankEnv> {
  const { bank } = deps;
  const app = new Hono<BankEnv>();
  const max = () => bank.codes.maxFailures;

  const loginPage = (c: BankContext, o: { error?: string | string[]; notice?: string; user?: string } = {}) =>
    coopanetLoginPage({ csrf: visitorOf(c, deps).csrf, demo: demoOf(c, deps), ...o });
  const me = (c: BankContext) => signedIn(c, deps, "coopanet", (error) => loginPage(c, { error }));

  app.get("/", (c) =>
    c.html(loginPage(c, c.req.query("done") === "logout" ? { notice: SESSION.loggedOut } : {})),
  );

  app.post("/", async (c) => {
    const { form, visitor } = await readAttempt(c, deps);
    const user = (form.get("user") ?? "").trim().toUpperCase();
    const code = (form.get("code") ?? "").trim();
    // Malformed input is answered at once and counts nothing: it cannot be anyone's code.
    if (!/^[A-Z0-9]{8}$/.test(user)) {
      return c.html(
        loginPage(c, { error: "Le code utilisateur comporte 8 lettres ou chiffres.", user }),
        400,
      );
    }
    if (!/^[0-9]{4} ?[0-9]{4}$/.test(code)) {
      return c.html(
        loginPage(c, { error: "Le code Sésame comporte 8 chiffres, par exemple 1234 5678.", user }),
        400,
      );
    }
    // The same work for everyone: one lookup, one verifier call (an unknown id is counted and locked alike).
    const customer = bank.customers.get("coopanet", user);
    const judgement = await bank.codes.checkLogin("coopanet", user, code);
    const page = (error: string | string[]) => loginPage(c, { error, user });
    const to = "/coopanet/account";
    return answerLogin(c, deps, { visitor, judgement, user, customer, to, words: COOPANET, page });
  });

  app.get("/account", (c) => {
    const { session, customer } = me(c);
    return c.html(accountPage({ bank: "coopanet", csrf: session.csrf, name: customer.name }));
  });

  app.get("/transfer", (c) => {
    const { session } = me(c);
    const demo = demoOf(c, deps);
    return c.html(
      session.transfer
        ? signPage({ csrf: session.csrf, demo, transfer: session.transfer })
        : transferPage({ csrf: session.csrf, demo }),
    );
  });

  app.post("/transfer", async (c) => {
    const { sessionId, customer } = me(c);
    const { form, visitor } = await readForm(c, deps);
    const iban = form.get("iban") ?? "";
    const amount = (form.get("amount") ?? "").trim();
    const again = (error: string) =>
      c.html(
        transferPage({ csrf: visitor.csrf, demo: demoOf(c, deps), error, values: { iban, amount } }),
        400,
      );
    const beneficiary = electronicFormatIBAN(iban) ?? "";
    const ibanError = ibanProblem(beneficiary);
    if (ibanError) return again(ibanError);
    const cents = parseEuros(amount);
    if (cents === undefined) {
      return again(
        "Le montant est un nombre d'euros positif, avec au plus 2 décimales (par exemple 150,00).",
      );
    }
    const challenge = await bank.codes.issueSignChallenge(customer.credential!);
    bank.sessions.setTransfer(sessionId, { beneficiary, cents, ...challenge });
    return c.redirect("/coopanet/transfer", 303);
  });

  app.get("/transfer/sign", (c) => c.redirect("/coopanet/transfer", 303));
  app.post("/transfer/sign", async (c) => {
    const { sessionId, session, customer } = me(c);
    const { form } = await readAttempt(c, deps);
    const t = session.transfer;
    if (!t) return c.redirect("/coopanet/transfer", 303);
    const demo = demoOf(c, deps);
    const code = (form.get("code") ?? "").trim();
    if (!/^[0-9]{4} ?[0-9]{4}$/.test(code)) {
      const error = "Le code de signature comporte 8 chiffres, par exemple 1234 5678.";
      return c.html(signPage({ csrf: session.csrf, demo, transfer: t, error }), 400);
    }
    const j = await bank.codes.checkSignature(customer.credential!, code, t.challengeId, t.cents);
    if (j.result === "accepted") {
      bank.sessions.setTransfer(sessionId, undefined);
      const notice = `Virement de ${formatEuros(t.cents)} vers ${t.beneficiary} signé et validé.`;
      return c.html(accountPage({ bank: "coopanet", csrf: session.csrf, name: customer.name, notice }));
    }
    if (j.result === "locked") {
      bank.sessions.endAllOf(customer.id);
      endSession(c, deps);
      return c.html(loginPage(c, { error: COOPANET.locked(max()) }), 423);
    }
    // The challenge is spent by any attempt (one guess per challenge): sign again over a new one.
    const fresh = { ...t, ...(await bank.codes.issueSignChallenge(customer.credential!)) };
    bank.sessions.setTransfer(sessionId, fresh);
    const error = j.lastTry ? [COOPANET.wrongSignature, COOPANET.lastTry] : COOPANET.wrongSignature;
    return c.html(signPage({ csrf: session.csrf, demo, transfer: fresh, error }), 401);
  });

  app.get("/transfer/cancel", (c) => c.redirect("/coopanet/transfer", 303));
  app.post("/transfer/cancel", async (c) => {
    const { sessionId, session, customer } = me(c);
    await readForm(c, deps);
    bank.sessions.setTransfer(sessionId, undefined);
    const notice = session.transfer ? COOPANET.transferCancelled : undefined;
    return c.html(accountPage({ bank: "coopanet", csrf: session.csrf, name: customer.name, notice }));
  });

  return app;
}

/** What is wrong with an IBAN (ISO 13616: country, length, format, mod-97 check digits), in the customer's words. */
function ibanProblem(iban: string): string | undefined {
  const r = validateIBAN(iban);
  if (r.valid) return undefined;
  const errors = new Set(r.errorCodes);
  if (errors.has(ValidationErrorsIBAN.NoIBANProvided) || errors.has(ValidationErrorsIBAN.NoIBANCountry)) {
    return "L'IBAN commence par le code du pays (FR pour la France) : vérifiez-le.";
  }
  if (errors.has(ValidationErrorsIBAN.WrongBBANLength)) {
    const chars = getCountrySpecifications()[iban.slice(0, 2)]?.chars;
    return `Un IBAN ${iban.slice(0, 2)} compte ${chars} caractères : vérifiez-le.`;
  }
  if (errors.has(ValidationErrorsIBAN.WrongBBANFormat)) {
    return "L'IBAN contient des caractères inattendus pour ce pays : vérifiez-le.";
  }
  return "La clé de contrôle de l'IBAN ne correspond pas : vérifiez chaque caractère.";
}
