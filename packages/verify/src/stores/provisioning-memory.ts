import type { AuditEntry, StoredCredential } from "../model.js";
import { activationEntry, endedInstanceEntry, rateLimitedEntry } from "../provisioning/audit.js";
import type {
  ActivationChange,
  ActivationRecord,
  InstanceRecord,
  InstanceStatus,
  LoginChallenge,
  ProvisioningStore,
  ProvisioningUserRecord,
  ResetInput,
  ResetResult,
  StartInput,
  StartResult,
} from "../provisioning/model.js";
import { allocate, rateDecision } from "../provisioning/rules.js";
import { addBoundedChallenge } from "./bounded-challenges.js";
import { type MemoryInternals, STORE_INTERNALS } from "./internals.js";
import type { MemoryStore } from "./memory.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const DAY_MS = 86_400_000;
const UNFINISHED = new Set(["awaiting-a1", "awaiting-a2", "awaiting-a4"]);

/**
 * Activations and instances in this process's memory, beside a `MemoryStore`'s credentials. Each operation
 * runs to completion without an await — its own maps and the memory store's writers alike — so it is atomic
 * in JavaScript's single thread. Activation rows are dropped a day after they expire, and unknown
 * identifiants' rows a day after their last start, so a flood of made-up identifiants stays bounded.
 */
export class MemoryProvisioningStore implements ProvisioningStore {
  readonly #state: MemoryInternals;
  /** In order of last start (the least recently started first), for the purge. */
  readonly #users = new Map<string, Mutable<ProvisioningUserRecord> & { lastAt: number }>();
  /** In order of creation (the oldest first). */
  readonly #activations = new Map<string, ActivationRecord>();
  readonly #startKeys = new Map<string, string>();
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #challenges = new Map<string, LoginChallenge>();

  /** `actor`: the service or administrator this store's audit rows name (as `VerifierOptions.actor`). */
  constructor(state: MemoryStore, options: { actor?: string } = {}) {
    this.#state = state[STORE_INTERNALS](options.actor);
  }

  /** {@inheritDoc ProvisioningStore.start} */
  async start(input: StartInput): Promise<StartResult> {
    const { user, now } = input;
    this.#purge(now);
    if (input.startKey !== undefined) {
      const id = this.#startKeys.get(`${user}\0${input.startKey}`);
      const retried = id === undefined ? undefined : this.#activations.get(id);
      if (retried) return { kind: "retried", record: retried };
    }
    const row = this.#users.get(user);
    const rate = rateDecision(row?.sends ?? [], now, input.rate);
    if (!rate.ok) {
      this.#state.audit(rateLimitedEntry(user, now));
      return { kind: "rate-limited", retryAfterMs: rate.retryAfterMs };
    }
    const known = input.known ? allocate(row, input.newSerial) : undefined;
    const { record, audit } = input.build(known?.serial ?? input.newSerial, known?.instance ?? 1);
    this.#supersede(record, now);
    this.#users.delete(user);
    this.#users.set(user, {
      user,
      serial: known?.serial ?? row?.serial,
      nextInstance: known?.nextInstance ?? row?.nextInstance ?? 1,
      sends: rate.sends,
      graceFrom: input.graceMs !== undefined ? now : row?.graceFrom,
      graceUntil: input.graceMs !== undefined ? now + input.graceMs : row?.graceUntil,
      lastAt: now,
    });
    this.#activations.set(record.id, record);
    if (record.startKey !== undefined) this.#startKeys.set(`${user}\0${record.startKey}`, record.id);
    for (const a of audit) this.#state.audit(a);
    return { kind: "started", record };
  }

  /** Ends the unfinished activations of the new one's slot, and revokes the slot's pending credentials. */
  #supersede(next: ActivationRecord, now: number): void {
    for (const a of this.#activations.values())
      if (
        a.user === next.user &&
        a.slot === next.slot &&
        a.ended === undefined &&
        UNFINISHED.has(a.state.phase)
      ) {
        this.#activations.set(a.id, { ...a, ended: "superseded", secrets: undefined });
        this.#state.audit(activationEntry(a, now, "superseded", `by ${next.id}`));
      }
    for (const i of this.#instances.values())
      if (
        i.user === next.user &&
        i.slot === next.slot &&
        this.#state.credential(i.credentialId)?.state === "pending"
      )
        this.#end(i, "superseded", now);
  }

  /** Revokes an instance's credential, if it still has one, and records why. */
  #end(i: InstanceRecord, reason: string, now: number): boolean {
    if (!this.#state.revoke(i.credentialId, endedInstanceEntry(i, now, reason))) return false;
    this.#instances.set(i.credentialId, { ...i, ended: reason, endedAt: now });
    return true;
  }

  /** Activations a day past their expiry, unknown identifiants a day after their last start. */
  #purge(now: number): void {
    for (const a of this.#activations.values()) {
      if (a.state.expiresAt * 1000 > now - DAY_MS) break;
      this.#activations.delete(a.id);
      if (a.startKey !== undefined) this.#startKeys.delete(`${a.user}\0${a.startKey}`);
    }
    for (const u of this.#users.values()) {
      if (u.lastAt > now - DAY_MS) break;
      if (u.serial === undefined) this.#users.delete(u.user);
    }
  }

  /** {@inheritDoc ProvisioningStore.activation} */
  async activation(id: string): Promise<ActivationRecord | undefined> {
    return this.#activations.get(id);
  }

  /** {@inheritDoc ProvisioningStore.advance} */
  async advance(change: ActivationChange): Promise<boolean> {
    const a = this.#activations.get(change.id);
    if (!a || a.ended !== undefined || a.state.rev !== change.expectedRev) return false;
    if (change.enrol) {
      const { credential, audit, instance } = change.enrol;
      const replaces = this.#activeInSlot(instance);
      this.#state.insertCredential({ ...credential, replaces }, audit);
      this.#instances.set(instance.credentialId, instance);
    }
    this.#activations.set(a.id, { ...a, state: change.state, secrets: change.secrets });
    for (const e of change.audit) this.#state.audit(e);
    return true;
  }

  /** The active credential of the instance's user and slot (the one a new instance replaces), if any. */
  #activeInSlot(i: InstanceRecord): string | undefined {
    let found: InstanceRecord | undefined;
    for (const o of this.#instances.values())
      if (
        o.user === i.user &&
        o.slot === i.slot &&
        o.credentialId !== i.credentialId &&
        this.#state.credential(o.credentialId)?.state === "active" &&
        (!found || o.createdAt >= found.createdAt)
      )
        found = o;
    return found?.credentialId;
  }

  /** {@inheritDoc ProvisioningStore."instance"} */
  async instance(credentialId: string): Promise<InstanceStatus | undefined> {
    const i = this.#instances.get(credentialId);
    return i && this.#status(i);
  }

  #status(i: InstanceRecord): InstanceStatus {
    const c: StoredCredential | undefined = this.#state.credential(i.credentialId);
    return { ...i, state: c ? c.state : "ended" };
  }

  /** {@inheritDoc ProvisioningStore.instances} */
  async instances(user: string): Promise<InstanceStatus[]> {
    return [...this.#instances.values()]
      .filter((i) => i.user === user)
      .sort((a, b) => a.createdAt - b.createdAt || a.instance - b.instance)
      .map((i) => this.#status(i));
  }

  /** {@inheritDoc ProvisioningStore.activations} */
  async activations(user: string, limit: number): Promise<ActivationRecord[]> {
    return [...this.#activations.values()]
      .filter((a) => a.user === user)
      .reverse()
      .slice(0, limit);
  }

  /** {@inheritDoc ProvisioningStore.user} */
  async user(user: string): Promise<ProvisioningUserRecord | undefined> {
    const u = this.#users.get(user);
    if (!u) return undefined;
    const { lastAt: _, ...rest } = u;
    return rest;
  }

  /** {@inheritDoc ProvisioningStore.reset} */
  async reset(input: ResetInput): Promise<ResetResult> {
    const { user, reason, now } = input;
    let activations = 0;
    let instances = 0;
    for (const a of this.#activations.values())
      if (a.user === user && a.ended === undefined && UNFINISHED.has(a.state.phase)) {
        this.#activations.set(a.id, { ...a, ended: reason, secrets: undefined });
        this.#state.audit(activationEntry(a, now, "reset", reason));
        activations++;
      }
    for (const i of this.#instances.values())
      if (i.user === user && i.ended === undefined && this.#end(i, reason, now)) instances++;
    const u = this.#users.get(user);
    if (u) u.sends = [];
    return { activations, instances };
  }

  /** {@inheritDoc ProvisioningStore.addLoginChallenge} */
  async addLoginChallenge(challenge: LoginChallenge, maxPerCredential: number, now: number): Promise<void> {
    addBoundedChallenge(this.#challenges, challenge, maxPerCredential, now);
  }

  /** {@inheritDoc ProvisioningStore.takeLoginChallenge} */
  async takeLoginChallenge(id: string, credentialId: string, now: number): Promise<boolean> {
    const ch = this.#challenges.get(id);
    if (!ch || ch.credentialId !== credentialId) return false;
    this.#challenges.delete(id); // taken even when expired: it is never of use again
    return ch.expiresAt > now;
  }

  /** {@inheritDoc ProvisioningStore.record} */
  async record(entry: AuditEntry): Promise<void> {
    this.#state.audit(entry);
  }
}
