import type { OperationStatus } from "@capkit/verify/approvals";
import { DEMO_PRO_PASSWORD } from "../demo.js";
import type { BankName } from "../users.js";
import { PASSERELLE } from "../wording.js";
import { csrfField, type Html, html, message, page } from "./layout.js";
import { operationTable } from "./operation.js";

/** Progéliance Net's pages and the passerelle's: login, consent journey, preferences, the ticket's hand-over. */

export function progelianceLoginPage(o: {
  readonly csrf: string;
  readonly error?: string | readonly string[] | undefined;
  readonly notice?: string | undefined;
  readonly user?: string;
}): Html {
  return page(
    { brand: "progeliance", title: "Connexion à Progéliance Net", csrf: o.csrf },
    html`${message("error", o.error)}${message("notice", o.notice)}
<form method="post" action="/progeliance" class="login">
${csrfField(o.csrf)}
<label for="user">Identifiant Progéliance Net (8 chiffres)</label>
<input id="user" name="user" inputmode="numeric" autocomplete="username" maxlength="8" required value="${o.user ?? ""}">
<label for="password">Code secret (6 chiffres)</label>
<input id="password" name="password" type="password" inputmode="numeric" autocomplete="current-password" maxlength="6" required>
<button type="submit">Se connecter</button>
</form>
<aside class="hints" aria-label="Démo"><h2>Démo</h2>
<p>L'identifiant Progéliance Net de démonstration s'affiche dans l'encadré « Démo » de SOGENET (votre Espace Client
Particuliers, sur son propre site) ; son code secret est <strong>${DEMO_PRO_PASSWORD}</strong>.</p></aside>`,
  );
}

/** The consent journey's first page: the leaflet's information, the prerequisites, the explicit consent. */
export function consentPage(o: {
  readonly csrf: string;
  readonly prerequisites: { readonly pro: boolean; readonly perso: boolean };
  readonly app: boolean;
  readonly error?: string | readonly string[] | undefined;
}): Html {
  const ok = o.prerequisites.pro && o.prerequisites.perso && o.app;
  const missing = [
    ...(o.prerequisites.pro ? [] : [PASSERELLE.missing("Espace Client Progéliance Net")]),
    ...(o.prerequisites.perso ? [] : [PASSERELLE.missing("Espace Client Particuliers Internet")]),
    ...(o.app ? [] : [PASSERELLE.noApp]),
  ];
  return page(
    { brand: "progeliance", title: PASSERELLE.title, csrf: o.csrf, loggedIn: true },
    html`${message("error", o.error ?? (missing.length ? missing : undefined))}
<p><strong>${PASSERELLE.tagline}</strong></p>
<h2>Prérequis</h2>
<p>${PASSERELLE.prerequisites}</p>
<h2>Activation</h2>
${PASSERELLE.consent.map((t) => html`<p>${t}</p>`)}
${
  ok
    ? html`<form method="post" action="/progeliance/passerelle" class="login">
${csrfField(o.csrf)}
<p class="consent"><input type="checkbox" id="agree" name="agree" value="yes"> <label for="agree">${PASSERELLE.agree}</label></p>
<button type="submit">Activer la passerelle</button>
</form>`
    : ""
}
<p><a href="/progeliance/account">Retour à vos comptes</a></p>`,
  );
}

/** The consent operation waiting for « Pass Sécurité PRO ». */
export function validateActivationPage(o: {
  readonly csrf: string;
  readonly operation: OperationStatus;
  readonly notice?: string | undefined;
}): Html {
  return page(
    { brand: "progeliance", title: PASSERELLE.validate, csrf: o.csrf, loggedIn: true },
    html`${message("notice", o.notice)}
${operationTable(o.operation.document, "L'opération à valider")}
<p>Référence de l'opération : <code data-operation="${o.operation.id}">${o.operation.id}</code></p>
<ol class="steps">
<li>Ouvrez l'application sur votre téléphone et connectez-vous.</li>
<li>Choisissez « Pass Sécurité : opération à valider » : l'application affiche l'activation de la passerelle, telle que la banque l'a signée.</li>
<li>Validez avec votre mot de passe — ou refusez.</li>
</ol>
<form method="post" action="/progeliance/passerelle/check" class="login">
${csrfField(o.csrf)}
<button type="submit">J'ai répondu dans l'application</button>
</form>`,
  );
}

/** Profil → Vos préférences → Préférences d'accès à vos espaces web. */
export function preferencesPage(o: {
  readonly csrf: string;
  readonly active: boolean;
  readonly notice?: string | undefined;
  readonly reason?: string | undefined;
}): Html {
  return page(
    { brand: "progeliance", title: "Vos préférences", csrf: o.csrf, loggedIn: true },
    html`${message("notice", o.notice)}
<section aria-labelledby="access-title">
<h2 id="access-title">${PASSERELLE.preferences}</h2>
<p data-passerelle-state="${o.active ? "active" : "inactive"}">${o.active ? PASSERELLE.active : PASSERELLE.inactive}</p>
${o.reason ? html`<p data-passerelle-reason>Motif : ${PASSERELLE.reasons[o.reason] ?? o.reason}</p>` : ""}
${
  o.active
    ? html`<form method="post" action="/progeliance/preferences/deactivate" class="login">
${csrfField(o.csrf)}<button type="submit">${PASSERELLE.deactivate}</button></form>`
    : html`<p><a href="/progeliance/passerelle">Activer l'accès simplifié (parcours de consentement)</a></p>`
}
</section>
<p><a href="/progeliance/account">Retour à vos comptes</a></p>`,
  );
}

/**
 * The hand-over to the other space: the ticket in a form POSTed there at once by bank.js (no inline script:
 * CSP script-src 'self'), its button the fallback. The response's own CSP allows that one form action.
 */
export function ticketPage(o: {
  readonly brand: BankName;
  readonly csrf: string;
  readonly action: string;
  readonly ticket: string;
  readonly to: string;
}): Html {
  return page(
    { brand: o.brand, title: `Vers votre ${o.to}`, csrf: o.csrf, loggedIn: true },
    html`<form method="post" action="${o.action}" data-autosubmit class="login">
<input type="hidden" name="ticket" value="${o.ticket}">
<p>Vous allez accéder à votre ${o.to}, sans ressaisir vos codes d'accès.</p>
<button type="submit">${PASSERELLE.go}</button>
</form>`,
  );
}

/** Step-up: an operation in a space reached through the passerelle asks that space's own credentials. */
export function stepUpPage(o: {
  readonly csrf: string;
  readonly next: string;
  readonly error?: string | readonly string[] | undefined;
}): Html {
  return page(
    { brand: "sogenet", title: PASSERELLE.stepUpTitle, csrf: o.csrf, loggedIn: true },
    html`${message("error", o.error)}
<p>${PASSERELLE.stepUp}</p>
<form method="post" action="/sogenet/step-up" class="login">
${csrfField(o.csrf)}
<input type="hidden" name="next" value="${o.next}">
<label for="password">Code secret de votre Espace Client Particuliers (6 chiffres)</label>
<input id="password" name="password" type="password" inputmode="numeric" autocomplete="current-password" maxlength="6" required>
<button type="submit">Valider</button>
</form>`,
  );
}
