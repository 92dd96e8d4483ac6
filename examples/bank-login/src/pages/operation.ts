import { describeOperation, type OperationDocument, type SignedReceipt } from "@capkit/provision";
import { type Html, html } from "./layout.js";

/**
 * What both banks show of an operation and of its receipt: the lines are @capkit/provision's
 * `describeOperation` — the same words the app shows from the signed document —, so the page and the app
 * never say two different things about one transfer.
 */
export function operationTable(doc: OperationDocument, caption: string): Html {
  const view = describeOperation(doc);
  return html`<table class="operation"><caption>${caption}</caption>
<tbody>${view.lines.map(([label, value]) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`)}</tbody></table>`;
}

const RESULTS: Readonly<Record<string, string>> = { approved: "validée", declined: "refusée" };
const METHODS: Readonly<Record<string, string>> = {
  "cap-sign": "code de signature du lecteur Sésame",
  device: "Pass Sécurité (application SogeSmart)",
  ocra: "code du SGpass",
};

/**
 * The signed receipt of a decision, on the confirmation page: what it says, and the whole signed JSON a
 * customer can keep and check offline (`capkit receipt verify` with the bank's keys, /receipt-keys.json).
 */
export function receiptSection(r: SignedReceipt): Html {
  const t = r.receipt;
  return html`<section class="receipt" aria-labelledby="receipt-title">
<h2 id="receipt-title">Reçu signé par la banque</h2>
<dl>
<dt>Décision</dt><dd data-receipt="result">Opération ${RESULTS[t.result] ?? t.result}</dd>
<dt>Par</dt><dd>${METHODS[t.method] ?? t.method}</dd>
<dt>Le</dt><dd>${t.time.replace("T", " à ").replace("Z", " UTC")}</dd>
<dt>Empreinte de l'opération (SHA-256)</dt><dd><code data-receipt="digest">${t.operationDigest}</code></dd>
<dt>Clé de signature</dt><dd><code>${r.keyId}</code></dd>
</dl>
<details><summary>Le reçu complet (JSON), à conserver</summary>
<pre data-receipt="json">${JSON.stringify(r, null, 2)}</pre>
<p>Vérifiez-le avec <code>capkit receipt verify</code> et les clés publiques de la banque : <a href="/receipt-keys.json">/receipt-keys.json</a>.</p>
</details>
</section>`;
}
