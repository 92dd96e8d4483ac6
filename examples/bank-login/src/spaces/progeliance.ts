import { Hono } from "hono";
import { accountPage } from "../pages/account.js";
import {
  consentPage,
  preferencesPage,
  progelianceLoginPage,
  validateActivationPage,
} from "../pages/passerelle.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { readAttempt, readForm } from "../web/forms.js";
import { answerLogin } from "../web/login.js";
import { Refusal } from "../web/refusal.js";
import { signedIn } from "../web/signed-in.js";
import { visitorOf } from "../web/visitor.js";
import { PASSERELLE, PROGELIANCE, SESSION } from "../wording.js";
import { handOver, spacesMenu } from "./passerelle.js";

/**
 * Progéliance Net (Société Générale's professional space), on its own origin: the administrator's login
 * (identifiant and code secret), the accounts, the passerelle to the Particuliers space — its consent journey
 * (information, explicit consent, the activation approved on « Pass Sécurité PRO »), its menu, and Profil →
 * Vos préférences → Préférences d'accès à vos espaces web, where it is switched off.
 */
export function progelianceRoutes(deps: Deps): Hono<BankEnv> {
  const { bank } = deps;
  const app = new Hono<BankEnv>();
  const loginPage = (c: BankContext, o: { error?: string | string[]; notice?: string; user?: string } = {}) =>
    progelianceLoginPage({ csrf: visitorOf(c, deps).csrf, ...o });
  const me = (c: BankContext) => {
    const s = signedIn(c, deps, "progeliance", (error) => loginPage(c, { error }));
    // A Progéliance Net subscription is a professional contract, administered by its customer.
    const contract = bank.passerelle.contractOf("pro", s.customer.id);
    if (!contract) throw new Refusal(404, "Aucun contrat professionnel n'est associé à cet identifiant.");
    return { ...s, contract };
  };

  app.get("/", (c) =>
    c.html(loginPage(c, c.req.query("done") === "logout" ? { notice: SESSION.loggedOut } : {})),
  );
  app.post("/", async (c) => {
    const { form, visitor } = await readAttempt(c, deps);
    const user = (form.get("user") ?? "").trim();
    const password = form.get("password") ?? "";
    if (!/^[0-9]{8}$/.test(user))
      return c.html(loginPage(c, { error: "L'identifiant comporte 8 chiffres.", user }), 400);
    if (!/^[0-9]{6}$/.test(password))
      return c.html(loginPage(c, { error: "Le code secret comporte 6 chiffres.", user }), 400);
    // The same work for everyone, as SOGENET's login: one lookup, one scrypt, one verifier call.
    const customer = bank.customers.get("progeliance", user);
    const ok = await bank.passwords.check(password, customer?.password);
    const judgement = await bank.codes.checkPassword("progeliance", user, ok);
    const page = (error: string | string[]) => loginPage(c, { error, user });
    const to = "/progeliance/account";
    return answerLogin(c, deps, { visitor, judgement, user, customer, to, words: PROGELIANCE, page });
  });

  app.get("/account", async (c) => {
    const { session, customer } = me(c);
    const spaces = await spacesMenu(deps, "pro", customer.id);
    const notice = c.req.query("done") === "deactivated" ? PASSERELLE.deactivated : undefined;
    return c.html(
      accountPage({
        bank: "progeliance",
        csrf: session.csrf,
        name: customer.name,
        notice,
        ...(spaces ? { spaces } : {}),
      }),
    );
  });

  // « Accéder à votre Espace Client Particuliers »: with the passerelle active, a ticket there; otherwise the
  // consent journey starts (ÉTAPE 2 of the leaflet).
  app.get("/particuliers", (c) => c.redirect("/progeliance/passerelle", 303));
  app.post("/particuliers", async (c) => {
    const { session, customer } = me(c);
    await readForm(c, deps);
    return (
      (await handOver(c, deps, "pro", customer.id, session.csrf)) ??
      c.redirect("/progeliance/passerelle", 303)
    );
  });

  const consent = async (c: BankContext, error?: string) => {
    const { session, contract } = me(c);
    const app = (await bank.sogesmart.approvingApp(contract.personal)) !== undefined;
    const page = consentPage({
      csrf: session.csrf,
      prerequisites: bank.passerelle.prerequisites(contract),
      app,
      error,
    });
    return c.html(page, error ? 400 : 200);
  };

  app.get("/passerelle", async (c) => {
    const { session, contract } = me(c);
    const pending = session.transfer?.operation;
    const op = pending ? await bank.operations.of("sogenet", contract.personal, pending) : undefined;
    if (op?.state === "pending") return c.html(validateActivationPage({ csrf: session.csrf, operation: op }));
    return consent(c);
  });

  app.post("/passerelle", async (c) => {
    const { sessionId, session, contract } = me(c);
    const { form } = await readForm(c, deps);
    if (form.get("agree") !== "yes") return consent(c, PASSERELLE.mustAgree);
    const op = await bank.passerelle.consent(contract);
    if (!op) return consent(c);
    bank.sessions.setTransfer(sessionId, { operation: op.id });
    return c.html(validateActivationPage({ csrf: session.csrf, operation: op }));
  });

  // ÉTAPE 3: « une fois l'activation validée, votre Espace Client Particuliers Internet s'affiche, sans
  // authentification complémentaire ».
  app.get("/passerelle/check", (c) => c.redirect("/progeliance/passerelle", 303));
  app.post("/passerelle/check", async (c) => {
    const { sessionId, session, customer, contract } = me(c);
    await readForm(c, deps);
    const id = session.transfer?.operation;
    const op = id ? await bank.operations.of("sogenet", contract.personal, id) : undefined;
    if (!op) return c.redirect("/progeliance/passerelle", 303);
    if (op.state === "pending")
      return c.html(
        validateActivationPage({ csrf: session.csrf, operation: op, notice: PASSERELLE.waiting }),
      );
    bank.sessions.setTransfer(sessionId, undefined);
    if (!(await bank.passerelle.activate(contract, op.id))) return consent(c, PASSERELLE.refused);
    return (await handOver(c, deps, "pro", customer.id, session.csrf))!;
  });

  app.get("/preferences", async (c) => {
    const { session, contract } = me(c);
    const s = await bank.passerelle.state(contract);
    const reason = s.state === "inactive" ? s.reason : undefined;
    return c.html(preferencesPage({ csrf: session.csrf, active: s.state === "active", reason }));
  });
  app.get("/preferences/deactivate", (c) => c.redirect("/progeliance/preferences", 303));
  app.post("/preferences/deactivate", async (c) => {
    const { session, contract } = me(c);
    await readForm(c, deps);
    await bank.passerelle.deactivate(contract);
    return c.html(preferencesPage({ csrf: session.csrf, active: false, notice: PASSERELLE.deactivated }));
  });

  return app;
}
