import { type Html, html, message, page } from "./layout.js";

export function homePage(csrf: string, origins: { readonly pro: string; readonly perso: string }): Html {
  return page(
    { brand: "home", title: "Banque de démonstration", csrf },
    html`<p>Deux connexions de banque en ligne, vérifiées par <code>@capkit/verify</code>, avec l'appareil simulé à côté
de la page comme un vrai lecteur à côté de l'écran.</p>
<ul class="choices">
<li><a href="/coopanet">Coop@net</a> : code utilisateur et code du lecteur Sésame.</li>
<li><a href="/sogenet">SOGENET</a> : identifiant et mot de passe sur clavier aléatoire, ou code SGpass.</li>
<li><a href="${origins.pro}/progeliance">Progéliance Net</a>, sur son propre site : l'espace des professionnels, et sa
passerelle vers l'<a href="${origins.perso}/sogenet">Espace Client Particuliers</a> (SOGENET, sur le sien). Pour l'essayer,
utilisez SOGENET et SogeSmart à cette adresse-là.</li>
</ul>`,
  );
}

/** A refusal the bank explains: 403, 404, 413, 415, 429… */
export function errorPage(status: number, text: string, csrf: string): Html {
  return page(
    { brand: "home", title: status === 404 ? "Page introuvable" : "Requête refusée", csrf },
    html`${message("error", text)}<p><a href="/">Retour à l'accueil</a></p>`,
  );
}
