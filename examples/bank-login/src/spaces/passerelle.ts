import { Hono } from "hono";
import { accountPage } from "../pages/account.js";
import { progelianceLoginPage, ticketPage } from "../pages/passerelle.js";
import { sogenetLoginPage } from "../pages/sogenet.js";
import type { Space } from "../passerelle/passerelle.js";
import type { BankContext, BankEnv, Deps } from "../web/context.js";
import { spaceOf } from "../web/spaces.js";
import { visitorOf } from "../web/visitor.js";
import { PASSERELLE } from "../wording.js";

/** The space a customer of `bank` is in, as the passerelle names it. */
export function spaceOfBank(bank: "sogenet" | "progeliance"): Space {
  return bank === "progeliance" ? "pro" : "perso";
}

/**
 * The passerelle's menu on a page of `space`: always on Progéliance Net for a contract's administrator (ÉTAPE 1:
 * it starts the consent journey while the passerelle is off), on the Particuliers space only while it is active.
 */
export async function spacesMenu(deps: Deps, space: Space, customer: string) {
  const contract = deps.bank.passerelle.contractOf(space, customer);
  if (!contract) return undefined;
  if (space === "pro") return { label: PASSERELLE.menuToPerso, action: "/progeliance/particuliers" };
  if ((await deps.bank.passerelle.state(contract)).state !== "active") return undefined;
  return { label: PASSERELLE.menuToPro, action: "/sogenet/progeliance" };
}

/**
 * The hand-over page to the other space, with a fresh ticket; its CSP lets that one form go to the other
 * origin (every other page keeps form-action 'self'). Undefined when the passerelle is not active.
 */
export async function handOver(c: BankContext, deps: Deps, space: Space, customer: string, csrf: string) {
  const p = deps.bank.passerelle;
  const contract = p.contractOf(space, customer);
  const t = contract && (await p.ticket(space, contract));
  if (!t) return undefined;
  const to = space === "pro" ? "Espace Client Particuliers" : "Espace Client Progéliance Net";
  const target = new URL(t.action).origin;
  c.header("content-security-policy", cspWithFormAction(target));
  // With app.ts's `same-origin`, a browser sends `Origin: null` on a cross-origin form: this one page names its
  // origin (never its path), so the other space can tell the ticket comes from its sibling.
  c.header("referrer-policy", "strict-origin");
  return c.html(
    ticketPage({
      brand: space === "pro" ? "progeliance" : "sogenet",
      csrf,
      action: t.action,
      ticket: t.ticket,
      to,
    }),
  );
}

/** app.ts's CSP, with one more form action: the other space's origin. */
function cspWithFormAction(origin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self' ${origin}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * `POST /passerelle/arrive`, on both spaces: a ticket from the other space. It is the only POST the bank
 * takes from another site (app.ts lets it through when its Origin is the other space's — a cross-site POST
 * carries no SameSite cookie, so the ticket is the whole proof). The landing page is this response itself:
 * after a cross-site POST, a 303 would reach the page without the new SameSite=Strict session cookie.
 */
export function passerelleRoutes(deps: Deps): Hono<BankEnv> {
  const app = new Hono<BankEnv>();
  app.get("/passerelle/arrive", (c) => c.redirect("/", 303));
  app.post("/passerelle/arrive", async (c) => {
    // Not throttled as a guess: a ticket is an Ed25519 signature nobody guesses, checked in well under a
    // millisecond, and nothing is counted or stored for a refused one.
    const space = spaceOf(c, deps);
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const form =
      type === "application/x-www-form-urlencoded" ? new URLSearchParams(await c.req.text()) : undefined;
    const r = await deps.bank.passerelle.arrive(space, form?.get("ticket") ?? "");
    if (!r.ok) {
      const error = PASSERELLE.ticketRefused[r.why];
      const csrf = visitorOf(c, deps).csrf;
      return c.html(
        space === "pro"
          ? progelianceLoginPage({ csrf, error })
          : sogenetLoginPage({ csrf, demo: undefined, layout: undefined, error }),
        401,
      );
    }
    const customer = deps.bank.customers.get(r.bank, r.customer);
    if (!customer) return c.html(progelianceLoginPage({ csrf: visitorOf(c, deps).csrf }), 401);
    const old = deps.cookies.get(c, "session");
    if (old) deps.bank.sessions.end(old);
    const id = deps.bank.sessions.open(customer, r.via);
    deps.cookies.set(c, "session", id);
    deps.cookies.clear(c, "anonymous");
    const session = deps.bank.sessions.touch(id)!;
    const spaces = await spacesMenu(deps, space, customer.id);
    return c.html(
      accountPage({
        bank: r.bank,
        csrf: session.csrf,
        name: customer.name,
        ...(spaces ? { spaces } : {}),
      }),
    );
  });
  return app;
}

/** Whether a POST to the passerelle's door comes from the other space (its Origin, exactly). */
export function fromOtherSpace(c: BankContext, deps: Deps): boolean {
  if (c.req.method !== "POST" || c.req.path !== "/passerelle/arrive") return false;
  const o = deps.bank.passerelle.origins;
  const origin = c.req.header("origin");
  return spaceOf(c, deps) === "pro" ? origin === o.perso : origin === o.pro;
}
