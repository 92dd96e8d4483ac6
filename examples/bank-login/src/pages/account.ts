import type { BankName } from "../users.js";
import { type Html, html, message, page } from "./layout.js";

/** A customer's accounts, the page each bank opens on after login. */
export function accountPage(o: {
  readonly bank: BankName;
  readonly csrf: string;
  readonly name: string;
  readonly notice?: string | readonly string[] | undefined;
}): Html {
  return page(
    { brand: o.bank, title: "Vos comptes", csrf: o.csrf, loggedIn: true },
    html`${message("notice", o.notice)}
<p>Bonjour ${o.name}, vous êtes connecté.</p>
<table class="accounts"><caption>Comptes</caption>
<thead><tr><th scope="col">Compte</th><th scope="col">Solde</th></tr></thead>
<tbody><tr><td>Compte courant</td><td>1 234,56 €</td></tr></tbody></table>
${
  o.bank === "coopanet"
    ? html`<p><a href="/coopanet/transfer">Faire un virement</a></p>`
    : html`<p><a href="/sogenet/password">Changer votre mot de passe</a></p>
<p><a href="/sogenet/sogesmart">Activer SogeSmart sur mon téléphone</a></p>`
}`,
  );
}
