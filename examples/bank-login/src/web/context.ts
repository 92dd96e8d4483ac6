import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { Bank } from "../bank.js";
import type { Keypads } from "../keypad.js";
import type { Session } from "../sessions.js";
import type { Cookies } from "./cookies.js";
import type { AnonymousCsrf } from "./csrf.js";
import type { Hosts } from "./hosts.js";
import type { RATES, Throttle } from "./throttle.js";

/** What every space's routes are built from: the bank and the web layer's parts (app.ts makes them once). */
export interface Deps {
  readonly bank: Bank;
  readonly hosts: Hosts;
  readonly cookies: Cookies;
  readonly anonymous: AnonymousCsrf;
  readonly keypads: Keypads;
  readonly throttles: { readonly [K in keyof typeof RATES]: Throttle };
  readonly now: () => number;
}

/** Who is asking, worked out once per request (web/visitor.ts). */
export interface Visitor {
  /** The session cookie's id and its live session, when logged in. */
  readonly sessionId: string | undefined;
  readonly session: Session | undefined;
  /** The token this visitor's forms carry: the session's, or the anonymous cookie's. */
  readonly csrf: string;
}

export type BankEnv = { Bindings: HttpBindings; Variables: { visitor: Visitor } };
export type BankContext = Context<BankEnv>;
