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
  deps.cookies.set(c, "session", id);
  deps.cookies.clear(c, "anonymous");
  return c.redirect(customer.mustChange ? "/sogenet/password" : to, 303);
}
