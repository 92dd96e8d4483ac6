import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { Bank } from "./bank.js";
import { Keypads } from "./keypad.js";
import { errorPage } from "./pages/home.js";
import { type Assets, commonRoutes, demoRoutes } from "./spaces/common.js";
import { coopanetRoutes } from "./spaces/coopanet.js";
import { fromOtherSpace, passerelleRoutes } from "./spaces/passerelle.js";
import { progelianceRoutes } from "./spaces/progeliance.js";
import { sogenetRoutes } from "./spaces/sogenet.js";
import { sogesmartApi, sogesmartRoutes } from "./spaces/sogesmart.js";
import type { BankEnv, Deps } from "./web/context.js";
import { Cookies } from "./web/cookies.js";
import { AnonymousCsrf } from "./web/csrf.js";
import type { Faults } from "./web/faults.js";
import type { Hosts } from "./web/hosts.js";
import { Detour, Refusal } from "./web/refusal.js";
import { spaceRoute } from "./web/spaces.js";
import { RATES, Throttle } from "./web/throttle.js";
import { visitorOf } from "./web/visitor.js";

/** Form bodies are small: at most this many bytes are read, more is refused (413) before it is buffered. */
export const MAX_BODY_BYTES = 8 * 1024;

export interface AppOptions {
  readonly bank: Bank;
  readonly hosts: Hosts;
  readonly assets: Assets;
  /** `Secure` cookies with the `__Host-` prefix (behind HTTPS). */
  readonly secureCookies: boolean;
  readonly now: () => number;
  /** Tests only: requests held without answer (web/faults.ts). */
  readonly faults?: Faults;
}

/**
 * The bank's web application, on Hono. In order: the Host allow-list (DNS rebinding), the security headers, the
 * provenance of anything that changes state (Origin, Sec-Fetch-Site) and the body limit; then one module of
 * routes per space — what no space owns, the demo's devices, Coop@net, SOGENET — each built from the same
 * parts (`Deps`). A refusal anywhere becomes a page with its status, never a stack trace.
 */
export function createApp(o: AppOptions): Hono<BankEnv> {
  const deps: Deps = {
    bank: o.bank,
    hosts: o.hosts,
    cookies: new Cookies(o.secureCookies),
    anonymous: new AnonymousCsrf(o.bank.webKey, o.now),
    keypads: new Keypads(o.bank.webKey, o.now),
    throttles: {
      attemptsPerAddress: new Throttle(RATES.attemptsPerAddress, o.now),
      attemptsPerToken: new Throttle(RATES.attemptsPerToken, o.now),
      demoPerAddress: new Throttle(RATES.demoPerAddress, o.now),
      demoOverall: new Throttle(RATES.demoOverall, o.now, 1),
    },
    now: o.now,
  };
  const app = new Hono<BankEnv>();

  if (o.faults) {
    const faults = o.faults;
    app.use(async (c, next) => {
      await faults.hold(c.req.path);
      await next();
    });
  }
  app.use(async (c, next) => {
    if (!o.hosts.allowsHost(c.req.header("host"))) {
      return c.text("421 Misdirected Request: this server does not answer to that host name.\n", 421);
    }
    await next();
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      xFrameOptions: "DENY",
      // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own forms.
      referrerPolicy: "same-origin",
      strictTransportSecurity: o.secureCookies ? "max-age=31536000" : false,
      // A page that sets its own CSP keeps it: the passerelle's hand-over adds the other space's form action.
      overwrite: false,
    }),
  );
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
  });
  // Each space on its own origin: Progéliance Net on pro.localhost, the Particuliers space elsewhere.
  app.use(async (c, next) => {
    const elsewhere = spaceRoute(c, deps);
    if (elsewhere) return elsewhere;
    await next();
  });
  app.use(async (c, next) => {
    // The passerelle's door is the one POST taken from another site: from the other space's origin only.
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && !fromOtherSpace(c, deps)) {
      if (!o.hosts.allowsWriteFrom(c.req.header("origin"), c.req.header("sec-fetch-site"))) {
        throw new Refusal(403, "Ce formulaire doit être envoyé par la page de la banque.");
      }
    }
    await next();
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new Refusal(413, "La requête est trop volumineuse.");
      },
    }),
  );

  // A session opened through the passerelle holds only while its grant does and no security event moved its
  // subjects' epochs since: checked here, on every request that carries a session (one read each).
  app.use(async (c, next) => {
    const id = c.req.path.startsWith("/api/") ? undefined : deps.cookies.get(c, "session");
    const via = id ? o.bank.sessions.passerelleOf(id) : undefined;
    if (via && !(await o.bank.passerelle.holds(via))) {
      o.bank.sessions.end(id!);
      deps.cookies.clear(c, "session");
    }
    await next();
  });

  app.route("/", commonRoutes(deps, o.assets));
  app.route("/", passerelleRoutes(deps));
  app.route("/progeliance", progelianceRoutes(deps));
  app.route("/", demoRoutes(deps));
  app.route("/coopanet", coopanetRoutes(deps));
  app.route("/sogenet", sogenetRoutes(deps));
  app.route("/sogesmart", sogesmartRoutes(deps));
  app.route("/api/sogesmart", sogesmartApi(deps));

  // The app API answers in JSON and never sets a cookie, its refusals included.
  const api = (c: Context) => c.req.path.startsWith("/api/");
  app.notFound((c) =>
    api(c)
      ? c.json({ error: "NOT_FOUND" }, 404)
      : c.html(errorPage(404, "Cette page n'existe pas.", visitorOf(c, deps).csrf), 404),
  );
  app.onError((e, c) => {
    if (api(c)) {
      const status = e instanceof Refusal ? e.status : 500;
      if (status === 500) console.error("bank-login: internal error:", (e as Error).message);
      return c.json({ error: status === 500 ? "INTERNAL" : "REFUSED", message: e.message }, status);
    }
    if (e instanceof Detour) return e.respond(c);
    if (e instanceof Refusal) {
      if (e.retryAfter !== undefined) c.header("retry-after", String(e.retryAfter));
      return c.html(errorPage(e.status, e.message, visitorOf(c, deps).csrf), e.status);
    }
    console.error("bank-login: internal error:", (e as Error).message);
    return c.html(errorPage(500, "Erreur interne. Réessayez plus tard.", visitorOf(c, deps).csrf), 500);
  });
  return app;
}
