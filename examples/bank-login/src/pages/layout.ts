import { html as honoHtml } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { IDLE_MS, WARN_BEFORE_IDLE_MS } from "../sessions.js";
import { BANK_NAMES, type BankName } from "../users.js";
import { SESSION } from "../wording.js";

/**
 * The page frame every page of every space reuses: HTML that works without JavaScript (except the shuffled
 * keypad and the simulated devices), a strict CSP (assets only, no inline code), a header with the bank's name
 * and, when logged in, « Se déconnecter » and the idle warning. `hono/html` escapes every interpolated value.
 */
export type Html = HtmlEscapedString;

/** hono/html's tag (every interpolated value escaped), kept synchronous: no page interpolates a promise. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const r = honoHtml(strings, ...values);
  if (r instanceof Promise) throw new Error("a page template was given a promise");
  return r;
}
export type Brand = BankName | "home" | "sogesmart";

export interface PageOptions {
  readonly brand: Brand;
  readonly title: string;
  /** The CSRF token the page's forms carry. */
  readonly csrf: string;
  /** A logged-in page: « Se déconnecter », and the warning before the idle limit (bank.js). */
  readonly loggedIn?: boolean;
  /** The aside beside the form: the simulated device and the demo box (pages/devices.ts). */
  readonly aside?: Html;
  /**
   * The passerelle's menu (« Accéder à votre Espace Client … »), in the header, left: a form POSTing to this
   * space's route that hands a one-time ticket to the other space.
   */
  readonly spaces?: { readonly label: string; readonly action: string };
  /** More module scripts (the SogeSmart page's elements: /assets/capkit-sogesmart.js). */
  readonly modules?: readonly string[];
}

const TITLES: Readonly<Record<Brand, string>> = {
  ...BANK_NAMES,
  home: "capkit bank-login",
  sogesmart: "SogeSmart",
};

export function page(o: PageOptions, main: Html): Html {
  const idle = o.loggedIn
    ? html` data-idle-ms="${IDLE_MS}" data-warn-ms="${IDLE_MS - WARN_BEFORE_IDLE_MS}"`
    : "";
  return html`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} – ${TITLES[o.brand]}</title>
<link rel="stylesheet" href="/assets/bank.css">
<script type="module" src="/assets/capkit-web.js"></script>
<script type="module" src="/assets/bank.js"></script>${(o.modules ?? []).map(
    (m) => html`
<script type="module" src="${m}"></script>`,
  )}
</head>
<body class="${o.brand}"${idle}>
<header class="top"><a class="brand" href="${o.brand === "home" ? "/" : `/${o.brand}`}">${TITLES[o.brand]}</a>${
    o.spaces
      ? html`<form method="post" action="${o.spaces.action}" class="spaces">${csrfField(o.csrf)}<button type="submit">${o.spaces.label}</button></form>`
      : ""
  }${
    o.loggedIn
      ? html`<form method="post" action="/logout" class="logout">${csrfField(o.csrf)}<button type="submit">Se déconnecter</button></form>`
      : ""
  }</header>
${
  o.loggedIn
    ? html`<div class="idle-warning" role="alert" hidden data-idle-warning><p>${SESSION.idleWarning}</p>
<form method="post" action="/session/keepalive" data-keepalive>${csrfField(o.csrf)}<button type="submit">Rester connecté</button></form></div>`
    : ""
}
<div class="layout">
<main id="main">
<h1>${o.title}</h1>
${main}
</main>
${o.aside ?? ""}
</div>
</body>
</html>`;
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

/** An error (role alert) or a notice (role status), one paragraph per line. */
export function message(kind: "error" | "notice", text: string | readonly string[] | undefined): Html {
  if (text === undefined || text.length === 0) return html``;
  const lines = typeof text === "string" ? [text] : text;
  const body = lines.length === 1 ? lines[0] : lines.map((l) => html`<p>${l}</p>`);
  return kind === "error"
    ? html`<div class="error" role="alert">${body}</div>`
    : html`<div class="notice" role="status">${body}</div>`;
}
