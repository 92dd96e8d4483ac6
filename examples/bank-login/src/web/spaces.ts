import type { Space } from "../passerelle/passerelle.js";
import type { BankContext, Deps } from "./context.js";
import { Refusal } from "./refusal.js";

/**
 * Which space a request is for, by its Host: Progéliance Net has its own origin (`pro.localhost`), so its
 * cookies are not the Particuliers space's (`perso.localhost`, and the plain loopback names). Chromium resolves
 * every `*.localhost` name to loopback itself, and keeps host-only cookies apart by name.
 */
export function spaceOf(c: BankContext, deps: Deps): Space {
  const host = (c.req.header("host") ?? "").toLowerCase();
  return host === new URL(deps.bank.passerelle.origins.pro).host ? "pro" : "perso";
}

/** What Progéliance Net's origin serves: its own pages, the passerelle's door, the assets, the session's. */
const PRO_PATHS =
  /^\/(progeliance(\/.*)?|passerelle\/arrive|assets\/.*|logout|session\/keepalive|favicon\.ico)$/;

/**
 * Keeps each space on its origin: on Progéliance Net's, anything else goes to its login (GET) or is refused;
 * elsewhere, Progéliance Net's pages are refused with where to find them.
 */
export function spaceRoute(c: BankContext, deps: Deps): Response | undefined {
  const pro = spaceOf(c, deps) === "pro";
  const path = c.req.path;
  if (pro && !PRO_PATHS.test(path)) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect("/progeliance", 303);
    throw new Refusal(404, "Cette page n'existe pas sur Progéliance Net.");
  }
  if (!pro && /^\/progeliance(\/|$)/.test(path))
    throw new Refusal(
      404,
      `Progéliance Net a son propre site : ${deps.bank.passerelle.origins.pro}/progeliance`,
    );
  return undefined;
}
