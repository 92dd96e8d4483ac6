import type { Judgement } from "../codes.js";
import type { Html } from "../pages/layout.js";
import type { Customer } from "../users.js";
import type { BankContext, Deps, Visitor } from "./context.js";

/**
 * A customer who just proved who they are gets a new session (the pre-login cookie and any old session die
 * with it: no session fixation), and goes where they were going — or first to the password change.
 */
export function logIn(
  c: BankContext,
  deps: Deps,
  visitor: Visitor,
  customer: Customer,
  to: string,
): Response {
  if (visitor.sessionId) deps.bank.sessions.end(visitor.sessionId);
  const id = deps.bank.sessions.open(customer);
  deps.bank.customers.loggedIn(customer.id, deps.now());
  deps.cookies.set(c, "session", id);
  deps.cookies.clear(c, "anonymous");
  return c.redirect(customer.mustChange ? "/sogenet/password" : to, 303);
}

/** What a bank says to a wrong entry, before the last try, and at the lock. */
export interface LoginWords {
  readonly wrong: string;
  readonly lastTry: string;
  readonly locked: (maxFailures: number) => string;
}

/**
 * The answer to a login the verifier judged: in, or refused — 401 (with the warning before the last try) or
 * 423 at the lock, which also ends every session of the customer. The same statement runs, and the same page
 * comes back, for an identifiant nobody holds.
 */
export function answerLogin(
  c: BankContext,
  deps: Deps,
  o: {
    readonly visitor: Visitor;
    readonly judgement: Judgement;
    readonly user: string;
    readonly customer: Customer | undefined;
    readonly to: string;
    readonly words: LoginWords;
    readonly page: (error: string | string[]) => Html;
  },
): Response {
  const j = o.judgement;
  if (j.result === "accepted" && o.customer) return logIn(c, deps, o.visitor, o.customer, o.to);
  if (j.result === "locked") {
    deps.bank.sessions.endAllOf(o.user);
    return c.html(o.page(o.words.locked(deps.bank.codes.maxFailures)), 423);
  }
  return c.html(o.page(j.lastTry ? [o.words.wrong, o.words.lastTry] : o.words.wrong), 401);
}
