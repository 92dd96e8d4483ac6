import type { OperationStatus } from "@capkit/verify/approvals";
import type { DemoSet } from "../demo.js";
import type { Layout } from "../keypad.js";
import type { MustChange } from "../users.js";
import type { TransferValues } from "../web/transfer-form.js";
import { PASS_SECURITE, SOGENET } from "../wording.js";
import { devicesAside } from "./devices.js";
import { csrfField, type Html, html, message, page } from "./layout.js";
import { operationTable } from "./operation.js";
import { transferForm } from "./transfer.js";

/** SOGENET's pages: the login on the shuffled keypad (or its accessible mode), the password change. */

/**
 * The keypad. Shuffled: each digit button carries its cell number, the script (bank.js) appends that number to
 * the hidden `cells` field, and the sealed `layout` tells the server which digit each cell held (keypad.ts).
 * Accessible: a fixed layout and a labelled field typed from the keyboard — it posts the digits, by design (a
 * screen reader user cannot find moving keys, and the page says so).
 */
export function keypad(layout: Layout | undefined): Html {
  if (!layout) {
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"].map(
      (d) => html`<button type="button" class="digit" data-digit="${d}">${d}</button>`,
    );
    return html`<div class="keypad accessible" data-keypad>
<label for="password">Mot de passe (6 chiffres)</label>
<input id="password" name="password" type="password" inputmode="numeric" autocomplete="current-password" maxlength="6" required aria-describedby="pw-help">
<p id="pw-help" class="help">Tapez les 6 chiffres au clavier, ou utilisez les touches ci-dessous (ordre fixe). Dans ce mode, les chiffres
sont envoyés tels quels à la banque, comme dans un champ de mot de passe ordinaire.</p>
<div class="grid fixed" role="group" aria-label="Clavier numérique">${keys}</div>
<div class="actions"><button type="button" data-clear>Effacer</button><button type="submit">Valider</button></div>
</div>`;
  }
  const cells = layout.cells.map((d, i) =>
    d === undefined
      ? html`<span class="blank"></span>`
      : html`<button type="button" class="digit" data-cell="${i.toString(16)}">${d}</button>`,
  );
  return html`<div class="keypad" data-keypad>
<p class="label" id="pw-label">Mot de passe (6 chiffres) : cliquez sur les chiffres</p>
<input type="hidden" name="layout" value="${layout.id}">
<input type="hidden" name="cells" value="">
<p class="dots" data-dots aria-live="polite">Aucun chiffre saisi</p>
<div class="grid" role="group" aria-labelledby="pw-label">${cells}</div>
<div class="actions"><button type="button" data-clear>Effacer</button><button type="submit">Valider</button></div>
</div>`;
}

export function sogenetLoginPage(o: {
  readonly csrf: string;
  readonly demo: DemoSet | undefined;
  /** The shuffled keypad's layout; none in the accessible mode. */
  readonly layout: Layout | undefined;
  readonly error?: string | readonly string[] | undefined;
  readonly notice?: string | undefined;
  readonly user?: string;
}): Html {
  const accessible = o.layout === undefined;
  const here = accessible ? "/sogenet?accessible=1" : "/sogenet";
  return page(
    {
      brand: "sogenet",
      title: "Connexion à SOGENET",
      csrf: o.csrf,
      aside: devicesAside("sgpass", o.demo, o.csrf, here),
    },
    html`${message("error", o.error)}${message("notice", o.notice)}
<form method="post" action="${here}" class="login">
${csrfField(o.csrf)}
<label for="user">Identifiant (8 chiffres)</label>
<input id="user" name="user" inputmode="numeric" autocomplete="username" maxlength="8" required value="${o.user ?? ""}">
${keypad(o.layout)}
</form>
<p class="mode">${
      accessible
        ? html`<a href="/sogenet">Revenir au clavier aléatoire</a>`
        : html`<a href="/sogenet?accessible=1">Mode accessible (clavier fixe, saisie au clavier)</a>`
    }</p>`,
  );
}

export function passwordChangePage(o: {
  readonly csrf: string;
  readonly mustChange: MustChange | undefined;
  readonly error?: string | undefined;
}): Html {
  const field = (id: string, label: string, auto: string) =>
    html`<label for="${id}">${label}</label>
<input id="${id}" name="${id}" type="password" inputmode="numeric" autocomplete="${auto}" maxlength="6" required>`;
  const why =
    o.mustChange === "adviser"
      ? html`<p>${SOGENET.changedByAdviser}</p><p>${SOGENET.noMenuBeforeChange}</p>`
      : o.mustChange === "first-login"
        ? html`<p>${SOGENET.changeNow}</p><p>${SOGENET.noMenuBeforeChange}</p>`
        : html`<p>Choisissez un nouveau mot de passe de 6 chiffres.</p>`;
  return page(
    { brand: "sogenet", title: "Changement mot de passe", csrf: o.csrf, loggedIn: true },
    html`${why}
${message("error", o.error)}
<form method="post" action="/sogenet/password" class="login">
${csrfField(o.csrf)}
${field("current", "Mot de passe actuel", "current-password")}
${field("next", "Nouveau mot de passe (6 chiffres)", "new-password")}
${field("confirm", "Confirmation du nouveau mot de passe", "new-password")}
<button type="submit">Valider</button>
</form>
${o.mustChange ? "" : html`<p><a href="/sogenet/account">Retour à vos comptes</a></p>`}`,
  );
}

export function sogenetTransferPage(o: {
  readonly csrf: string;
  readonly approving: boolean;
  readonly error?: string | undefined;
  readonly values?: Partial<TransferValues> | undefined;
}): Html {
  return page(
    { brand: "sogenet", title: "Nouveau virement", csrf: o.csrf, loggedIn: true },
    o.approving
      ? transferForm({ bank: "sogenet", csrf: o.csrf, error: o.error, values: o.values })
      : html`${message("error", o.error)}<p>${SOGENET.noPassSecurite}</p>
<p><a href="/sogenet/sogesmart">Activer SogeSmart sur mon téléphone</a></p>
<p><a href="/sogenet/account">Retour à vos comptes</a></p>`,
  );
}

/**
 * The transfer waiting for « Pass Sécurité »: the operation as the bank made it (the app shows the same lines
 * from the bank-signed document), and what to do in the app. No code to type: the app signs the decision.
 */
export function approveInAppPage(o: {
  readonly csrf: string;
  readonly operation: OperationStatus;
  readonly notice?: string | undefined;
}): Html {
  return page(
    { brand: "sogenet", title: "Validez le virement dans l'application", csrf: o.csrf, loggedIn: true },
    html`${message("notice", o.notice)}
${operationTable(o.operation.document, "Le virement à valider")}
<p>Référence de l'opération : <code data-operation="${o.operation.id}">${o.operation.id}</code></p>
<ol class="steps">
<li>Ouvrez SogeSmart sur votre téléphone et connectez-vous.</li>
<li>Choisissez « ${PASS_SECURITE.open} » : l'application affiche ce virement, tel que la banque l'a signé.</li>
<li>Vérifiez le montant, le bénéficiaire et son IBAN, puis validez avec votre mot de passe — ou refusez.</li>
</ol>
<p>Votre validation signe ce virement précisément : s'il changeait d'un centime ou d'un caractère, elle ne vaudrait plus rien.</p>
<form method="post" action="/sogenet/transfer/check" class="login">
${csrfField(o.csrf)}
<button type="submit">J'ai répondu dans l'application</button>
</form>
<form method="post" action="/sogenet/transfer/cancel" class="cancel">
${csrfField(o.csrf)}
<button type="submit">Annuler le virement</button>
</form>`,
  );
}
