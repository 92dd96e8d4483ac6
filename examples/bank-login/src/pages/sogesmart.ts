import type { DemoSet, SogesmartUser } from "../demo.js";
import { DEMO_FIRST_PASSWORD } from "../demo.js";
import { csrfField, type Html, html, page } from "./layout.js";

/**
 * SogeSmart beside SOGENET: this browser's SogeSmart account has two users, A and B, each with a phone of their
 * own — the app (`<capkit-sogesmart-app>`, its keys in this browser's IndexedDB) and the SMS it received
 * (`<capkit-sms-inbox>`, from the bank's development outbox). A phone's « Installer la nouvelle version » button
 * puts the next major version of the app on it (public/bank.js).
 */
export function sogesmartPage(o: { csrf: string; demo: DemoSet | undefined; legacy: boolean }): Html {
  const s = o.demo?.sogesmart;
  return page(
    { brand: "sogesmart", title: "SogeSmart", csrf: o.csrf, modules: ["/assets/capkit-sogesmart.js"] },
    html`<p>L'application SogeSmart avec son <strong>token virtuel « Digipass »</strong> : activée par un mot de passe
reçu par SMS et votre mot de passe Sogenet, sans que personne entre le téléphone et la banque puisse s'en servir.
Les mêmes clients que SOGENET, le même vérificateur.</p>
${
  o.legacy
    ? html`<p class="notice" role="note">Mode « historique » (<code>SOGESMART_LEGACY=1</code>) : un seul mot de passe pour le
compte SogeSmart, partagé par ses utilisateurs, comme dans le guide de la banque.</p>`
    : html`<p class="help">Chaque utilisateur a son mot de passe personnel : ce que fait l'un ne bloque pas l'autre.
<code>SOGESMART_LEGACY=1</code> montre le comportement décrit par le guide (un mot de passe partagé par compte).</p>`
}
${s ? phones(s) : createBox(o.csrf)}`,
  );
}

function phones(s: NonNullable<DemoSet["sogesmart"]>): Html {
  return html`<div class="hints"><h2>Démo</h2>
<p>Compte SogeSmart <strong>${s.account}</strong>, deux utilisateurs. Mot de passe Sogenet provisoire de chacun :
<strong>${DEMO_FIRST_PASSWORD}</strong>. Le mot de passe reçu par SMS s'affiche sous chaque téléphone.</p></div>
<div class="phones">${phone("a", "A", s.a)}${phone("b", "B", s.b)}</div>`;
}

function phone(slot: "a" | "b", who: string, u: SogesmartUser): Html {
  return html`<section class="phone-column" aria-labelledby="phone-${slot}">
<h2 id="phone-${slot}">Téléphone de l'utilisateur ${who}</h2>
<p>Identifiant Sogenet <strong data-demo="sogesmart-${slot}">${u.identifiant}</strong></p>
<capkit-sogesmart-app phone="${u.identifiant}" label="Téléphone de l'utilisateur ${who} : SogeSmart" data-phone="${slot}"></capkit-sogesmart-app>
<capkit-sms-inbox src="/dev/sms/${slot}" label="SMS reçus par l'utilisateur ${who}"></capkit-sms-inbox>
<p><button type="button" data-new-version="${u.identifiant}">Installer la nouvelle version de SogeSmart</button></p>
</section>`;
}

function createBox(csrf: string): Html {
  return html`<div class="hints"><h2>Démo</h2>
<p>Chaque navigateur reçoit ses propres clients de démonstration, dont un compte SogeSmart à deux utilisateurs.</p>
<form method="post" action="/demo">${csrfField(csrf)}<input type="hidden" name="back" value="/sogesmart">
<button type="submit">Recevoir mes clients de démonstration</button></form></div>`;
}
