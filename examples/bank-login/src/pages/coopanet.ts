import type { DemoSet } from "../demo.js";
import { formatEuros } from "../money.js";
import type { PendingTransfer } from "../sessions.js";
import { devicesAside } from "./devices.js";
import { csrfField, type Html, html, message, page } from "./layout.js";

/** Coop@net's pages: the login (user code + Sésame code), the transfer and its signature on the reader. */
export function coopanetLoginPage(o: {
  readonly csrf: string;
  readonly demo: DemoSet | undefined;
  readonly error?: string | readonly string[] | undefined;
  readonly notice?: string | undefined;
  readonly user?: string;
}): Html {
  return page(
    {
      brand: "coopanet",
      title: "Connexion à Coop@net",
      csrf: o.csrf,
      aside: devicesAside("reader", o.demo, o.csrf, "/coopanet"),
    },
    html`${message("error", o.error)}${message("notice", o.notice)}
<form method="post" action="/coopanet" class="login">
${csrfField(o.csrf)}
<label for="user">Code utilisateur (8 caractères)</label>
<input id="user" name="user" autocomplete="username" maxlength="8" required value="${o.user ?? ""}">
<label for="code">Code Sésame (8 chiffres)</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="9" required aria-describedby="code-help">
<p id="code-help" class="help">Le code affiché par votre lecteur Sésame, par exemple 1234 5678. Chaque code ne sert qu'une fois.</p>
<button type="submit">Se connecter</button>
</form>`,
  );
}

export function transferPage(o: {
  readonly csrf: string;
  readonly demo: DemoSet | undefined;
  readonly error?: string | undefined;
  readonly values?: { readonly iban?: string; readonly amount?: string };
}): Html {
  return page(
    {
      brand: "coopanet",
      title: "Nouveau virement",
      csrf: o.csrf,
      loggedIn: true,
      aside: devicesAside("reader", o.demo, o.csrf, "/coopanet/transfer"),
    },
    html`${message("error", o.error)}
<form method="post" action="/coopanet/transfer" class="login">
${csrfField(o.csrf)}
<label for="iban">IBAN du bénéficiaire</label>
<input id="iban" name="iban" autocomplete="off" maxlength="42" required value="${o.values?.iban ?? ""}">
<label for="amount">Montant en euros</label>
<input id="amount" name="amount" inputmode="decimal" maxlength="12" required value="${o.values?.amount ?? ""}" aria-describedby="amount-help">
<p id="amount-help" class="help">Par exemple 150,00. Au plus 99 999 999,99 €.</p>
<button type="submit">Continuer</button>
</form>
<p><a href="/coopanet/account">Retour à vos comptes</a></p>`,
  );
}

export function signPage(o: {
  readonly csrf: string;
  readonly demo: DemoSet | undefined;
  readonly transfer: PendingTransfer;
  readonly error?: string | readonly string[] | undefined;
}): Html {
  const t = o.transfer;
  return page(
    {
      brand: "coopanet",
      title: "Signez le virement",
      csrf: o.csrf,
      loggedIn: true,
      aside: devicesAside("reader", o.demo, o.csrf, "/coopanet/transfer"),
    },
    html`${message("error", o.error)}
<p>Virement de <strong>${formatEuros(t.cents)}</strong> vers <strong>${t.beneficiary}</strong>.</p>
<ol class="steps">
<li>Insérez la carte dans le lecteur.</li>
<li>Appuyez deux fois sur « Fonction » pour afficher SIGNATURE, puis OK.</li>
<li>Tapez le défi <strong class="challenge" data-challenge="${t.challenge}">${t.challenge}</strong> puis OK.</li>
<li>Tapez le montant en centimes <strong class="amount" data-amount="${t.cents}">${t.cents}</strong> (${formatEuros(t.cents)}) puis OK.</li>
<li>Tapez votre PIN puis OK, et recopiez le code.</li>
</ol>
<form method="post" action="/coopanet/transfer/sign" class="login">
${csrfField(o.csrf)}
<label for="code">Code de signature (8 chiffres)</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="9" required>
<button type="submit">Signer le virement</button>
</form>
<form method="post" action="/coopanet/transfer/cancel" class="cancel">
${csrfField(o.csrf)}
<button type="submit">Annuler le virement</button>
</form>`,
  );
}
