import { CapkitError, fromBase64 } from "@capkit/core";
import type { SignedOperation } from "@capkit/provision";
import type { DecisionResult, DeviceDecision } from "@capkit/verify/approvals";
import type { DeviceLoginResult, DevOutbox, InstanceStatus } from "@capkit/verify/provisioning";
import { type ActivationOffer, Provisioner } from "@capkit/verify/provisioning";
import { qrActivationText } from "@capkit/web/sogesmart/qr";
import type Database from "better-sqlite3";
import { type Codes, type Judgement, type PasswordHolder, sogenetSubject } from "./codes.js";
import type { Operations } from "./operations.js";
import type { Passwords } from "./passwords.js";
import type { Sessions } from "./sessions.js";
import type { Customers } from "./users.js";

/**
 * The bank's side of SogeSmart, the app of its SOGENET customers (the same customers, the same verifier): a
 * thin layer over @capkit/verify's Provisioner — activation by SMS (« ACTIVATION SOGESMART », « MOT DE PASSE
 * PERDU », the new app version) or from a Sogenet session's QR code, logins from the app — plus what the
 * Provisioner leaves to the bank: who uses the app (a SogeSmart account and its users, each with the phone the
 * codes go to), and the app's password.
 *
 * The app's password, « nouveau mot de passe personnel à conserver », set right after an activation with the
 * device's first proof and checked by the bank (scrypt), never on the phone. Two modes:
 * - default: the password is personal, and counted in the user's own lockout (`sogesmart:ID`). What another
 *   user of the account does — « mot de passe perdu », a change in Paramétrages, the new app version — changes
 *   nothing for this user. A device whose token was replaced, reset, or activated below the bank's app-version
 *   floor is told to reactivate only after its signature proved it genuine, and nothing is counted.
 * - legacy (`legacySharedPassword`, SOGESMART_LEGACY=1): the guide's own behaviour, kept to show it — one
 *   password per SogeSmart account, shared by its users, one failure count for all of them. When user A resets
 *   it, changes it or activates the new version, user B's app keeps typing the old one and the 5th failure
 *   blocks the account: « Votre compte a été bloqué suite à 5 tentatives de saisie d'un mot de passe erroné ».
 *
 * Logins: the device's proof first (the Provisioner: a single-use challenge, the TOTP and an ECDSA signature
 * over both, counted in the customer's SOGENET lockout), then the password in its holder's lockout. A device
 * that must reactivate learns it before its password is looked at.
 */
export type ActivationPurpose = "first" | "new-version" | "reactivation" | "password-lost" | "qr";
const PURPOSES: readonly ActivationPurpose[] = ["first", "new-version", "reactivation", "password-lost"];

export interface SogesmartOptions {
  readonly db: Database.Database;
  readonly customers: Customers;
  readonly codes: Codes;
  readonly passwords: Passwords;
  readonly sessions: Sessions;
  /** The approvals « Pass Sécurité » decides (operations.ts): the app's device key is registered there. */
  readonly operations: Operations;
  /** The bank's receipt keys, which the app receives at activation to check the documents it shows. */
  readonly bankKeys: Readonly<Record<string, Uint8Array>>;
  readonly outbox: DevOutbox;
  readonly now: () => number;
  readonly legacySharedPassword: boolean;
  /** The oldest app version the bank accepts (its app-version floor), if any. */
  readonly minAppVersion: string | undefined;
  /** Seconds between two SMS codes for one identifiant (the Provisioner's default when undefined). */
  readonly startIntervalSeconds?: number | undefined;
}

/** The SPAKE2 identity of this bank (@capkit/provision): the app takes it from the bank's offer. */
export const SERVER_IDENTITY = "sogesmart.bank-login";
/** How long after its activation a device may set its first password. */
const FIRST_PASSWORD_MS = 15 * 60_000;
const IDENTIFIANT = /^[0-9]{8}$/;
const PASSWORD = /^[0-9]{6}$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sogesmart_users (
  identifiant TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  phone TEXT NOT NULL UNIQUE,
  password TEXT
);
CREATE TABLE IF NOT EXISTS sogesmart_accounts (
  id TEXT PRIMARY KEY,
  password TEXT
);
CREATE TABLE IF NOT EXISTS sogesmart_activations (
  activation_id TEXT PRIMARY KEY,
  identifiant TEXT NOT NULL,
  purpose TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  password_set_at INTEGER
);
CREATE TABLE IF NOT EXISTS sogesmart_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`;

export interface DeviceProof {
  readonly credential: string;
  readonly challenge: string;
  readonly otp: string;
  readonly signature: string;
}

export type AppLogin =
  | { readonly result: "accepted"; readonly identifiant: string; readonly name: string }
  | { readonly result: "rejected"; readonly lastTry: boolean }
  | { readonly result: "locked"; readonly maxFailures: number }
  | { readonly result: "reactivation-required"; readonly reason: string };

export class Sogesmart {
  readonly legacy: boolean;
  readonly #o: SogesmartOptions;
  /** The app's own activations: an SMS code and the customer's Sogenet password (« ACTIVATION SOGESMART »). */
  readonly #app: Provisioner;
  /** Activations started from a Sogenet session: its QR code, then an SMS code. */
  readonly #desktop: Provisioner;

  constructor(o: SogesmartOptions) {
    this.#o = o;
    this.legacy = o.legacySharedPassword;
    o.db.exec(SCHEMA);
    const { verifier, store, keys } = o.codes.provisioning();
    const common = {
      verifier,
      store,
      keys,
      sms: o.outbox,
      now: o.now,
      bankKeys: o.bankKeys,
      directory: async (user: string) => {
        const u = this.#user(identifiantOf(user));
        return u ? { phone: u.phone } : undefined;
      },
    };
    const policy = {
      serverIdentity: SERVER_IDENTITY,
      appName: "SogeSmart",
      ...(o.minAppVersion !== undefined ? { minAppVersion: o.minAppVersion } : {}),
      ...(o.startIntervalSeconds !== undefined ? { startIntervalSeconds: o.startIntervalSeconds } : {}),
    };
    this.#app = new Provisioner({
      ...common,
      policy: { ...policy, features: ["sms", "password"] },
      // The second feature: the customer's SOGENET password (the Provisioner counts it in the one lockout).
      password: (user, candidate) =>
        o.passwords.check(candidate, o.customers.get("sogenet", identifiantOf(user))?.password),
    });
    this.#desktop = new Provisioner({ ...common, policy: { ...policy, features: ["web-session", "sms"] } });
  }

  /** A SOGENET customer as a SogeSmart user of `account`, whose codes go to `phone`. */
  async addUser(identifiant: string, account: string, phone: string): Promise<void> {
    this.#o.db
      .prepare("INSERT INTO sogesmart_accounts (id) VALUES (?) ON CONFLICT (id) DO NOTHING")
      .run(account);
    this.#o.db
      .prepare("INSERT INTO sogesmart_users (identifiant, account, phone) VALUES (?, ?, ?)")
      .run(identifiant, account, phone);
    // Both holders registered, whichever mode runs now: a bank switched between modes counts both for good.
    await this.#o.codes.addPasswordHolder({ kind: "user", id: identifiant });
    await this.#o.codes.addPasswordHolder({ kind: "account", id: account });
  }

  /** « ACTIVATION SOGESMART » / « MOT DE PASSE PERDU »: a code by SMS; the same answer for a stranger. */
  async start(input: {
    identifiant: unknown;
    appVersion: unknown;
    purpose: unknown;
    idempotencyKey: string;
  }): Promise<ActivationOffer> {
    const identifiant = checked(input.identifiant, IDENTIFIANT, "identifiant is 8 digits");
    const purpose = PURPOSES.find((p) => p === input.purpose);
    if (!purpose) throw new CapkitError("INPUT_INVALID", `purpose is one of ${PURPOSES.join(", ")}`);
    const { offer } = await this.#app.start({
      user: sogenetSubject(identifiant),
      appVersion: input.appVersion as string,
      idempotencyKey: input.idempotencyKey,
    });
    this.#remember(offer.activationId, identifiant, purpose);
    return offer;
  }

  /**
   * From a SOGENET session (« Activer SogeSmart sur mon téléphone »): the QR code's text; an SMS goes out. The
   * customer is known here (logged in): one who is no SogeSmart user is told so (INPUT_INVALID).
   */
  async startFromSession(identifiant: string): Promise<{ qr: string; expiresAt: number }> {
    if (!this.#user(identifiant)) throw new CapkitError("INPUT_INVALID", "not a SogeSmart user");
    // The app's own version is checked at its steps; the start only has to pass the bank's floor.
    const appVersion = this.#o.minAppVersion ?? "5.0.0";
    const { offer } = await this.#desktop.start({ user: sogenetSubject(identifiant), appVersion });
    this.#remember(offer.activationId, identifiant, "qr");
    return {
      qr: qrActivationText({
        activationId: offer.activationId,
        regId: offer.regId,
        serverIdentity: offer.serverIdentity,
        webSession: offer.webSession!,
      }),
      expiresAt: offer.expiresAt,
    };
  }

  /** One protocol message of the app; the reply (every activation's steps go through one door). */
  async step(text: string): Promise<string> {
    return (await this.#app.step(text)).reply;
  }

  challenge(credential: unknown): Promise<{ challenge: string; expiresAt: number }> {
    return this.#app.issueLoginChallenge(credential as string);
  }

  /**
   * The device's first proof after its activation, with the new personal password (AUTHENTIFICATION). Once per
   * activation, within 15 minutes. « Mot de passe perdu » is a security event: every SOGENET session of the
   * customer ends. In the legacy mode the password is the account's: every user of it must now type this one.
   */
  async setFirstPassword(proof: DeviceProof, password: unknown): Promise<{ identifiant: string }> {
    const next = checked(password, PASSWORD, "the password is 6 digits");
    const possession = await this.#possession(proof);
    if (possession.result !== "proved") throw refused(possession.answer);
    const { identifiant, instance } = possession;
    const row = this.#o.db
      .prepare(
        `SELECT purpose, created_at, password_set_at FROM sogesmart_activations WHERE activation_id = ?`,
      )
      .get(instance.activationId) as
      | { purpose: ActivationPurpose; created_at: number; password_set_at: number | null }
      | undefined;
    const now = this.#o.now();
    if (!row || row.password_set_at !== null || now - row.created_at > FIRST_PASSWORD_MS)
      throw new CapkitError("INPUT_INVALID", "this device's first password was set already, or too late");
    const user = this.#user(identifiant);
    if (!user) throw new CapkitError("INPUT_INVALID", "not a SogeSmart user");
    const hash = await this.#o.passwords.hash(next);
    const set = this.#o.db.transaction(() => {
      const r = this.#o.db
        .prepare(
          "UPDATE sogesmart_activations SET password_set_at = ? WHERE activation_id = ? AND password_set_at IS NULL",
        )
        .run(now, instance.activationId);
      if (r.changes !== 1) return false;
      this.#setPassword(user, hash);
      return true;
    })();
    if (!set) throw new CapkitError("INPUT_INVALID", "this device's first password was set already");
    await this.#o.codes.unlockHolder(this.#holder(identifiant, user.account));
    // « Pass Sécurité »: the device that just proved its key approves operations from now on.
    await this.#o.operations.registerDevice(
      proof.credential,
      fromBase64(instance.devicePublicKey, "the device key"),
    );
    if (row.purpose === "password-lost") this.#o.sessions.endAllOf(identifiant);
    return { identifiant };
  }

  /** A login from the app: the device's proof, then the password (nothing about which one failed). */
  async login(proof: DeviceProof, password: unknown): Promise<AppLogin> {
    const candidate = checked(password, PASSWORD, "the password is 6 digits");
    const possession = await this.#possession(proof);
    if (possession.result !== "proved") return possession.answer;
    const { identifiant } = possession;
    const user = this.#user(identifiant);
    const holder = this.#holder(identifiant, user?.account);
    const ok = await this.#o.passwords.check(candidate, user && this.#passwordOf(user));
    const j = await this.#o.codes.checkAppPassword(holder, ok && user !== undefined);
    if (j.result !== "accepted") return this.#refusal(j);
    const name = this.#o.customers.get("sogenet", identifiant)?.name ?? "";
    return { result: "accepted", identifiant, name };
  }

  /** Paramétrages → « Modifier le mot de passe »: a login, then the new password for its holder. */
  async changePassword(proof: DeviceProof, password: unknown, newPassword: unknown): Promise<AppLogin> {
    const next = checked(newPassword, PASSWORD, "the new password is 6 digits");
    const r = await this.login(proof, password);
    if (r.result !== "accepted") return r;
    const user = this.#user(r.identifiant)!;
    this.#setPassword(user, await this.#o.passwords.hash(next));
    return r;
  }

  /**
   * « Pass Sécurité »: the operation waiting for this app, with the bank-signed document the app checks and
   * shows; the device's proof first (nothing about any operation to a device that did not prove itself).
   */
  async pendingOperation(
    proof: DeviceProof,
  ): Promise<{ result: "none" } | { result: "operation"; id: string; signed: SignedOperation } | AppLogin> {
    const possession = await this.#possession(proof);
    if (possession.result !== "proved") return possession.answer;
    const op = await this.#o.operations.pendingFor(possession.instance.user, proof.credential);
    return op ? { result: "operation", ...op } : { result: "none" };
  }

  /**
   * The customer's decision in the app: the device's signature over the operation's digest, and — to accept —
   * the app's password too, checked like a login (two factors: the device key and what the customer knows;
   * PSD2 RTS Art. 4). A decline needs the device's proof only. Then @capkit/verify decides (the digest must be
   * the operation's, the signature the registered key's) and answers with the signed receipt.
   */
  async decideOperation(
    proof: DeviceProof,
    password: unknown,
    id: unknown,
    device: DeviceDecision,
  ): Promise<DecisionResult | AppLogin> {
    if (typeof id !== "string") throw new CapkitError("INPUT_INVALID", "an operation id is a string");
    let identifiant: string;
    if (device?.decision === "accept") {
      const login = await this.login(proof, password);
      if (login.result !== "accepted") return login;
      identifiant = login.identifiant;
    } else {
      const possession = await this.#possession(proof);
      if (possession.result !== "proved") return possession.answer;
      identifiant = possession.identifiant;
    }
    // Another app's operation is not this one's to decide: nothing judged (its owner's lockout untouched).
    const user = sogenetSubject(identifiant);
    if ((await this.#o.operations.credentialOf(user, id)) !== proof.credential)
      return { result: "closed", reason: "revoked" };
    return this.#o.operations.decideOnDevice(user, id, device);
  }

  /** FAIRE UNE DEMANDE D'ABONNEMENT: kept for an adviser (demo: in the bank's database). */
  subscribe(request: Record<string, string>): void {
    this.#o.db
      .prepare("INSERT INTO sogesmart_subscriptions (request, created_at) VALUES (?, ?)")
      .run(JSON.stringify(request), this.#o.now());
  }

  /** The SMS of one phone, from the development outbox (oldest first). */
  async inbox(phone: string): Promise<{ seq: number; at: number; text: string }[]> {
    return (await this.#o.outbox.list({ to: phone, limit: 20 })).map((m) => ({
      seq: m.seq,
      at: m.at,
      text: m.text,
    }));
  }

  /** The customer's app that approves operations (« Pass Sécurité »): the newest active instance, if any. */
  async approvingApp(identifiant: string): Promise<string | undefined> {
    const s = await this.#app.status(sogenetSubject(identifiant));
    const active = s.instances.filter((i) => i.state === "active").sort((a, b) => b.createdAt - a.createdAt);
    return active[0]?.credential;
  }

  /** What support sees (the Provisioner's status of the customer). */
  status(identifiant: string) {
    return this.#app.status(sogenetSubject(identifiant));
  }

  /** The device's proof through the Provisioner; "proved" with the instance it proved. */
  async #possession(
    proof: DeviceProof,
  ): Promise<
    | { result: "proved"; identifiant: string; instance: InstanceStatus }
    | { result: "refused"; answer: AppLogin }
  > {
    if (typeof proof !== "object" || proof === null)
      throw new CapkitError("INPUT_INVALID", "a device proof is an object");
    const d: DeviceLoginResult = await this.#app.verifyDevice({
      credential: proof.credential,
      challenge: proof.challenge,
      code: proof.otp,
      signature: proof.signature,
    });
    // A replay answered "rejected, replayed" is the same code as the one just accepted, under a signature over a
    // fresh single-use challenge: the device is proved again (a login right after the activation's code, a
    // wrong password typed again within the same 30 s); it is not counted.
    const proved = d.result === "accepted" || (d.result === "rejected" && d.replayed === true);
    if (!proved) {
      if (d.result === "reactivation-required")
        return { result: "refused", answer: { result: "reactivation-required", reason: d.reason } };
      if (d.result === "locked")
        return { result: "refused", answer: { result: "locked", maxFailures: this.#o.codes.maxFailures } };
      return { result: "refused", answer: { result: "rejected", lastTry: d.triesLeft === 1 } };
    }
    const instance = await this.#o.codes.provisioning().store.instance(proof.credential);
    if (!instance) throw new CapkitError("STORE_UNAVAILABLE", "the proved instance is gone");
    return { result: "proved", identifiant: identifiantOf(instance.user), instance };
  }

  #refusal(j: Judgement): AppLogin {
    return j.result === "locked"
      ? { result: "locked", maxFailures: this.#o.codes.maxFailures }
      : { result: "rejected", lastTry: j.lastTry };
  }

  #remember(activationId: string, identifiant: string, purpose: ActivationPurpose): void {
    this.#o.db
      .prepare(
        `INSERT INTO sogesmart_activations (activation_id, identifiant, purpose, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (activation_id) DO NOTHING`,
      )
      .run(activationId, identifiant, purpose, this.#o.now());
  }

  #user(
    identifiant: string,
  ): { identifiant: string; account: string; phone: string; password: string | null } | undefined {
    return this.#o.db.prepare("SELECT * FROM sogesmart_users WHERE identifiant = ?").get(identifiant) as
      | { identifiant: string; account: string; phone: string; password: string | null }
      | undefined;
  }

  /** The password this user types: their own, or (legacy) the account's. */
  #passwordOf(u: { account: string; password: string | null }): string | undefined {
    if (!this.legacy) return u.password ?? undefined;
    const a = this.#o.db.prepare("SELECT password FROM sogesmart_accounts WHERE id = ?").get(u.account) as
      | { password: string | null }
      | undefined;
    return a?.password ?? undefined;
  }

  #setPassword(u: { identifiant: string; account: string }, hash: string): void {
    if (this.legacy)
      this.#o.db.prepare("UPDATE sogesmart_accounts SET password = ? WHERE id = ?").run(hash, u.account);
    else
      this.#o.db
        .prepare("UPDATE sogesmart_users SET password = ? WHERE identifiant = ?")
        .run(hash, u.identifiant);
  }

  #holder(identifiant: string, account: string | undefined): PasswordHolder {
    return this.legacy && account !== undefined
      ? { kind: "account", id: account }
      : { kind: "user", id: identifiant };
  }
}

function identifiantOf(user: string): string {
  return user.replace(/^sogenet:/, "");
}

function checked(value: unknown, pattern: RegExp, message: string): string {
  if (typeof value !== "string" || !pattern.test(value)) throw new CapkitError("INPUT_INVALID", message);
  return value;
}

/** A device proof that did not hold where one was required: refused without a word about why. */
function refused(answer: AppLogin): CapkitError {
  return new CapkitError("ACTIVATION_REFUSED", "the device's proof was refused", {
    details: { answer },
  });
}
