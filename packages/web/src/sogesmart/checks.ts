import type { AppScreen } from "./machine.js";
import { APP, GUIDE } from "./words.js";

/**
 * Each form checked in the app before anything is sent: a malformed entry is answered at once, and reaches
 * neither the bank nor its failure counts (as SOGENET's pages do). The bank checks again at its door.
 */
export type FormValues = Readonly<Record<string, string>>;
export type Checked =
  | { readonly ok: true; readonly values: FormValues }
  | { readonly ok: false; readonly message: string };

const DIGITS = (n: number) => new RegExp(`^[0-9]{${n}}$`);
const bad = (message: string): Checked => ({ ok: false, message });

/** The SMS code as the customer may type it (`1234 5678`), spaces removed. */
export function compact(s: string | undefined): string {
  return (s ?? "").replace(/[\s.-]/g, "");
}

function newPassword(v: FormValues, current: string | undefined): Checked | undefined {
  const next = v["next"] ?? "";
  if (!DIGITS(6).test(next)) return bad(APP.passwordFormat);
  if ((v["confirm"] ?? "") !== next) return bad(APP.confirmMismatch);
  if (current !== undefined && next === current) return bad(APP.sameAsCurrent);
  return undefined;
}

export function checkForm(
  screen: AppScreen,
  v: FormValues,
  o: { asksCurrentPassword?: boolean } = {},
): Checked {
  switch (screen) {
    case "login": {
      const login = (v["login"] ?? "").trim();
      if (!DIGITS(8).test(login)) return bad(APP.identifiantFormat);
      if (!DIGITS(6).test(v["password"] ?? "")) return bad(APP.passwordFormat);
      return { ok: true, values: { login, password: v["password"]! } };
    }
    case "activation":
    case "password-lost": {
      const identifiant = (v["identifiant"] ?? "").trim();
      return DIGITS(8).test(identifiant) ? { ok: true, values: { identifiant } } : bad(APP.identifiantFormat);
    }
    case "qr":
      return (v["qr"] ?? "").trim() ? { ok: true, values: { qr: v["qr"]!.trim() } } : bad(APP.qrInvalid);
    case "sms": {
      const sms = compact(v["sms"]);
      return DIGITS(8).test(sms) ? { ok: true, values: { sms } } : bad(APP.smsFormat);
    }
    case "authentication":
    case "settings": {
      const asks = screen === "settings" || o.asksCurrentPassword === true;
      const current = asks ? (v["current"] ?? "") : undefined;
      if (current !== undefined && !DIGITS(6).test(current)) return bad(APP.passwordFormat);
      const wrong = newPassword(v, current);
      if (wrong) return wrong;
      return {
        ok: true,
        values: { next: v["next"]!, ...(current !== undefined ? { current } : {}) },
      };
    }
    case "approval":
      return DIGITS(6).test(v["password"] ?? "")
        ? { ok: true, values: { password: v["password"]! } }
        : bad(APP.passwordFormat);
    case "subscription": {
      const labels: Record<string, string> = {
        firstName: GUIDE.firstName,
        lastName: GUIDE.lastName,
        birthDate: GUIDE.birthDate,
        email: GUIDE.email,
        account: GUIDE.account,
      };
      const values: Record<string, string> = {};
      for (const [k, label] of Object.entries(labels)) {
        const x = (v[k] ?? "").trim();
        if (!x) return bad(APP.required(label));
        values[k] = x;
      }
      if (!/^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/.test(values["email"]!)) return bad(APP.emailFormat);
      if (!DIGITS(11).test(compact(values["account"]))) return bad(APP.accountFormat);
      values["account"] = compact(values["account"]);
      if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(values["birthDate"]!))
        return bad(APP.required(GUIDE.birthDate));
      return { ok: true, values };
    }
    default:
      return { ok: true, values: {} };
  }
}
