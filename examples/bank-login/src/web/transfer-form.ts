import {
  type DisplayTextProblem,
  displayTextProblem,
  MAX_NAME_CHARS,
  normalizeDisplayText,
} from "@capkit/provision";
import {
  electronicFormatIBAN,
  getCountrySpecifications,
  ValidationErrorsIBAN,
  validateIBAN,
} from "ibantools";
import { parseEuros } from "../money.js";

/** What the customer typed in a transfer form, kept to fill the form again. */
export interface TransferValues {
  readonly iban: string;
  readonly name: string;
  readonly amount: string;
}

/** The transfer form: the payee's IBAN and name, the amount; or what is wrong, in the customer's words. */
export function readTransfer(
  form: URLSearchParams,
): { payee: { iban: string; name: string }; cents: number } | { error: string; values: TransferValues } {
  const kept: TransferValues = {
    iban: form.get("iban") ?? "",
    name: form.get("name") ?? "",
    amount: form.get("amount") ?? "",
  };
  const iban = electronicFormatIBAN(kept.iban) ?? "";
  const ibanError = ibanProblem(iban);
  if (ibanError) return { error: ibanError, values: kept };
  // Spaces typed twice or around the name are dropped; any other character goes to the rule as it came (a
  // no-break space, a tab or a zero-width space is refused, not turned into a space the customer never saw).
  const name = normalizeDisplayText(kept.name.replace(/ {2,}/g, " ").replace(/^ | $/g, ""));
  const problem = displayTextProblem(name, MAX_NAME_CHARS);
  if (problem) return { error: nameProblem(problem), values: kept };
  const cents = parseEuros(kept.amount.trim());
  if (cents === undefined)
    return {
      error: "Le montant est un nombre d'euros positif, avec au plus 2 décimales (par exemple 150,00).",
      values: kept,
    };
  return { payee: { iban, name }, cents };
}

/**
 * What is wrong with a payee's name (@capkit/provision's display-safe text: what the screens show of the
 * operation is what it signs), in the customer's words. The name is NFC and its spaces single by then.
 */
function nameProblem(p: DisplayTextProblem): string {
  switch (p.kind) {
    case "length":
      return `Le nom du bénéficiaire comporte de 1 à ${p.max} caractères.`;
    case "character": {
      const u = p.codePoint.toString(16).toUpperCase().padStart(4, "0");
      return `Le nom du bénéficiaire contient un caractère invisible ou qui ne s'affiche pas tel quel (U+${u}) : retapez-le.`;
    }
    case "marks":
      return "Le nom du bénéficiaire contient un accent isolé ou des accents superposés : retapez-le.";
    case "spaces":
    case "not-nfc":
      return "Le nom du bénéficiaire ne s'affiche pas tel quel : retapez-le.";
  }
}

/** What is wrong with an IBAN (ISO 13616: country, length, format, mod-97 check digits), in the customer's words. */
function ibanProblem(iban: string): string | undefined {
  const r = validateIBAN(iban);
  if (r.valid) return undefined;
  const errors = new Set(r.errorCodes);
  if (errors.has(ValidationErrorsIBAN.NoIBANProvided) || errors.has(ValidationErrorsIBAN.NoIBANCountry)) {
    return "L'IBAN commence par le code du pays (FR pour la France) : vérifiez-le.";
  }
  if (errors.has(ValidationErrorsIBAN.WrongBBANLength)) {
    const chars = getCountrySpecifications()[iban.slice(0, 2)]?.chars;
    return `Un IBAN ${iban.slice(0, 2)} compte ${chars} caractères : vérifiez-le.`;
  }
  if (errors.has(ValidationErrorsIBAN.WrongBBANFormat)) {
    return "L'IBAN contient des caractères inattendus pour ce pays : vérifiez-le.";
  }
  return "La clé de contrôle de l'IBAN ne correspond pas : vérifiez chaque caractère.";
}
