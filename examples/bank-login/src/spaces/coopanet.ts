import { Hono } from "hono";
import { accountPage } from "../pages/account.js";
import { coopanetLoginPage, signPage, transferPage } from "../pages/coopanet.js";
import { transferDonePage } from "../pages/transfer.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { readAttempt, readForm } from "../web/forms.js";
import { answerLogin } from "../web/login.js";
import { signedIn } from "../web/signed-in.js";
import { readTransfer } from "../web/transfer-form.js";
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

  // The transfer: a `capkit-operation/1` document made from the form (operations.ts), signed on the reader
  // with the amount and the last 8 digits of the payee's IBAN as challenge (`cap-sign`).
  const pendingOf = async (c: BankContext) => {
    const { session, customer } = me(c);
    const id = session.transfer?.operation;
    const op = id ? await bank.operations.of("coopanet", customer.id, id) : undefined;
    return op?.state === "pending" ? op : undefined;
  };

  app.get("/transfer", async (c) => {
    const { session } = me(c);
    const demo = demoOf(c, deps);
    const op = await pendingOf(c);
    return c.html(
      op ? signPage({ csrf: session.csrf, demo, operation: op }) : transferPage({ csrf: session.csrf, demo }),
    );
  });

  app.post("/transfer", async (c) => {
    const { sessionId, customer } = me(c);
    const { form, visitor } = await readForm(c, deps);
    const read = readTransfer(form);
    if ("error" in read)
      return c.html(
        transferPage({ csrf: visitor.csrf, demo: demoOf(c, deps), error: read.error, values: read.values }),
        400,
      );
    const op = await bank.operations.transfer({
      bank: "coopanet",
      customer: customer.id,
      credential: customer.credential!,
      method: "cap-sign",
      payee: read.payee,
      cents: read.cents,
    });
    bank.sessions.setTransfer(sessionId, { operation: op.id });
    return c.redirect("/coopanet/transfer", 303);
  });

  app.get("/transfer/sign", (c) => c.redirect("/coopanet/transfer", 303));
  app.post("/transfer/sign", async (c) => {
    const { sessionId, session, customer } = me(c);
    const { form } = await readAttempt(c, deps);
    const op = await pendingOf(c);
    if (!op) return c.redirect("/coopanet/transfer", 303);
    const demo = demoOf(c, deps);
    const code = (form.get("code") ?? "").trim();
    if (!/^[0-9]{4} ?[0-9]{4}$/.test(code)) {
      const error = "Le code de signature comporte 8 chiffres, par exemple 1234 5678.";
      return c.html(signPage({ csrf: session.csrf, demo, operation: op, error }), 400);
    }
    const d = await bank.operations.approveWithCode(op, code);
    switch (d.result) {
      case "approved":
      case "declined":
        bank.sessions.setTransfer(sessionId, undefined);
        return c.html(
          transferDonePage({
            bank: "coopanet",
            csrf: session.csrf,
            document: op.document,
            receipt: d.receipt,
          }),
        );
      case "locked":
        bank.sessions.endAllOf(customer.id);
        endSession(c, deps);
        return c.html(loginPage(c, { error: COOPANET.locked(max()) }), 423);
      case "closed":
        bank.sessions.setTransfer(sessionId, undefined);
        return c.html(
          accountPage({ bank: "coopanet", csrf: session.csrf, name: customer.name, notice: COOPANET.closed }),
          409,
        );
      case "rejected": {
        const error =
          d.triesLeft === 1 ? [COOPANET.wrongSignature, COOPANET.lastTry] : COOPANET.wrongSignature;
        return c.html(signPage({ csrf: session.csrf, demo, operation: op, error }), 401);
      }
    }
  });

  app.get("/transfer/cancel", (c) => c.redirect("/coopanet/transfer", 303));
  app.post("/transfer/cancel", async (c) => {
    const { sessionId, session, customer } = me(c);
    await readForm(c, deps);
    const op = await pendingOf(c);
    if (op) await bank.operations.cancel(op);
    bank.sessions.setTransfer(sessionId, undefined);
    const notice = op ? COOPANET.transferCancelled : undefined;
    return c.html(accountPage({ bank: "coopanet", csrf: session.csrf, name: customer.name, notice }));
  });

  return app;
}
