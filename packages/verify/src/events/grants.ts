import { randomBytes } from "node:crypto";
import { CapkitError, isRecord } from "@capkit/core";
import { checkClassOptions, checkRequest, checkWords, pageLimit, wholeNumber } from "../approvals/door.js";
import type { AuditEntry } from "../model.js";
import {
  type GrantKind,
  type GrantRecord,
  type GrantState,
  SECURITY_STORE_METHODS,
  type SecurityStore,
} from "../security-model.js";
import { grantDetail } from "../stores/security-rules.js";
import { checkSubjectId } from "./subjects.js";

/** What {@link Grants} works with. */
export interface GrantsOptions {
  /** The security store (beside the verifier's): grants are revoked by its events. */
  readonly store: SecurityStore;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Who acts, named in the grants' audit entries. */
  readonly actor?: string;
}

/** What a grant check answers: usable or not, and why not. */
export interface GrantCheck {
  /** Whether the grant may be used now. */
  readonly valid: boolean;
  /** Its state, or `unknown` for an id no grant has. */
  readonly state: GrantState | "unknown";
  /**
   * Why not: its state's reason (the event that revoked it, the reason it was deactivated), "revoked" when an
   * event moved an epoch it was stamped with, "reactivated" when it was activated again since the epoch given.
   */
  readonly reason?: string;
}

const GRANT_ID = /^[0-9a-f]{32}$/;

/**
 * Grants (https://github.com/capkit/capkit/blob/main/docs/architecture.md §12.4): the Progéliance passerelle between a user's professional space and their
 * personal space. A grant is created pending, stamped with its subjects' `grant` epochs; activated only with
 * the receipt of its owner's approved consent operation (`link-activation`, approved on the app); deactivated
 * with a reason; revoked — with the event as its cause — by any security event on its owner, its target or its
 * contract that revokes grants. `check` is what each passerelle ticket and session asks (one read).
 */
export class Grants {
  readonly #store: SecurityStore;
  readonly #now: () => number;
  readonly #actor: string | undefined;

  /** @param options - the security store, the clock, who acts */
  constructor(options: GrantsOptions) {
    checkClassOptions(options, "the grants' options", [["store", "a SecurityStore", SECURITY_STORE_METHODS]]);
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#actor = options.actor;
  }

  /** A pending grant between two different users (and the contract the owner acts under). */
  async create(req: {
    kind: GrantKind;
    owner: string;
    target: string;
    contract?: string;
  }): Promise<GrantRecord> {
    if (!isRecord(req)) throw invalid("a grant is { kind, owner, target }");
    if (req.kind !== "passerelle") throw invalid('a grant\'s kind is "passerelle"');
    const owner = checkSubjectId(req.owner, "the owner");
    const target = checkSubjectId(req.target, "the target");
    if (owner === target) throw invalid("a passerelle links two different users");
    const contract = req.contract === undefined ? undefined : checkSubjectId(req.contract, "the contract");
    const id = randomBytes(16).toString("hex");
    const at = this.#now();
    return this.#store.createGrant(
      { id, kind: req.kind, owner, target, contract, createdAt: at },
      this.#entry(at, owner, "created", grantDetail(id, `passerelle ${owner} → ${target}`)),
    );
  }

  /**
   * Activates a pending grant with its consent: the id of an approved `link-activation` operation of the
   * grant's owner, made under the grant's contract once the grant existed (its receipt becomes the grant's
   * consent). GRANT_INVALID when the grant is not pending, was revoked by an event, or the operation is not such
   * a consent (an earlier one included) or activated another grant.
   */
  async activate(req: { id: string; operation: string }): Promise<GrantRecord> {
    checkRequest(req, "a grant activation is { id, operation }");
    const id = checkGrantId(req.id);
    if (typeof req.operation !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(req.operation))
      throw invalid("the consent operation's id is 1 to 64 letters, digits, _ or -");
    const g = await this.#known(id);
    const at = this.#now();
    const r = await this.#store.activateGrant(
      id,
      req.operation,
      at,
      this.#entry(at, g.owner, "activated", grantDetail(id, `consent operation ${req.operation}`)),
    );
    if ("refused" in r)
      throw new CapkitError("GRANT_INVALID", `grant ${id} was not activated: ${r.refused}`, {
        details: { reason: r.refused },
      });
    return r.grant;
  }

  /** Ends a pending or active grant (Profil → Préférences, or the bank); false if it had ended already. */
  async deactivate(req: { id: string; reason: string }): Promise<boolean> {
    checkRequest(req, "a grant deactivation is { id, reason }");
    const id = checkGrantId(req.id);
    checkWords(req.reason, "a reason");
    const g = await this.#known(id);
    const at = this.#now();
    return this.#store.deactivateGrant(
      id,
      at,
      req.reason,
      this.#entry(at, g.owner, "deactivated", grantDetail(id, req.reason)),
    );
  }

  /**
   * Whether the grant is usable now: active, none of its subjects' `grant` epochs moved since its creation,
   * and — given the grant's epoch a ticket was minted under — not activated again since. One read.
   */
  async check(id: string, epoch?: number): Promise<GrantCheck> {
    checkGrantId(id);
    if (epoch !== undefined) wholeNumber(epoch, "a grant's epoch");
    const r = await this.#store.checkGrant(id);
    if (!r) return { valid: false, state: "unknown" };
    const g = r.grant;
    if (g.state !== "active")
      return { valid: false, state: g.state, ...(g.reason !== undefined ? { reason: g.reason } : {}) };
    if (!r.current) return { valid: false, state: g.state, reason: "revoked" };
    if (epoch !== undefined && epoch !== g.epoch)
      return { valid: false, state: g.state, reason: "reactivated" };
    return { valid: true, state: g.state };
  }

  /** One grant by its id; undefined if none has it. */
  async get(id: string): Promise<GrantRecord | undefined> {
    return this.#store.grant(checkGrantId(id));
  }

  /** A user's grants (as owner or target), newest first. */
  async list(user: string, limit?: number): Promise<GrantRecord[]> {
    return this.#store.grants(checkSubjectId(user, "the user"), pageLimit(limit));
  }

  async #known(id: string): Promise<GrantRecord> {
    const g = await this.#store.grant(id);
    if (!g) throw new CapkitError("GRANT_UNKNOWN", `no grant ${id}`);
    return g;
  }

  #entry(at: number, owner: string, result: string, detail: string): AuditEntry {
    return {
      at,
      credentialId: "",
      action: "grant",
      result,
      detail,
      user: owner,
      ...(this.#actor !== undefined ? { actor: this.#actor } : {}),
    };
  }
}

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

function checkGrantId(id: unknown): string {
  if (typeof id !== "string" || !GRANT_ID.test(id)) throw invalid("a grant id is 32 lower-case hex digits");
  return id;
}
