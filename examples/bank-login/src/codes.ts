import type { CapIssuerRecord } from "@capkit/emv-cap";
import {
  type KeyProvider,
  type SoftwareKeyMaterial,
  SoftwareKeyProvider,
  Verifier,
  type VerifyResult,
} from "@capkit/verify";
import { Approvals, Grants, SecurityEvents } from "@capkit/verify/approvals";
import { SqliteProvisioningStore, SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";
import type { BankName } from "./users.js";

/**
 * Everything the bank asks of @capkit/verify, in one place: enrol a card or a token, check a login code or a
 * password (the bank checks the scrypt hash itself and reports the outcome), issue and check a signing
 * challenge, unlock. The rest of the example never touches the verifier.
 *
 * One lockout, the verifier's: codes and passwords count in the same per-customer failure count, and an
 * identifiant nobody holds is counted and locked exactly like a customer's, so after `maxFailures` wrong
 * entries both answer "locked" — nothing tells them apart. The verifier's subject is the bank's name and the
 * customer's id (`sogenet:10203040`): each bank's customers have their own counts, and a code typed on one
 * bank's page is never tried against the other bank's devices.
 */
export interface Judgement {
  readonly result: "accepted" | "rejected" | "locked";
  /** One more failure locks (at most 5, PSD2 RTS Art. 4(3)(b)): the customer is warned first (Art. 4(4)). */
  readonly lastTry: boolean;
  /** The code just accepted, sent again (a double submit, a retrying proxy): refused, not counted. */
  readonly replayed: boolean;
}

/**
 * Who holds a SogeSmart app password, as a lockout subject of its own: the user (`sogesmart:ID`, the default:
 * a personal password) or, in the guide's legacy mode, the SogeSmart account its users share
 * (`sogesmart-account:ID`). Apart from the customer's SOGENET subject on purpose: the app's device proof is
 * judged there, and its accepted code would clear a password failure counted in the same place.
 */
export type PasswordHolder = { readonly kind: "user" | "account"; readonly id: string };

export class Codes {
  readonly #verifier: Verifier;
  readonly #store: SqliteStore;
  readonly #keys: KeyProvider;
  readonly #dbPath: string;
  readonly #now: () => number;
  #provisioningStore: SqliteProvisioningStore | undefined;
  #security: SqliteSecurityStore | undefined;
  #approvals: Approvals | undefined;
  #events: SecurityEvents | undefined;
  #grants: Grants | undefined;

  constructor(dbPath: string, keys: SoftwareKeyMaterial, now: () => number) {
    this.#dbPath = dbPath;
    this.#now = now;
    this.#store = new SqliteStore(dbPath);
    this.#keys = new SoftwareKeyProvider(keys);
    this.#verifier = new Verifier({ store: this.#store, keys: this.#keys, now });
  }

  /**
   * What the SogeSmart Provisioner stands on (sogesmart.ts): this verifier, the provisioning tables in the same
   * database (a step and the token it enrols are one commit), and the key provider that seals each activation.
   */
  provisioning(): { verifier: Verifier; store: SqliteProvisioningStore; keys: KeyProvider } {
    this.#provisioningStore ??= new SqliteProvisioningStore(this.#store);
    return { verifier: this.#verifier, store: this.#provisioningStore, keys: this.#keys };
  }

  /**
   * The approvals of very sensitive operations (operations.ts): on this verifier — its lockout counts every
   * signature code and device decision —, the security tables in the same database, and the key provider's
   * receipt key signing the receipts and the documents the app shows.
   */
  approvals(): Approvals {
    this.#approvals ??= new Approvals({
      verifier: this.#verifier,
      store: this.security(),
      keys: this.#keys,
      now: this.#now,
      actor: "bank-login",
    });
    return this.#approvals;
  }

  /** Security events (a password reset, an administrator change…) and the epochs they move (§12.3). */
  events(): SecurityEvents {
    this.#events ??= new SecurityEvents({ store: this.security(), now: this.#now, actor: "bank-login" });
    return this.#events;
  }

  /** The passerelle's grants (§12.4): activated by an approved consent operation, revoked by events. */
  grants(): Grants {
    this.#grants ??= new Grants({ store: this.security(), now: this.#now, actor: "bank-login" });
    return this.#grants;
  }

  /** The security store (operations, receipts, devices, events, grants) in verify.db, opened once. */
  security(): SqliteSecurityStore {
    this.#security ??= new SqliteSecurityStore(this.#dbPath);
    return this.#security;
  }

  /** A SogeSmart password holder whose failures are counted for good (registered like a customer). */
  async addPasswordHolder(holder: PasswordHolder): Promise<void> {
    await this.#verifier.addUser(holderSubject(holder));
  }

  /** A SogeSmart app password the bank checked (scrypt), in its holder's own lockout. */
  async checkAppPassword(holder: PasswordHolder, ok: boolean): Promise<Judgement> {
    return judgement(
      await this.#verifier.checkFactor({ user: holderSubject(holder), factor: "app-password", ok }),
    );
  }

  /** A new app password set after an activation by SMS (« Mot de passe perdu »): its holder's lock lifted. */
  async unlockHolder(holder: PasswordHolder): Promise<void> {
    await this.#verifier.unlockUser(holderSubject(holder));
  }

  /** Failures that lock an account: the number the bank's messages quote. */
  get maxFailures(): number {
    return this.#verifier.policy.maxFailures;
  }

  async enrollCard(bank: BankName, user: string, id: string, record: CapIssuerRecord, lastAtc: number) {
    await this.#verifier.enroll({ id, user: subject(bank, user), kind: "cap", record, lastAtc });
  }

  async enrollTotp(bank: BankName, user: string, id: string, secret: Uint8Array): Promise<void> {
    await this.#verifier.enroll({ id, user: subject(bank, user), kind: "totp", secret, digits: 6, step: 30 });
  }

  /** A customer who logs in with a password only: the verifier counts their failures for good. */
  async addPasswordCustomer(bank: BankName, user: string): Promise<void> {
    await this.#verifier.addUser(subject(bank, user));
  }

  /** A login code (the Sésame's CODE function, or the SGpass code) against the customer's active devices. */
  async checkLogin(bank: BankName, user: string, code: string): Promise<Judgement> {
    return judgement(await this.#verifier.verify({ user: subject(bank, user), code }));
  }

  /** A password the bank checked itself (scrypt): counted with the codes, in the same lockout. */
  async checkPassword(bank: BankName, user: string, ok: boolean): Promise<Judgement> {
    return judgement(await this.#verifier.checkFactor({ user: subject(bank, user), factor: "password", ok }));
  }

  /** The last ATC (card) or time step (token) the bank accepted. */
  async lastAccepted(credential: string): Promise<number> {
    return (await this.#verifier.status(credential)).last;
  }

  /** The adviser's unlock: the customer's failure count cleared and the lock lifted. */
  async unlock(bank: BankName, user: string): Promise<void> {
    await this.#verifier.unlockUser(subject(bank, user));
  }

  async close(): Promise<void> {
    await this.#security?.close();
    await this.#store.close();
  }
}

function subject(bank: BankName, user: string): string {
  return `${bank}:${user}`;
}

/** The verifier's user id of a SOGENET customer (the Provisioner's user: the customer's one lockout). */
export function sogenetSubject(identifiant: string): string {
  return subject("sogenet", identifiant);
}

function holderSubject(h: PasswordHolder): string {
  return `${h.kind === "user" ? "sogesmart" : "sogesmart-account"}:${h.id}`;
}

function judgement(r: Pick<VerifyResult, "result" | "triesLeft" | "replayed">): Judgement {
  return {
    result: r.result,
    lastTry: r.result === "rejected" && r.triesLeft === 1,
    replayed: r.replayed === true,
  };
}
