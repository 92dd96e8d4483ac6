import type { BankName } from "../users.js";
import { type Html, html, message, type PageOptions, page } from "./layout.js";

/** A customer's accounts, the page each bank opens on after login. */
export function accountPage(o: {
  readonly bank: BankName;
  readonly csrf: string;
  readonly name: string;
  readonly notice?: string | readonly string[] | undefined;
  /** The passerelle's menu to the other space, when it is active. */
  readonly spaces?: PageOptions["spaces"];
}): Html {
  return page(
    {
      brand: o.bank,
      title: o.bank === "progeliance" ? "Vos comptes professionnels" : "Vos comptes",
      csrf: o.csrf,
      loggedIn: true,
      ...(o.spaces ? { spaces: o.spaces } : {}),
    },
    html`${message("notice", o.notice)}
<p>Bonjour ${o.name}, vous êtes connecté.</p>
<table class="accounts"><caption>Comptes</caption>
<thead><tr><th scope="col">Compte</th><th scope="col">Solde</th></tr></thead>
<tbody><tr><td>Compte courant</td><td>1 234,56 €</td></tr></tbody></table>
${
  o.bank === "coopanet"
    ? html`<p><a href="/coopanet/transfer">Faire un virement</a></p>`
    : o.bank === "progeliance"
      ? html`<nav aria-label="Profil"><p>Profil → <a href="/progeliance/preferences">Vos préférences</a></p></nav>`
      : html`<p><a href="/sogenet/transfer">Faire un virement</a></p>
<p><a href="/sogenet/password">Changer votre mot de passe</a></p>
<p><a href="/sogenet/sogesmart">Activer SogeSmart sur mon téléphone</a></p>`
}`,
  );
}
