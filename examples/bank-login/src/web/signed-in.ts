import type { Html } from "../pages/layout.js";
import { stepUpPage } from "../pages/passerelle.js";
import type { Session } from "../sessions.js";
import { BANK_NAMES, type BankName, type Customer } from "../users.js";
import { SESSION } from "../wording.js";
import type { BankContext, Deps } from "./context.js";
import { Detour, Refusal } from "./refusal.js";
import { visitorOf } from "./visitor.js";

export interface SignedIn {
  readonly sessionId: string;
  readonly session: Session;
  readonly customer: Customer;
}

/**
 * The customer of this bank logged in on this request, or the answer instead: not logged in (or the session
 * ended: idle, too old, ended by a password change) → 401 with the bank's login form; logged in to the other
 * bank → 403 saying so; a SOGENET password to change first → to the change page; an operation (`operation`)
 * in a session opened through the passerelle, before the customer typed their own credentials → step-up.
 */
export function signedIn(
  c: BankContext,
  deps: Deps,
  bank: BankName,
  loginPage: (error: string) => Html,
  o: { readonly passwordPage?: boolean; readonly operation?: boolean } = {},
): SignedIn {
  const v = visitorOf(c, deps);
  const customer = v.session && deps.bank.customers.get(v.session.bank, v.session.customer);
  if (!v.session || !v.sessionId || !customer) {
    throw new Detour((c) => c.html(loginPage(SESSION.notLoggedIn), 401));
  }
  if (v.session.bank !== bank) {
    throw new Refusal(403, SESSION.otherBank(BANK_NAMES[v.session.bank], BANK_NAMES[bank]));
  }
  if (v.session.mustChange && !o.passwordPage) {
    throw new Detour((c) => c.redirect("/sogenet/password", 303));
  }
  // A session opened through the passerelle: viewing works; an operation asks this space's own credentials.
  if (o.operation && v.session.passerelle && !v.session.passerelle.steppedUp) {
    const next = c.req.path;
    throw new Detour((c) => c.html(stepUpPage({ csrf: v.session!.csrf, next }), 401));
  }
  return { sessionId: v.sessionId, session: v.session, customer };
}
