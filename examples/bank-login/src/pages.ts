import { randomInt } from "node:crypto";
import { DEMO } from "./bank.js";
import { esc } from "./http.js";

/**
 * The pages, as plain HTML: forms that work without JavaScript, except the shuffled keypad (bank.js) and the
 * simulated devices (@capkit/web). The devices sit in an aside beside the form, like a physical reader beside
 * the screen.
 */
export type Brand = "coopanet" | "sogenet";

export interface PageOptions {
  readonly brand: Brand | "home";
  readonly title: string;
  readonly csrf?: string;
  readonly devices?: "reader" | "sgpass";
  readonly hints?: string;
  readonly loggedIn?: boolean;
}

const BRAND_NAMES = { coopanet: "Coop@net", sogenet: "SOGENET", home: "capkit bank-login" } as const;

export function page(o: PageOptions, main: string): string {
  const devices =
    o.devices === undefined
      ? ""
      : `<aside class="devices" aria-labelledby="devices-title">
  <h2 id="devices-title">${o.devices === "reader" ? "Votre lecteur Sésame" : "Votre SGpass"} (simulé)</h2>
  ${
    o.devices === "reader"
      ? '<capkit-sesame-reader card-src="/devices/card.json"></capkit-sesame-reader>'
      : '<capkit-sgpass-token token-src="/devices/sgpass.json"></capkit-sgpass-token>'
  }
  ${o.hints ? `<div class="hints"><h3>Démo</h3>${o.hints}</div>` : ""}
</aside>`;
  const logout =
    o.loggedIn && o.csrf
      ? `<form method="post" action="/logout" class="logout">${csrfField(o.csrf)}<button type="submit">Se déconnecter</button></form>`
      : "";
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} – ${BRAND_NAMES[o.brand]}</title>
<link rel="stylesheet" href="/assets/bank.css">
<script type="module" src="/assets/capkit-web.js"></script>
<script type="module" src="/assets/bank.js"></script>
</head>
<body class="${o.brand}">
<header class="top"><a class="brand" href="/">${BRAND_NAMES[o.brand]}</a>${logout}</header>
<div class="layout">
<main id="main">
<h1>${esc(o.title)}</h1>
${main}
</main>
${devices}
</div>
</body>
</html>`;
}

export function csrfField(csrf: string): string {
  return `<input type="hidden" name="_csrf" value="${esc(csrf)}">`;
}

export function message(kind: "error" | "notice", text: string | undefined): string {
  if (!text) return "";
  return kind === "error"
    ? `<div class="error" role="alert">${esc(text)}</div>`
    : `<div class="notice" role="status">${esc(text)}</div>`;
}

export function homePage(): string {
  return page(
    { brand: "home", title: "Banque de démonstration" },
    `<p>Deux connexions de banque en ligne, vérifiées par <code>@capkit/verify</code>, avec l'appareil simulé à côté
de la page comme un vrai lecteur à côté de l'écran.</p>
<ul class="choices">
<li><a href="/coopanet">Coop@net</a> : code utilisateur et code du lecteur Sésame.</li>
<li><a href="/sogenet">SOGENET</a> : identifiant et mot de passe sur clavier aléatoire, ou code SGpass.</li>
</ul>`,
  );
}

export function coopanetLoginPage(csrf: string, error?: string, user = ""): string {
  return page(
    {
      brand: "coopanet",
      title: "Connexion à Coop@net",
      csrf,
      devices: "reader",
      hints: `<p>Code utilisateur : <strong>${DEMO.coopanet.user}</strong><br>PIN de la carte : <strong>${DEMO.coopanet.cardPin}</strong></p>
<p>Insérez la carte, appuyez sur OK (fonction CODE), tapez le PIN puis OK : recopiez le code affiché.</p>`,
    },
    `${message("error", error)}
<form method="post" action="/coopanet/login" class="login">
${csrfField(csrf)}
<label for="user">Code utilisateur (8 caractères)</label>
<input id="user" name="user" autocomplete="username" maxlength="8" required value="${esc(user)}">
<label for="code">Code Sésame (8 chiffres)</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="9" required aria-describedby="code-help">
<p id="code-help" class="help">Le code affiché par votre lecteur Sésame, par exemple 1234 5678. Chaque code ne sert qu'une fois.</p>
<button type="submit">Se connecter</button>
</form>`,
  );
}

const GRID_CELLS = 16;

/**
 * The SOGENET keypad: the ten digits at random places (CSPRNG) in a 4×4 grid, shuffled again on every
 * display, so a recorded click position says nothing about the next password. The accessible mode keeps a
 * fixed layout and a labelled field the keyboard can type into: no pointer, no hover needed.
 */
export function keypad(accessible: boolean): string {
  if (accessible) {
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]
      .map((d) => `<button type="button" class="digit" data-digit="${d}">${d}</button>`)
      .join("");
    return `<div class="keypad accessible" data-keypad>
<label for="password">Mot de passe (6 chiffres)</label>
<input id="password" name="password" type="password" inputmode="numeric" autocomplete="current-password" maxlength="6" required aria-describedby="pw-help">
<p id="pw-help" class="help">Tapez les 6 chiffres au clavier, ou utilisez les touches ci-dessous (ordre fixe).</p>
<div class="grid fixed" role="group" aria-label="Clavier numérique">${keys}</div>
<div class="actions"><button type="button" data-clear>Effacer</button><button type="submit">Valider</button></div>
</div>`;
  }
  const cells: string[] = Array.from({ length: GRID_CELLS }, () => '<span class="blank"></span>');
  const free = Array.from({ length: GRID_CELLS }, (_, i) => i);
  for (let d = 0; d <= 9; d++) {
    const at = free.splice(randomInt(free.length), 1)[0]!;
    cells[at] = `<button type="button" class="digit" data-digit="${d}">${d}</button>`;
  }
  return `<div class="keypad" data-keypad>
<p class="label" id="pw-label">Mot de passe (6 chiffres) : cliquez sur les chiffres</p>
<input type="hidden" name="password" value="">
<p class="dots" data-dots aria-live="polite">Aucun chiffre saisi</p>
<div class="grid" role="group" aria-labelledby="pw-label">${cells.join("")}</div>
<div class="actions"><button type="button" data-clear>Effacer</button><button type="submit">Valider</button></div>
</div>`;
}

export function sogenetLoginPage(csrf: string, accessible: boolean, error?: string, user = ""): string {
  return page(
    {
      brand: "sogenet",
      title: "Connexion à SOGENET",
      csrf,
      devices: "sgpass",
      hints: `<p>Identifiant <strong>${DEMO.sogenetPassword.user}</strong>, mot de passe provisoire
<strong>${DEMO.sogenetPassword.firstPassword}</strong> (à changer à la première connexion).</p>
<p>Identifiant <strong>${DEMO.sogenetSgpass.user}</strong> : le mot de passe est le code affiché par le SGpass.</p>`,
    },
    `${message("error", error)}
<form method="post" action="/sogenet/login${accessible ? "?accessible=1" : ""}" class="login">
${csrfField(csrf)}
<label for="user">Identifiant (8 chiffres)</label>
<input id="user" name="user" inputmode="numeric" autocomplete="username" maxlength="8" required value="${esc(user)}">
${keypad(accessible)}
</form>
<p class="mode">${
      accessible
        ? '<a href="/sogenet">Revenir au clavier aléatoire</a>'
        : '<a href="/sogenet?accessible=1">Mode accessible (clavier fixe, saisie au clavier)</a>'
    }</p>`,
  );
}

export function passwordChangePage(csrf: string, error?: string): string {
  const field = (id: string, label: string, auto: string) =>
    `<label for="${id}">${label}</label>
<input id="${id}" name="${id}" type="password" inputmode="numeric" autocomplete="${auto}" maxlength="6" required>`;
  return page(
    { brand: "sogenet", title: "Changez votre mot de passe", csrf, loggedIn: true },
    `<p>Pour votre première connexion, choisissez un mot de passe de 6 chiffres.</p>
${message("error", error)}
<form method="post" action="/sogenet/password" class="login">
${csrfField(csrf)}
${field("current", "Mot de passe actuel", "current-password")}
${field("next", "Nouveau mot de passe (6 chiffres)", "new-password")}
${field("confirm", "Confirmation du nouveau mot de passe", "new-password")}
<button type="submit">Valider</button>
</form>`,
  );
}

export function accountPage(
  csrf: string,
  brand: Brand,
  name: string,
  notice?: string,
  canTransfer = false,
): string {
  return page(
    { brand, title: "Vos comptes", csrf, loggedIn: true },
    `${message("notice", notice)}
<p>Bonjour ${esc(name)}, vous êtes connecté.</p>
<table class="accounts"><caption>Comptes</caption>
<thead><tr><th scope="col">Compte</th><th scope="col">Solde</th></tr></thead>
<tbody><tr><td>Compte courant</td><td>1 234,56 €</td></tr></tbody></table>
${canTransfer ? '<p><a href="/transfer">Faire un virement</a></p>' : ""}`,
  );
}

export function transferPage(
  csrf: string,
  error?: string,
  values: { iban?: string; amount?: string } = {},
): string {
  return page(
    { brand: "coopanet", title: "Nouveau virement", csrf, loggedIn: true, devices: "reader" },
    `${message("error", error)}
<form method="post" action="/transfer" class="login">
${csrfField(csrf)}
<label for="iban">IBAN du bénéficiaire</label>
<input id="iban" name="iban" autocomplete="off" maxlength="42" required value="${esc(values.iban ?? "")}">
<label for="amount">Montant en euros</label>
<input id="amount" name="amount" inputmode="decimal" maxlength="12" required value="${esc(values.amount ?? "")}" aria-describedby="amount-help">
<p id="amount-help" class="help">Par exemple 150,00. Au plus 99 999 999,99 €.</p>
<button type="submit">Continuer</button>
</form>`,
  );
}

export function formatEuros(cents: number): string {
  const euros = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  return `${euros},${String(cents % 100).padStart(2, "0")} €`;
}

export function signPage(
  csrf: string,
  t: { beneficiary: string; cents: number; challenge: string },
  error?: string,
): string {
  return page(
    { brand: "coopanet", title: "Signez le virement", csrf, loggedIn: true, devices: "reader" },
    `${message("error", error)}
<p>Virement de <strong>${formatEuros(t.cents)}</strong> vers <strong>${esc(t.beneficiary)}</strong>.</p>
<ol class="steps">
<li>Insérez la carte dans le lecteur.</li>
<li>Appuyez deux fois sur « Fonction » pour afficher SIGNATURE, puis OK.</li>
<li>Tapez le défi <strong class="challenge" data-challenge="${esc(t.challenge)}">${esc(t.challenge)}</strong> puis OK.</li>
<li>Tapez le montant en centimes <strong class="amount" data-amount="${t.cents}">${t.cents}</strong> (${formatEuros(t.cents)}) puis OK.</li>
<li>Tapez votre PIN puis OK, et recopiez le code.</li>
</ol>
<form method="post" action="/transfer/sign" class="login">
${csrfField(csrf)}
<label for="code">Code de signature (8 chiffres)</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="9" required>
<button type="submit">Signer le virement</button>
</form>`,
  );
}

export function errorPage(status: number, text: string): string {
  return page(
    { brand: "home", title: status === 404 ? "Page introuvable" : "Requête refusée" },
    message("error", text),
  );
}
