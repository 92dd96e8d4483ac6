import type { OperationDocument, SignedReceipt } from "@capkit/provision";
import type { BankName } from "../users.js";
import type { TransferValues } from "../web/transfer-form.js";
import { csrfField, type Html, html, message, page } from "./layout.js";
import { operationTable, receiptSection } from "./operation.js";

/** The transfer pages both banks share: the form (the payee's IBAN and name, the amount), the confirmation. */
export function transferForm(o: {
  readonly bank: BankName;
  readonly csrf: string;
  readonly error?: string | undefined;
  readonly values?: Partial<TransferValues> | undefined;
}): Html {
  return html`${message("error", o.error)}
<form method="post" action="/${o.bank}/transfer" class="login">
${csrfField(o.csrf)}
<label for="iban">IBAN du bénéficiaire</label>
<input id="iban" name="iban" autocomplete="off" maxlength="42" required value="${o.values?.iban ?? ""}">
<label for="name">Nom du bénéficiaire</label>
<input id="name" name="name" autocomplete="off" maxlength="70" required value="${o.values?.name ?? ""}">
<label for="amount">Montant en euros</label>
<input id="amount" name="amount" inputmode="decimal" maxlength="12" required value="${o.values?.amount ?? ""}" aria-describedby="amount-help">
<p id="amount-help" class="help">Par exemple 150,00. Au plus 99 999 999,99 €.</p>
<button type="submit">Continuer</button>
</form>
<p><a href="/${o.bank}/account">Retour à vos comptes</a></p>`;
}

/** The end of a transfer: what was decided, the operation as the bank executes it, and the signed receipt. */
export function transferDonePage(o: {
  readonly bank: BankName;
  readonly csrf: string;
  readonly document: OperationDocument;
  readonly receipt: SignedReceipt;
}): Html {
  const approved = o.receipt.receipt.result === "approved";
  return page(
    {
      brand: o.bank,
      title: approved ? "Virement validé" : "Virement refusé",
      csrf: o.csrf,
      loggedIn: true,
    },
    html`${message(
      "notice",
      approved
        ? "Votre virement est validé : la banque exécute l'opération ci-dessous, telle que vous l'avez validée."
        : "Vous avez refusé ce virement : il ne sera pas exécuté.",
    )}
${operationTable(o.document, "L'opération")}
${receiptSection(o.receipt)}
<p><a href="/${o.bank}/account">Retour à vos comptes</a></p>`,
  );
}
