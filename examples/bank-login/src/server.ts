import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bundleCapkitWeb } from "@capkit/web/bundle";
import { type Bank, openBank } from "./bank.js";
import { cookies, HttpError, readForm, redirect, send } from "./http.js";
import {
  accountPage,
  coopanetLoginPage,
  errorPage,
  formatEuros,
  homePage,
  passwordChangePage,
  signPage,
  sogenetLoginPage,
  transferPage,
} from "./pages.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { csrfMatches, SESSION_COOKIE, type Session, Sessions, sessionCookie } from "./sessions.js";
import type { User } from "./users.js";

/** SogeSmart's message after the 5th wrong password (kept word for word). */
export const SOGENET_LOCKED =
  "Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné";
export const SOGENET_WRONG = "Identifiant ou mot de passe incorrect.";
export const SOGENET_WRONG_CURRENT = "Veuillez vérifier la saisie de votre mot de passe actuel";
export const COOPANET_LOCKED =
  "Votre accès Coop@net est bloqué suite à 5 codes erronés. Contactez votre agence pour le débloquer.";
export const COOPANET_WRONG =
  "Code utilisateur ou code Sésame incorrect. Chaque code ne sert qu'une fois : générez-en un nouveau avec le lecteur.";

export interface BankServerOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly host?: string;
  /** Add `Secure` to the session cookie (behind HTTPS). */
  readonly secureCookies?: boolean;
}

export interface BankServer {
  readonly url: string;
  readonly bank: Bank;
  close(): Promise<void>;
}

const SIGN_AMOUNT_MAX_CENTS = 9_999_999_999; // 10 digits: what the reader's MONTANT line takes

export async function startBankServer(o: BankServerOptions): Promise<BankServer> {
  const bank = await openBank(o.dataDir);
  const sessions = new Sessions();
  const assets = new Map<string, { type: string; body: string }>([
    ["/assets/capkit-web.js", { type: "text/javascript; charset=utf-8", body: await bundleCapkitWeb() }],
    ["/assets/bank.js", { type: "text/javascript; charset=utf-8", body: publicFile("bank.js") }],
    ["/assets/bank.css", { type: "text/css; charset=utf-8", body: publicFile("bank.css") }],
  ]);
  const secure = o.secureCookies ?? false;

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        send(res, e.status, errorPage(e.status, e.message));
        return;
      }
      console.error("bank-login: internal error:", (e as Error).message);
      if (!res.headersSent) send(res, 500, errorPage(500, "Erreur interne. Réessayez plus tard."));
    });
  });

  function session(req: IncomingMessage): Session | undefined {
    return sessions.get(cookies(req).get(SESSION_COOKIE));
  }

  /** The session, created if none (pages with forms need a CSRF token before login). */
  function ensureSession(req: IncomingMessage, res: ServerResponse): Session {
    const s = session(req);
    if (s) return s;
    const created = sessions.create();
    res.setHeader("set-cookie", sessionCookie(created, secure));
    return created;
  }

  /** A new anonymous session in place of the current one (after a lock ends the customer's). */
  function anonymous(res: ServerResponse): Session {
    const created = sessions.create();
    res.setHeader("set-cookie", sessionCookie(created, secure));
    return created;
  }

  /** A POST's form, after its CSRF token is checked against the session's. */
  async function postForm(req: IncomingMessage): Promise<{ s: Session; form: URLSearchParams }> {
    const form = await readForm(req);
    const s = session(req);
    if (!s || !csrfMatches(s, form.get("_csrf"))) {
      throw new HttpError(
        403,
        "Votre session a expiré ou le formulaire n'est pas valide : rechargez la page.",
      );
    }
    return { s, form };
  }

  /** A new session for the logged-in customer (the old id dies: no session fixation). */
  function login(res: ServerResponse, old: Session, user: User, to: string): void {
    sessions.destroy(old.id);
    const s = sessions.create({ user: user.id, mustChange: user.mustChange });
    redirect(res, user.mustChange ? "/sogenet/password" : to, { "set-cookie": sessionCookie(s, secure) });
  }

  function loggedIn(req: IncomingMessage): { s: Session; user: User } {
    const s = session(req);
    const user = s?.user ? bank.users.get(s.user) : undefined;
    if (!s || !user || user.locked)
      throw new HttpError(401, "Vous n'êtes pas connecté : connectez-vous d'abord.");
    return { s, user };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://bank.invalid");
    const route = `${req.method} ${url.pathname}`;
    const asset = assets.get(url.pathname);
    if (asset && req.method === "GET") {
      send(res, 200, asset.body, asset.type, { "cache-control": "no-cache" });
      return;
    }
    switch (route) {
      case "GET /":
        send(res, 200, homePage());
        return;
      case "GET /favicon.ico":
        res.writeHead(204).end();
        return;
      case "GET /devices/card.json": {
        // The demo customer's card, as the bank last saw it: its ATC never behind the last accepted one, so a
        // browser that never held the card still cannot show a used code.
        const last = await bank.codes.lastAccepted(bank.devices.cardCredential);
        const card = { ...bank.devices.card, atc: Math.max(bank.devices.card.atc, last) };
        send(res, 200, JSON.stringify(card), "application/json");
        return;
      }
      case "GET /devices/sgpass.json":
        send(
          res,
          200,
          JSON.stringify({
            id: bank.devices.sgpass.id,
            kind: "totp",
            secretHex: bank.devices.sgpass.secretHex,
          }),
          "application/json",
        );
        return;
      case "GET /coopanet":
        send(res, 200, coopanetLoginPage(ensureSession(req, res).csrf));
        return;
      case "POST /coopanet/login":
        return coopanetLogin(req, res);
      case "GET /sogenet":
        send(res, 200, sogenetLoginPage(ensureSession(req, res).csrf, url.searchParams.has("accessible")));
        return;
      case "POST /sogenet/login":
        return sogenetLogin(req, res, url.searchParams.has("accessible"));
      case "GET /sogenet/password": {
        const { s } = loggedIn(req);
        send(res, 200, passwordChangePage(s.csrf));
        return;
      }
      case "POST /sogenet/password":
        return changePassword(req, res);
      case "GET /account": {
        const { s, user } = loggedIn(req);
        if (s.mustChange) return redirect(res, "/sogenet/password");
        const notice =
          url.searchParams.get("done") === "password" ? "Votre mot de passe a été changé." : undefined;
        send(res, 200, accountPage(s.csrf, user.bank, user.name, notice, user.bank === "coopanet"));
        return;
      }
      case "GET /transfer": {
        const { s } = cardHolder(req);
        send(res, 200, s.transfer ? signPage(s.csrf, s.transfer) : transferPage(s.csrf));
        return;
      }
      case "POST /transfer":
        return startTransfer(req, res);
      case "POST /transfer/sign":
        return signTransfer(req, res);
      case "POST /logout": {
        const { s } = await postForm(req);
        sessions.destroy(s.id);
        redirect(res, "/", {
          "set-cookie": `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
        });
        return;
      }
      default:
        throw new HttpError(404, "Cette page n'existe pas.");
    }
  }

  async function coopanetLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { s, form } = await postForm(req);
    const id = (form.get("user") ?? "").trim().toUpperCase();
    const code = (form.get("code") ?? "").trim();
    const again = (status: number, error: string) => send(res, status, coopanetLoginPage(s.csrf, error, id));
    // Malformed input is answered at once and counts nothing: it cannot be anyone's code.
    if (!/^[A-Z0-9]{8}$/.test(id)) return again(400, "Le code utilisateur comporte 8 lettres ou chiffres.");
    if (!/^[0-9]{4} ?[0-9]{4}$/.test(code)) {
      return again(400, "Le code Sésame comporte 8 chiffres, par exemple 1234 5678.");
    }
    const user = bank.users.get(id);
    if (user?.bank !== "coopanet" || !user.credential) return again(401, COOPANET_WRONG);
    if (user.locked) return again(423, COOPANET_LOCKED);
    const result = await bank.codes.checkLogin(user.id, code);
    if (result === "accepted" && bank.users.succeed(user.id)) return login(res, s, user, "/account");
    const f = bank.users.fail(user.id, result === "locked");
    return f.locked ? again(423, COOPANET_LOCKED) : again(401, COOPANET_WRONG);
  }

  async function sogenetLogin(req: IncomingMessage, res: ServerResponse, accessible: boolean): Promise<void> {
    const { s, form } = await postForm(req);
    const id = (form.get("user") ?? "").trim();
    const password = form.get("password") ?? "";
    const again = (status: number, error: string) =>
      send(res, status, sogenetLoginPage(s.csrf, accessible, error, id));
    if (!/^[0-9]{8}$/.test(id)) return again(400, "L'identifiant comporte 8 chiffres.");
    if (!/^[0-9]{6}$/.test(password)) return again(400, "Le mot de passe comporte 6 chiffres.");
    const user = bank.users.get(id);
    if (user?.bank !== "sogenet") {
      await verifyPassword(password, undefined); // same work as for a customer: timing does not tell
      return again(401, SOGENET_WRONG);
    }
    if (user.locked) return again(423, SOGENET_LOCKED);
    // With an SGpass, the password is the code the token shows.
    const result = user.credential
      ? await bank.codes.checkLogin(user.id, password)
      : (await verifyPassword(password, user.password))
        ? "accepted"
        : "rejected";
    if (result === "accepted" && bank.users.succeed(user.id)) return login(res, s, user, "/account");
    const f = bank.users.fail(user.id, result === "locked");
    return f.locked ? again(423, SOGENET_LOCKED) : again(401, SOGENET_WRONG);
  }

  async function changePassword(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { user } = loggedIn(req);
    const { s, form } = await postForm(req);
    const current = form.get("current") ?? "";
    const next = form.get("next") ?? "";
    const again = (status: number, error: string) => send(res, status, passwordChangePage(s.csrf, error));
    if (!user.password)
      return again(400, "Ce compte se connecte avec le SGpass : il n'a pas de mot de passe.");
    if (!/^[0-9]{6}$/.test(next))
      return again(400, "Le nouveau mot de passe comporte exactement 6 chiffres.");
    if (form.get("confirm") !== next)
      return again(400, "La confirmation ne correspond pas au nouveau mot de passe.");
    if (next === current) return again(400, "Le nouveau mot de passe doit être différent de l'actuel.");
    if (!(await verifyPassword(current, user.password))) {
      // A wrong current password counts like a wrong login: the change page is no way around the lockout.
      const f = bank.users.fail(user.id);
      if (f.locked) {
        sessions.destroy(s.id);
        return send(res, 423, sogenetLoginPage(anonymous(res).csrf, false, SOGENET_LOCKED));
      }
      return again(401, SOGENET_WRONG_CURRENT);
    }
    bank.users.setPassword(user.id, await hashPassword(next));
    bank.users.succeed(user.id);
    sessions.destroy(s.id);
    const fresh = sessions.create({ user: user.id, mustChange: false });
    redirect(res, "/account?done=password", { "set-cookie": sessionCookie(fresh, secure) });
  }

  function cardHolder(req: IncomingMessage): { s: Session; user: User; card: string } {
    const { s, user } = loggedIn(req);
    if (user.bank !== "coopanet" || !user.credential) {
      throw new HttpError(403, "Les virements se signent avec le lecteur Sésame (clients Coop@net).");
    }
    return { s, user, card: user.credential };
  }

  async function startTransfer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { card } = cardHolder(req);
    const { s, form } = await postForm(req);
    const iban = (form.get("iban") ?? "").replace(/\s+/g, "").toUpperCase();
    const amountText = (form.get("amount") ?? "").trim();
    const again = (error: string) =>
      send(res, 400, transferPage(s.csrf, error, { iban: form.get("iban") ?? "", amount: amountText }));
    if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$/.test(iban)) {
      return again("L'IBAN commence par 2 lettres et 2 chiffres, suivis de 10 à 30 lettres ou chiffres.");
    }
    const m = /^([0-9]{1,8})(?:[.,]([0-9]{1,2}))?$/.exec(amountText.replace(/\s+/g, ""));
    const cents = m ? Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0")) : 0;
    if (!m || cents <= 0 || cents > SIGN_AMOUNT_MAX_CENTS) {
      return again(
        "Le montant est un nombre d'euros positif, avec au plus 2 décimales (par exemple 150,00).",
      );
    }
    const c = await bank.codes.issueSignChallenge(card);
    s.transfer = { beneficiary: iban, cents, ...c };
    redirect(res, "/transfer");
  }

  async function signTransfer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { user, card } = cardHolder(req);
    const { s, form } = await postForm(req);
    const t = s.transfer;
    if (!t) return redirect(res, "/transfer");
    const code = (form.get("code") ?? "").trim();
    if (!/^[0-9]{4} ?[0-9]{4}$/.test(code)) {
      return send(
        res,
        400,
        signPage(s.csrf, t, "Le code de signature comporte 8 chiffres, par exemple 1234 5678."),
      );
    }
    const result = await bank.codes.checkSignature(card, code, t.challengeId, t.cents);
    if (result === "accepted") {
      bank.users.succeed(user.id);
      s.transfer = undefined;
      send(
        res,
        200,
        accountPage(
          s.csrf,
          "coopanet",
          user.name,
          `Virement de ${formatEuros(t.cents)} vers ${t.beneficiary} signé et validé.`,
          true,
        ),
      );
      return;
    }
    const f = bank.users.fail(user.id, result === "locked");
    if (f.locked) {
      sessions.destroy(s.id);
      return send(res, 423, coopanetLoginPage(anonymous(res).csrf, COOPANET_LOCKED));
    }
    // The challenge is spent by any attempt (one guess per challenge): sign again over a new one.
    const c = await bank.codes.issueSignChallenge(card);
    s.transfer = { ...t, ...c };
    send(
      res,
      401,
      signPage(s.csrf, s.transfer, "Code de signature incorrect : signez de nouveau avec ce nouveau défi."),
    );
  }

  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}`,
    bank,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bank.close();
    },
  };
}

function publicFile(name: string): string {
  return readFileSync(new URL(`./public/${name}`, import.meta.url), "utf8");
}
