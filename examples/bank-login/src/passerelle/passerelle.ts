import { createHash } from "node:crypto";
import type { CreatedOperation, GrantRecord, Subject } from "@capkit/verify/approvals";
import type Database from "better-sqlite3";
import type { Codes } from "../codes.js";
import type { Operations } from "../operations.js";
import type { ViaPasserelle } from "../sessions.js";
import type { Sogesmart } from "../sogesmart.js";
import type { Customers } from "../users.js";
import { PASSERELLE } from "../wording.js";
import type { TicketRefusal, Tickets } from "./tickets.js";

/**
 * The Progéliance Net passerelle (the leaflet « Accès simplifié au compte de particuliers depuis l'Espace Client
 * Progéliance Net »): a professional customer goes from their Progéliance Net space to their Particuliers space,
 * and back, without typing their codes again.
 *
 * - Prerequisite: both spaces active — at least a first login on each (users.ts).
 * - Activation: only on the website, through a consent journey on Progéliance Net; the consent is an operation
 *   (`link-activation`) approved on « Pass Sécurité PRO » in the app, whose receipt activates the grant
 *   (@capkit/verify's Grants: owner the person's personal identity, target the professional one, under the
 *   contract).
 * - Switching: a one-time ticket (tickets.ts) posted to the other space opens a session there, stamped with the
 *   grant's epoch and its subjects' session epochs; each request checks both (`holds`), so a deactivation
 *   (Profil → Vos préférences → Préférences d'accès à vos espaces web) or any of the four events — password
 *   reset, voluntary password change, administrator change, adviser revocation — ends those sessions at once.
 * - On arrival viewing works; any operation asks the space's own credentials first (step-up, web/signed-in.ts).
 */
export type Space = "pro" | "perso";

export interface SpaceOrigins {
  /** Progéliance Net's origin (`http://pro.localhost:PORT`) and the Particuliers space's. */
  readonly pro: string;
  readonly perso: string;
}

export interface Contract {
  readonly id: string;
  /** The Progéliance Net identifiant of its administrator. */
  readonly administrator: string;
  /** The administrator's own SOGENET identifiant (Particuliers). */
  readonly personal: string;
  /** The current passerelle grant, pending or activated (or ended: its state says). */
  readonly grant: string | undefined;
}

export type PasserelleState =
  | { readonly state: "inactive"; readonly reason?: string }
  | { readonly state: "pending"; readonly grant: GrantRecord }
  | { readonly state: "active"; readonly grant: GrantRecord };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pro_contracts (
  id TEXT PRIMARY KEY,
  administrator TEXT NOT NULL UNIQUE,
  personal TEXT NOT NULL,
  grant_id TEXT
);`;

/** The SHA-256 of the consent text the customer agreed to: what the `link-activation` document names. */
export const CONSENT_DIGEST = createHash("sha256").update(PASSERELLE.consent.join("\n")).digest("hex");

const personalUser = (id: string) => `sogenet:${id}`;
const proUser = (id: string) => `progeliance:${id}`;

export class Passerelle {
  #origins: SpaceOrigins | undefined;
  readonly #db: Database.Database;
  readonly #customers: Customers;
  readonly #codes: Codes;
  readonly #operations: Operations;
  readonly #sogesmart: Sogesmart;
  readonly #tickets: Tickets;

  constructor(o: {
    db: Database.Database;
    customers: Customers;
    codes: Codes;
    operations: Operations;
    sogesmart: Sogesmart;
    tickets: Tickets;
  }) {
    this.#db = o.db;
    this.#customers = o.customers;
    this.#codes = o.codes;
    this.#operations = o.operations;
    this.#sogesmart = o.sogesmart;
    this.#tickets = o.tickets;
    o.db.exec(SCHEMA);
  }

  /** The two spaces' origins, known once the server listens (server.ts): tickets name them. */
  serve(origins: SpaceOrigins): void {
    this.#origins = origins;
  }

  get origins(): SpaceOrigins {
    if (!this.#origins) throw new Error("the passerelle's origins are set when the server listens");
    return this.#origins;
  }

  /** A professional contract: its administrator's Progéliance identifiant and their own SOGENET one. */
  addContract(c: { id: string; administrator: string; personal: string }): void {
    this.#db
      .prepare("INSERT INTO pro_contracts (id, administrator, personal) VALUES (?, ?, ?)")
      .run(c.id, c.administrator, c.personal);
  }

  /** The contract of a customer, from either space (the administrator's, or their personal identifiant's). */
  contractOf(space: Space, customer: string): Contract | undefined {
    const r = this.#db
      .prepare(`SELECT * FROM pro_contracts WHERE ${space === "pro" ? "administrator" : "personal"} = ?`)
      .get(customer) as
      | { id: string; administrator: string; personal: string; grant_id: string | null }
      | undefined;
    return (
      r && { id: r.id, administrator: r.administrator, personal: r.personal, grant: r.grant_id ?? undefined }
    );
  }

  /** « Avoir, à minima, réalisé une première connexion sur chacun des Espaces Clients ». */
  prerequisites(c: Contract): { readonly pro: boolean; readonly perso: boolean } {
    return {
      pro: this.#customers.active("progeliance", c.administrator),
      perso: this.#customers.active("sogenet", c.personal),
    };
  }

  /** Where the contract's passerelle stands: active only while its grant checks (one read). */
  async state(c: Contract): Promise<PasserelleState> {
    if (!c.grant) return { state: "inactive" };
    const grants = this.#codes.grants();
    const g = await grants.get(c.grant);
    if (!g) return { state: "inactive" };
    if (g.state === "pending") return { state: "pending", grant: g };
    const check = await grants.check(g.id, g.epoch);
    if (check.valid) return { state: "active", grant: g };
    return { state: "inactive", ...(check.reason !== undefined ? { reason: check.reason } : {}) };
  }

  /**
   * The consent given (« J'accepte »): a pending grant, and the `link-activation` operation the app is to
   * approve. Refused (undefined) when the prerequisites are not met or no app can approve it.
   */
  async consent(c: Contract): Promise<CreatedOperation | undefined> {
    const p = this.prerequisites(c);
    const credential = await this.#sogesmart.approvingApp(c.personal);
    if (!p.pro || !p.perso || !credential) return undefined;
    // One passerelle per contract: a grant still pending or active ends before the new one exists, so no
    // grant the preferences page cannot see keeps opening sessions.
    if (c.grant)
      await this.#codes.grants().deactivate({ id: c.grant, reason: "remplacée par un nouveau consentement" });
    const grant = await this.#codes.grants().create({
      kind: "passerelle",
      owner: personalUser(c.personal),
      target: proUser(c.administrator),
      contract: c.id,
    });
    this.#db.prepare("UPDATE pro_contracts SET grant_id = ? WHERE id = ?").run(grant.id, c.id);
    return this.#operations.linkActivation({
      pro: c.administrator,
      personal: c.personal,
      contract: c.id,
      credential,
      consent: CONSENT_DIGEST,
    });
  }

  /** The consent operation approved in the app: the grant is activated with it. */
  async activate(c: Contract, operation: string): Promise<boolean> {
    const op = await this.#operations.of("sogenet", c.personal, operation);
    if (!c.grant || op?.state !== "approved") return false;
    await this.#codes.grants().activate({ id: c.grant, operation });
    return true;
  }

  /** Profil → Vos préférences → Préférences d'accès à vos espaces web: « Désactiver ». */
  async deactivate(c: Contract): Promise<void> {
    if (c.grant) await this.#codes.grants().deactivate({ id: c.grant, reason: "désactivée par le client" });
  }

  /** A ticket to the other space, or undefined when the passerelle is not active. */
  async ticket(from: Space, c: Contract): Promise<{ ticket: string; action: string } | undefined> {
    const s = await this.state(c);
    if (s.state !== "active") return undefined;
    const to: Space = from === "pro" ? "perso" : "pro";
    const ticket = await this.#tickets.issue({
      iss: this.origins[from],
      aud: this.origins[to],
      sub: to === "perso" ? s.grant.owner : s.grant.target,
      grant: s.grant.id,
      epoch: s.grant.epoch,
    });
    return { ticket, action: `${this.origins[to]}/passerelle/arrive` };
  }

  /**
   * A ticket posted to `space`: checked (the bank's, from the other space, for this one, not expired, first
   * use), then the grant it names (still active, not activated again since); the customer it opens a session
   * for, with the passerelle's stamp.
   */
  async arrive(
    space: Space,
    ticket: string,
  ): Promise<
    | { ok: true; bank: "sogenet" | "progeliance"; customer: string; via: ViaPasserelle }
    | { ok: false; why: TicketRefusal | "inactive" }
  > {
    const from: Space = space === "pro" ? "perso" : "pro";
    const r = await this.#tickets.redeem(ticket, { audience: this.origins[space], from: this.origins[from] });
    if (!r.ok) return r;
    const grants = this.#codes.grants();
    const check = await grants.check(r.claims.grant, r.claims.epoch);
    const g = await grants.get(r.claims.grant);
    if (!check.valid || !g) return { ok: false, why: "inactive" };
    const expected = space === "perso" ? g.owner : g.target;
    if (r.claims.sub !== expected) return { ok: false, why: "invalid" };
    const subjects: Subject[] = [
      { kind: "user", id: g.owner },
      { kind: "user", id: g.target },
      ...(g.contract ? [{ kind: "contract" as const, id: g.contract }] : []),
    ];
    const stamp = await this.#codes
      .events()
      .stamp(subjects.map((subject) => ({ subject, class: "session" })));
    const [bank, customer] = expected.split(":") as ["sogenet" | "progeliance", string];
    return { ok: true, bank, customer, via: { grant: g.id, epoch: g.epoch, stamp, steppedUp: false } };
  }

  /** Whether a session opened through the passerelle still holds: its grant, and no event since (per request). */
  async holds(via: ViaPasserelle): Promise<boolean> {
    const check = await this.#codes.grants().check(via.grant, via.epoch);
    return check.valid && (await this.#codes.events().valid(via.stamp));
  }
}
