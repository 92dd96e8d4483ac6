import type { BankContext, Deps, Visitor } from "./context.js";

/**
 * The visitor of this request, worked out once: the logged-in session (touched: its idle time starts again) or,
 * before login, the anonymous CSRF cookie — issued here when missing or no longer valid.
 */
export function visitorOf(c: BankContext, deps: Deps): Visitor {
  const known = c.get("visitor");
  if (known) return known;
  const sessionId = deps.cookies.get(c, "session");
  const session = deps.bank.sessions.touch(sessionId);
  let v: Visitor;
  if (session) v = { sessionId, session, csrf: session.csrf };
  else {
    if (sessionId !== undefined) deps.cookies.clear(c, "session");
    let anonymous = deps.anonymous.read(deps.cookies.get(c, "anonymous"));
    if (!anonymous) {
      anonymous = deps.anonymous.issue();
      deps.cookies.set(c, "anonymous", anonymous.cookie);
    }
    v = { sessionId: undefined, session: undefined, csrf: anonymous.token };
  }
  c.set("visitor", v);
  return v;
}

/** This browser's demo customers and devices (demo only), if it has some. */
export function demoOf(c: BankContext, deps: Deps) {
  return deps.bank.demo.get(deps.cookies.get(c, "demo"));
}

/** The session just ended (logout, lock): from here the visitor is anonymous again; returns the new form token. */
export function endSession(c: BankContext, deps: Deps): string {
  const old = visitorOf(c, deps);
  if (old.sessionId) deps.bank.sessions.end(old.sessionId);
  deps.cookies.clear(c, "session");
  const anonymous = deps.anonymous.issue();
  deps.cookies.set(c, "anonymous", anonymous.cookie);
  const v: Visitor = { sessionId: undefined, session: undefined, csrf: anonymous.token };
  c.set("visitor", v);
  return v.csrf;
}
