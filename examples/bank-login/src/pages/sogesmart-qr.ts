import encodeQR from "qr";
import type { DemoSet } from "../demo.js";
import { csrfField, type Html, html, message, page } from "./layout.js";

/**
 * SOGENET's « Activer SogeSmart sur mon téléphone »: a button that starts an activation from this session, then
 * the QR code to scan with the app (drawn by `qr` as a GIF data URL: the CSP allows data: images, and no inline
 * style is needed). The demo puts this customer's simulated phone beside the page: its « Activer avec le QR code
 * de Sogenet » screen takes the QR code's text as a camera would read it.
 */
export function sogesmartQrPage(o: {
  csrf: string;
  demo: DemoSet | undefined;
  started?: { qr: string };
  error?: string;
}): Html {
  const phone = o.demo?.sogesmart?.a;
  return page(
    {
      brand: "sogenet",
      title: "Activer SogeSmart sur mon téléphone",
      csrf: o.csrf,
      loggedIn: true,
      modules: ["/assets/capkit-sogesmart.js"],
      ...(phone
        ? {
            aside: html`<aside class="devices phone-aside" aria-labelledby="devices-title">
<h2 id="devices-title">Votre téléphone (simulé)</h2>
<capkit-sogesmart-app phone="${phone.identifiant}" label="Votre téléphone : SogeSmart"></capkit-sogesmart-app>
<capkit-sms-inbox src="/dev/sms/a" label="SMS reçus sur votre téléphone"></capkit-sms-inbox>
</aside>`,
          }
        : {}),
    },
    o.started
      ? html`<p>Ouvrez SogeSmart sur votre téléphone, choisissez « Première connexion ? » Oui, puis
« Activer avec le QR code de Sogenet », et scannez ce QR code. Vous recevrez ensuite un mot de passe par SMS.</p>
<p><img class="qr" data-qr src="${encodeQR(o.started.qr, "data-url", { ecc: "medium", scale: 6 })}" alt="QR code d'activation SogeSmart" width="264" height="264"></p>
<p class="help">Ce QR code est valable 10 minutes et ne sert qu'une fois.
Ne le montrez à personne : avec le SMS, il active SogeSmart.</p>
<p><a href="/sogenet/account">Retour à vos comptes</a></p>`
      : html`${message("error", o.error)}<p>Activez l'application SogeSmart sur votre téléphone depuis votre espace Sogenet :
un QR code à scanner, puis un mot de passe reçu par SMS.</p>
<form method="post" action="/sogenet/sogesmart">${csrfField(o.csrf)}<button type="submit">Afficher le QR code</button></form>
<p><a href="/sogenet/account">Retour à vos comptes</a></p>`,
  );
}
