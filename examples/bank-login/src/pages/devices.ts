import { DEMO_CARD_PIN, DEMO_FIRST_PASSWORD, DEMO_PRO_PASSWORD, type DemoSet } from "../demo.js";
import { csrfField, type Html, html } from "./layout.js";

/**
 * Demo only: the aside beside a bank's form, like a physical device beside the screen — this browser's
 * simulated Sésame reader or SGpass (its state fetched from `/devices/*`, answered only to this browser) and
 * the « Démo » box with this browser's own identifiants. A browser without demo customers gets a button that
 * makes them.
 */
export type Device = "reader" | "sgpass";

const TITLES: Readonly<Record<Device, string>> = { reader: "Votre lecteur Sésame", sgpass: "Votre SGpass" };

export function devicesAside(device: Device, demo: DemoSet | undefined, csrf: string, back: string): Html {
  return html`<aside class="devices" aria-labelledby="devices-title">
<h2 id="devices-title">${TITLES[device]} (simulé)</h2>
${demo ? deviceElement(device) : ""}
<div class="hints"><h3>Démo</h3>${demo ? hints(device, demo) : createButton(csrf, back)}</div>
</aside>`;
}

function deviceElement(device: Device): Html {
  return device === "reader"
    ? html`<capkit-sesame-reader card-src="/devices/card.json"></capkit-sesame-reader>`
    : html`<capkit-sgpass-token token-src="/devices/sgpass.json"></capkit-sgpass-token>`;
}

function hints(device: Device, demo: DemoSet): Html {
  const unlock = (id: string) =>
    html`<p class="help">Compte bloqué ? Le conseiller le débloque : <code>pnpm --filter bank-login unlock ${id}</code></p>`;
  return device === "reader"
    ? html`<p>Code utilisateur : <strong data-demo="coopanet">${demo.coopanet}</strong><br>PIN de la carte : <strong>${DEMO_CARD_PIN}</strong></p>
<p>Insérez la carte, appuyez sur OK (fonction CODE), tapez le PIN puis OK : recopiez le code affiché.</p>
${unlock(demo.coopanet)}`
    : html`<p>Identifiant <strong data-demo="sogenet-password">${demo.sogenetPassword}</strong>, mot de passe provisoire
<strong>${DEMO_FIRST_PASSWORD}</strong> (à changer à la première connexion).</p>
<p>Identifiant <strong data-demo="sogenet-sgpass">${demo.sogenetSgpass}</strong> : le mot de passe est le code affiché par le SGpass.</p>
${
  demo.progeliance
    ? html`<p>Progéliance Net (son propre site, <code>pro.localhost</code>) : identifiant
<strong data-demo="progeliance">${demo.progeliance.identifiant}</strong>, code secret <strong>${DEMO_PRO_PASSWORD}</strong> —
le professionnel dont l'Espace Client Particuliers est le premier identifiant ci-dessus.</p>`
    : ""
}
${unlock(demo.sogenetPassword)}`;
}

function createButton(csrf: string, back: string): Html {
  return html`<p>Chaque navigateur reçoit ses propres clients de démonstration : une carte et son lecteur Sésame
pour Coop@net, un identifiant SOGENET avec mot de passe et un autre avec SGpass.</p>
<form method="post" action="/demo">${csrfField(csrf)}<input type="hidden" name="back" value="${back}">
<button type="submit">Recevoir mes clients de démonstration</button></form>`;
}
