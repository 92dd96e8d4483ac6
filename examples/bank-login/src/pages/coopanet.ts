import { capSignInputs, formatMoney } from "@capkit/provision";
import type { OperationStatus } from "@capkit/verify/approvals";
import type { DemoSet } from "../demo.js";
import type { TransferValues } from "../web/transfer-form.js";
import { devicesAside } from "./devices.js";
import { csrfField, type Html, html, message, page } from "./layout.js";
import { operationTable } from "./operation.js";
import { transferForm } from "./transfer.js";

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
  readonly values?: Partial<TransferValues> | undefined;
}): Html {
  return page(
    {
      brand: "coopanet",
      title: "Nouveau virement",
      csrf: o.csrf,
      loggedIn: true,
      aside: devicesAside("reader", o.demo, o.csrf, "/coopanet/transfer"),
    },
    transferForm({ bank: "coopanet", csrf: o.csrf, error: o.error, values: o.values }),
  );
}

/**
 * The signature on the reader, and what it binds: the amount and the last 8 digits of the payee's IBAN (the
 * challenge), typed by the customer — nothing else. The page says so, and shows the rest for the customer to
 * check before signing (docs/architecture.md §12.1: a CAP Sign binds what the customer typed, nothing more).
 */
export function signPage(o: {
  readonly csrf: string;
  readonly demo: DemoSet | undefined;
  readonly operation: OperationStatus;
  readonly error?: string | readonly string[] | undefined;
}): Html {
  const doc = o.operation.document;
  if (doc.type !== "transfer") throw new Error("a Coop@net signature is a transfer's");
  const { challenge } = capSignInputs(doc);
  const cents = String(doc.amount.minor);
  return page(
    {
      brand: "coopanet",
      title: "Signez le virement",
      csrf: o.csrf,
      loggedIn: true,
      aside: devicesAside("reader", o.demo, o.csrf, "/coopanet/transfer"),
    },
    html`${message("error", o.error)}
${operationTable(doc, "Le virement à signer")}
<section class="bound" aria-labelledby="bound-title">
<h2 id="bound-title">Ce que votre code signe</h2>
<ul>
<li>le montant : <strong>${formatMoney(doc.amount)}</strong> (tapé en centimes : ${cents}) ;</li>
<li>les 8 derniers chiffres de l'IBAN du bénéficiaire : <strong>${challenge}</strong>.</li>
</ul>
<p>Votre code ne signe <strong>ni le nom du bénéficiaire, ni les autres caractères de son IBAN, ni le compte débité</strong> : vérifiez-les ci-dessus avant de signer.</p>
</section>
<ol class="steps">
<li>Insérez la carte dans le lecteur.</li>
<li>Appuyez deux fois sur « Fonction » pour afficher SIGNATURE, puis OK.</li>
<li>Tapez les 8 derniers chiffres de l'IBAN du bénéficiaire <strong class="challenge" data-challenge="${challenge}">${challenge}</strong> puis OK.</li>
<li>Tapez le montant en centimes <strong class="amount" data-amount="${cents}">${cents}</strong> (${formatMoney(doc.amount)}) puis OK.</li>
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
