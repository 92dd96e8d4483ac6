import { SESSION } from "../wording.js";
import { clientAddress } from "./client.js";
import type { BankContext, Deps, Visitor } from "./context.js";
import { sameToken } from "./csrf.js";
import { Refusal } from "./refusal.js";
import { visitorOf } from "./visitor.js";

/**
 * A POST's form: application/x-www-form-urlencoded only (the body's size is already capped by app.ts), its CSRF
 * token checked against the visitor's before anything else is read from it.
 */
export async function readForm(
  c: BankContext,
  deps: Deps,
): Promise<{ form: URLSearchParams; visitor: Visitor }> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new Refusal(415, "Ce formulaire doit être envoyé par la page de la banque.");
  }
  const form = new URLSearchParams(await c.req.text());
  const visitor = visitorOf(c, deps);
  if (!sameToken(form.get("_csrf") ?? undefined, visitor.csrf)) throw new Refusal(403, SESSION.formExpired);
  return { form, visitor };
}

/**
 * A form that is a guess (a login, a password check, a signature): throttled by address before the body is
 * read, then by form token once the token is known to be genuine — so neither a flood from one machine nor one
 * tab's loop reaches the password hashing or the verifier.
 */
export async function readAttempt(
  c: BankContext,
  deps: Deps,
): Promise<{ form: URLSearchParams; visitor: Visitor }> {
  throttle(deps.throttles.attemptsPerAddress.take(clientAddress(c)));
  const r = await readForm(c, deps);
  throttle(deps.throttles.attemptsPerToken.take(r.visitor.csrf));
  return r;
}

export function throttle(wait: number): void {
  if (wait > 0) throw new Refusal(429, SESSION.throttled(wait), wait);
}
