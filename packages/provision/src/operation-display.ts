import type { Money, OperationDocument } from "./operation.js";

/**
 * What an app shows the customer for an operation, built only from the checked (and, in the app, signature-
 * verified) document: never from a text the page sent alongside. French labels, as the seeds' screens.
 */
export interface OperationView {
  readonly title: string;
  /** Label and value pairs, in display order. */
  readonly lines: readonly (readonly [string, string])[];
}

const TITLES: Record<OperationDocument["type"], string> = {
  transfer: "Virement",
  "beneficiary-add": "Ajout d'un bénéficiaire",
  "batch-transfer": "Virements groupés",
  "link-activation": "Activation de la passerelle entre vos espaces",
};

/** `FR14 2004 1010 0505 0001 3M02 606`: an IBAN in groups of 4, as printed on a RIB. */
export function formatIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, "$1 ");
}

/** The amount in the currency's own minor-unit exponent (EUR 2, JPY 0), French format. */
export function formatMoney(m: Money, locale = "fr-FR"): string {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency: m.currency });
  const exponent = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(m.minor / 10 ** exponent);
}

function when(utc: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "medium", timeZone: "UTC" }).format(
    new Date(utc),
  );
}

export function describeOperation(doc: OperationDocument, locale = "fr-FR"): OperationView {
  const lines: [string, string][] = [];
  switch (doc.type) {
    case "transfer":
      lines.push(
        ["Montant", formatMoney(doc.amount, locale)],
        ["Bénéficiaire", doc.payee.name],
        ["IBAN", formatIban(doc.payee.iban)],
      );
      break;
    case "beneficiary-add":
      lines.push(["Bénéficiaire", doc.payee.name], ["IBAN", formatIban(doc.payee.iban)]);
      break;
    case "batch-transfer":
      lines.push(
        ["Montant total", formatMoney(doc.total, locale)],
        ["Nombre de virements", String(doc.payees.length)],
      );
      for (const p of doc.payees)
        lines.push([p.name, `${formatMoney(p.amount, locale)} — ${formatIban(p.iban)}`]);
      break;
    case "link-activation":
      lines.push(["De", doc.link.from], ["Vers", doc.link.to]);
      break;
  }
  lines.push(["Compte", formatIban(doc.account)], ["Valable jusqu'au", `${when(doc.expiresAt, locale)} UTC`]);
  return { title: TITLES[doc.type], lines };
}
