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
  const name = kept.name.trim().replace(/\s+/g, " ");
  if (!/^[^\p{Cc}]{1,70}$/u.test(name))
    return { error: "Le nom du bénéficiaire comporte de 1 à 70 caractères.", values: kept };
  const cents = parseEuros(kept.amount.trim());
  if (cents === undefined)
    return {
      error: "Le montant est un nombre d'euros positif, avec au plus 2 décimales (par exemple 150,00).",
      values: kept,
    };
  return { payee: { iban, name }, cents };
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
