import { argumentError, CapkitError, isCapkitError, toBase64 } from "@capkit/core";
import {
  type ActivationFeature,
  type ActivationOutcome,
  type ActivationServerState,
  activationServerStep,
  ID_PATTERN,
  parseActivationMessage,
  randomDigits,
  type ServerStepResult,
  startActivation,
} from "@capkit/provision";
import { checkClassOptions, checkOptions, checkRequest } from "../approvals/door.js";
import { PREPARE_ENROLMENT } from "../internal.js";
import type { KeyProvider } from "../key-provider.js";
import type { Verifier } from "../verifier.js";
import { compareAppVersions, parseAppVersion } from "./app-version.js";
import { type ActivationStep, activationEntry } from "./audit.js";
import { type DeviceLogin, type DeviceLoginResult, DeviceLogins } from "./device-login.js";
import {
  type ActivationChange,
  type ActivationRecord,
  type InstanceStatus,
  PROVISIONING_STORE_METHODS,
  type ProvisioningStore,
} from "./model.js";
import { activationCodeText, type Contact, type LetterSender, type SmsSender } from "./out-of-band.js";
import { type ProvisioningPolicy, type ProvisioningPolicyInput, provisioningPolicy } from "./policy.js";
import { credentialIdOf, type RateRule, rateDecision } from "./rules.js";
import {
  type ActivationSecretsAtRest,
  activationKey,
  newActivationKey,
  openSecrets,
  sealSecrets,
} from "./sealing.js";

/** What a {@link Provisioner} works with: the verifier and its store, the bank's policy, directory and senders. */
export interface ProvisionerOptions {
  /** The verifier whose store the provisioning store lives beside (the same database). */
  readonly verifier: Verifier;
  /**
   * Where activations and instances live, on the verifier's store's connection: `MemoryProvisioningStore`,
   * `SqliteProvisioningStore` (`@capkit/verify/sqlite`) or `PostgresProvisioningStore` (`@capkit/verify/postgres`).
   */
  readonly store: ProvisioningStore;
  /** The verifier's KeyProvider: it seals each activation's key (src/provisioning/sealing.ts). */
  readonly keys: KeyProvider;
  /** The bank's policy, checked when the Provisioner is made ({@link provisioningPolicy}). */
  readonly policy: ProvisioningPolicyInput;
  /**
   * The bank's directory: where an identifiant's codes go, or undefined for an identifiant nobody holds — which
   * gets the same answer as a customer, and no code (no enumeration).
   */
  readonly directory: (user: string) => Promise<Contact | undefined>;
  /** Needed when the policy has `sms`. */
  readonly sms?: SmsSender;
  /** Needed when the policy has `letter`. */
  readonly letters?: LetterSender;
  /**
   * Needed when the policy has `password`: the customer's banking password against the bank's hash (scrypt…).
   * Its outcome is counted in the user's one lockout (`Verifier.checkFactor`), like a password typed anywhere.
   */
  readonly password?: (user: string, candidate: string) => Promise<boolean>;
  /** Ed25519 public keys the app will trust for signed operations and receipts, by key id (sent inside b2). */
  readonly bankKeys?: Readonly<Record<string, Uint8Array>>;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

/** An activation asked for by the app (« ACTIVATION SOGESMART »). */
export interface StartRequest {
  /** The customer's identifiant (the verifier's user id). */
  readonly user: string;
  /** The app's version (1–4 dot-separated numbers); below the policy's floor the start is refused. */
  readonly appVersion: string;
  /** The device slot (1 … maxDevices, default 1): a new activation replaces the slot's device. */
  readonly slot?: number;
  /** 32 hex digits: a retried start with the same key answers the same activation, and sends nothing. */
  readonly idempotencyKey?: string;
}

/** What the app needs to run the protocol (the same shape for an identifiant nobody holds). */
export interface ActivationOffer {
  /** The activation's id (32 hex digits): every message of the app names it. */
  readonly activationId: string;
  /** The registration id (32 hex digits): the device's SPAKE2 identity, which the password `w` is derived with. */
  readonly regId: string;
  /** The bank's SPAKE2 identity. */
  readonly serverIdentity: string;
  /** The features the customer must provide (the codes to type, the password). */
  readonly features: readonly ActivationFeature[];
  /** Unix seconds. */
  readonly expiresAt: number;
  /**
   * The `web-session` feature's code, for the customer's authenticated online-banking session to show (a QR
   * code): never give it to the app by any other way.
   */
  readonly webSession?: string;
}

/** The codes' delivery: which features' codes went out, which could not. */
export interface Delivery {
  /** The features whose code the sender took. */
  readonly sent: readonly ActivationFeature[];
  /** The features whose code could not go (no phone number, the gateway failed): audited. */
  readonly failed: readonly ActivationFeature[];
}

/** What `start` answers: the offer for the app now, the codes' delivery later. */
export interface StartAnswer {
  /** What the app needs to run the protocol: answer it at once. */
  readonly offer: ActivationOffer;
  /**
   * Settles when the codes have been handed to the senders (never rejects: failures are audited and listed).
   * Answer the app WITHOUT awaiting it: the time an SMS takes would tell a customer from an unknown identifiant.
   */
  readonly delivered: Promise<Delivery>;
}

/** What `step` answers: the reply for the app, and what happened for the bank. */
export interface StepAnswer {
  /** The text to send back to the app. */
  readonly reply: string;
  /** What happened (for the bank's logs and counters; the reply never says which element failed). */
  readonly outcome: ActivationOutcome;
}

/** An instance as `status` shows it. */
export interface InstanceView {
  /** Its credential id, `SERIAL.N`. */
  readonly credential: string;
  /** The user's in-app serial. */
  readonly serial: string;
  /** The instance number (1 to 99). */
  readonly instance: number;
  /** The device slot. */
  readonly slot: number;
  /** `pending` (not yet used), `active`, `disabled` or `ended`. */
  readonly state: InstanceStatus["state"];
  /** Why an ended instance ended ("replaced", "superseded", "reset", "revoked", …). */
  readonly reason?: string;
  /** The app version it was activated with. */
  readonly appVersion: string;
  /** When it was bound (milliseconds since the epoch). */
  readonly createdAt: number;
}

/** An activation as `status` shows it: never its codes or secrets. Times in milliseconds since the epoch. */
export interface ActivationView {
  /** The activation's id. */
  readonly activationId: string;
  /** The credential it enrols, `SERIAL.N`. */
  readonly credential: string;
  /** The device slot. */
  readonly slot: number;
  /** Where the protocol stands: `awaiting-a1`, `awaiting-a2`, `awaiting-a4`, `active` (finished) or `dead`. */
  readonly phase: ActivationServerState["phase"];
  /** PAKE runs answered (each an online guess of the code; `maxTries` kill it). */
  readonly tries: number;
  /** Runs refused after they were answered (a wrong code or password, a bad proof). */
  readonly failures: number;
  /** When it was started. */
  readonly createdAt: number;
  /** When its code dies. */
  readonly expiresAt: number;
  /** Why it was ended from outside the protocol ("superseded", "reset", …). */
  readonly ended?: string;
  /** Whether the bank's directory knew the identifiant (an unknown one was sent no code). */
  readonly known: boolean;
}

/** What support staff see of a user's in-app tokens (`Provisioner.status`). */
export interface ProvisioningStatus {
  /** The identifiant. */
  readonly user: string;
  /** Its in-app serial, once one was allocated. */
  readonly serial?: string;
  /** Its instances, oldest first. */
  readonly instances: readonly InstanceView[];
  /** The newest first. */
  readonly activations: readonly ActivationView[];
  /** Starts in the last 24 hours, and when the next is allowed (ms). */
  readonly starts: { readonly last24h: number; readonly nextAllowedAt: number };
  /** The grace period, while it lasts (ms): see `Provisioner.grace`. */
  readonly grace?: { readonly until: number };
}

const USER = /^[\w.@:+-]{1,128}$/;
const REASON = /^[a-z][a-z0-9-]{0,31}$/;
const DAY_MS = 86_400_000;

/**
 * The bank's side of the in-app virtual Digipass (https://github.com/capkit/capkit/blob/main/docs/architecture.md §11): activation sessions over
 * `capkit-activation/1` (`@capkit/provision`: SPAKE2, RFC 9382, on P-256 with the code as the password), codes
 * from the CSPRNG sent out of band (PSD2 RTS Art. 25(2): delivered to the legitimate customer, never two features
 * through one channel, activated before use), each protocol step stored
 * — conditional on the revision it was computed from — before its reply leaves; the token enrolled `pending`
 * and made active by its first accepted code, replacing the slot's previous device in the same write; logins
 * from the app checked with the device's signature besides the code, in the verifier's one lockout.
 *
 * The bank's JSON app API is a thin layer over it: `start` (« ACTIVATION SOGESMART »), `step` (each message of
 * the app, answered with `reply`), `issueLoginChallenge` and `verifyDevice` (logins), `status` and `reset`
 * (support staff, « mot de passe perdu »).
 *
 * Every method checks its arguments at the door: a wrong type or unit (a number for a code, milliseconds for
 * seconds) is a CapkitError (INPUT_INVALID, ACTIVATION_MESSAGE_INVALID…) before anything is counted or stored.
 *
 * @example
 * On the memory store (`SqliteStore` and `SqliteProvisioningStore`, or their PostgreSQL twins, in production):
 * ```ts
 * import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
 * import { MemoryDevOutbox, MemoryProvisioningStore, Provisioner } from "@capkit/verify/provisioning";
 *
 * const state = new MemoryStore();
 * const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
 * const verifier = new Verifier({ store: state, keys });
 * const outbox = new MemoryDevOutbox(); // development only: a bank passes its SMS gateway
 * const provisioner = new Provisioner({
 *   verifier,
 *   store: new MemoryProvisioningStore(state),
 *   keys,
 *   policy: { serverIdentity: "sogesmart.example", appName: "SogeSmart" }, // an SMS code and the password
 *   directory: async (user) => (user === "alice" ? { phone: "+33612345678" } : undefined),
 *   sms: outbox,
 *   password: (user, candidate) => bank.checkPassword(user, candidate),
 * });
 *
 * // « ACTIVATION SOGESMART »: answer the app with the offer at once; the SMS goes out after.
 * const { offer } = await provisioner.start({ user: "alice", appVersion: "5.2.0" });
 * // Each message of the app (a1, a2, a4) → the reply to send back, stored before it is returned.
 * const { reply, outcome } = await provisioner.step(messageFromTheApp); // outcome "activated" after a4
 * // A login from the activated app (credential "SERIAL.N"): a challenge, then the code and the device's signature.
 * const { challenge } = await provisioner.issueLoginChallenge(credential);
 * const login = await provisioner.verifyDevice({ credential, challenge, code, signature });
 * if (login.result === "accepted") openSession("alice");
 * ```
 */
export class Provisioner {
  /** The policy it applies: the options' policy checked, with its defaults. */
  readonly policy: ProvisioningPolicy;
  readonly #verifier: Verifier;
  readonly #store: ProvisioningStore;
  readonly #keys: KeyProvider;
  readonly #directory: (user: string) => Promise<Contact | undefined>;
  readonly #sms: SmsSender | undefined;
  readonly #letters: LetterSender | undefined;
  readonly #password: ((user: string, candidate: string) => Promise<boolean>) | undefined;
  readonly #bankKeys: Readonly<Record<string, Uint8Array>>;
  readonly #now: () => number;
  readonly #logins: DeviceLogins;

  /**
   * @param options - the verifier, the store, the keys, the policy, the directory and the senders the policy's
   *   features need; ACTIVATION_POLICY_INVALID when the policy is not valid or a sender it needs is missing
   */
  constructor(options: ProvisionerOptions) {
    checkClassOptions(options, "the Provisioner's options", [
      ["verifier", "a Verifier of @capkit/verify", [PREPARE_ENROLMENT, "verify", "checkFactor"]],
      ["store", "a ProvisioningStore", PROVISIONING_STORE_METHODS],
      ["keys", "a KeyProvider", ["seal", "hmac"]],
    ]);
    this.policy = provisioningPolicy(options.policy);
    const features = this.policy.activation.features;
    // What the policy's features call: each given with the right shape, and present when a feature needs it.
    const option = (name: "sms" | "letters" | "password", needed: boolean, kind: string, method?: string) => {
      const v: unknown = options[name];
      if (v === undefined) {
        if (needed)
          throw new CapkitError(
            "ACTIVATION_POLICY_INVALID",
            `options.${name} is needed by the policy's features: ${kind}`,
          );
        return;
      }
      const ok =
        method === undefined
          ? typeof v === "function"
          : typeof v === "object" &&
            v !== null &&
            typeof (v as Record<string, unknown>)[method] === "function";
      if (!ok) throw argumentError("INPUT_INVALID", `options.${name}`, kind, v);
    };
    option("sms", features.includes("sms"), "an SmsSender (an object with sendSms)", "sendSms");
    option(
      "letters",
      features.includes("letter"),
      "a LetterSender (an object with sendLetter)",
      "sendLetter",
    );
    option("password", features.includes("password"), "a function (the bank's password check)");
    if (typeof options.directory !== "function")
      throw argumentError(
        "INPUT_INVALID",
        "options.directory",
        "a function (the bank's lookup of an identifiant)",
        options.directory,
      );
    // The bank keys, checked where the protocol checks them (a start with them), once, here.
    if (options.bankKeys !== undefined)
      startActivation({
        policy: this.policy.activation,
        serverIdentity: this.policy.serverIdentity,
        serial: "P",
        instance: 1,
        now: 0,
        otp: this.policy.otp,
        bankKeys: options.bankKeys,
      });
    this.#verifier = options.verifier;
    this.#store = options.store;
    this.#keys = options.keys;
    this.#directory = options.directory;
    this.#sms = options.sms;
    this.#letters = options.letters;
    this.#password = options.password;
    this.#bankKeys = options.bankKeys ?? {};
    this.#now = options.now ?? Date.now;
    this.#logins = new DeviceLogins({
      verifier: options.verifier,
      store: options.store,
      policy: this.policy,
      now: this.#now,
      reasonOf: (i) => this.#reasonOf(i),
    });
  }

  /**
   * Starts an activation (A0): checked at the door (nothing stored for bad input), then one store transaction
   * — the rate rule (`startsPerDay` in any 24 hours, one per `startIntervalSeconds`: ACTIVATION_RATE_LIMITED
   * with `details.retryAfter` in seconds, for a known and an unknown identifiant alike), the serial and instance
   * allocated, the slot's unfinished activation superseded — then the codes sent, for a known identifiant only.
   */
  async start(req: StartRequest): Promise<StartAnswer> {
    checkRequest(req, "the start request is { user, appVersion, slot?, idempotencyKey? }");
    const user = checkUser(req.user);
    const version = parseAppVersion(req.appVersion);
    if (this.policy.minAppVersion && compareAppVersions(version, this.policy.minAppVersion) < 0)
      throw new CapkitError("APP_VERSION_UNSUPPORTED", "this app version is no longer supported", {
        hint: "install the new version of the app",
        details: { minAppVersion: this.policy.minAppVersion.join(".") },
      });
    const slot = req.slot === undefined ? 1 : req.slot;
    if (!Number.isInteger(slot) || slot < 1 || slot > this.policy.maxDevices)
      throw new CapkitError("INPUT_INVALID", `slot is an integer from 1 to ${this.policy.maxDevices}`);
    const startKey = req.idempotencyKey;
    if (startKey !== undefined && (typeof startKey !== "string" || !ID_PATTERN.test(startKey)))
      throw new CapkitError("INPUT_INVALID", "idempotencyKey is 32 lower-case hex digits");

    const contact = await this.#directory(user);
    const now = this.#now();
    const a = this.policy.activation;
    // The protocol's state, codes from the CSPRNG. Its serial and instance are allocated in the store's
    // transaction (with the rate rule: one write), and set there, in `build`.
    const { state, codes } = startActivation({
      policy: a,
      serverIdentity: this.policy.serverIdentity,
      serial: "unallocated",
      instance: 1,
      now: Math.floor(now / 1000),
      otp: this.policy.otp,
      bankKeys: this.#bankKeys,
    });
    const { sealed: secretKey, key } = await newActivationKey(this.#keys, state.activationId);
    const webSession = codes["web-session"];
    const secrets = sealSecrets(key, state.activationId, {
      ...state.secrets,
      ...(webSession !== undefined ? { webSession } : {}),
    });
    const { secrets: _, ...publicState } = state;
    const result = await this.#store.start({
      user,
      slot,
      known: contact !== undefined,
      now,
      startKey,
      rate: this.#rateRule(),
      graceMs:
        contact !== undefined && this.policy.graceSeconds > 0 ? this.policy.graceSeconds * 1000 : undefined,
      newSerial: `SD${randomDigits(16)}`,
      build: (serial, instance) => {
        const record: ActivationRecord = {
          id: state.activationId,
          user,
          slot,
          credentialId: credentialIdOf(serial, instance),
          known: contact !== undefined,
          startKey,
          createdAt: now,
          state: { ...publicState, serial, instance },
          secretKey,
          secrets,
          ended: undefined,
        };
        return {
          record,
          audit: [
            activationEntry(
              record,
              now,
              "started",
              contact === undefined ? "unknown identifiant" : `slot ${slot}`,
            ),
          ],
        };
      },
    });
    if (result.kind === "rate-limited")
      throw new CapkitError(
        "ACTIVATION_RATE_LIMITED",
        "too many activation codes asked for: try again later",
        {
          details: { retryAfter: Math.ceil(result.retryAfterMs / 1000) },
        },
      );
    if (result.kind === "retried")
      return {
        offer: await this.#offer(result.record),
        delivered: Promise.resolve({ sent: [], failed: [] }),
      };
    // The codes go out after this turn, once the answer is on its way: a customer's start answers with the work
    // an unknown identifiant's does (the SMS, its audit row, come later).
    const record = result.record;
    const delivered = new Promise<void>((r) => setImmediate(r)).then(() =>
      contact === undefined ? { sent: [], failed: [] } : this.#deliver(record, contact, codes),
    );
    return { offer: this.#offerOf(record, webSession), delivered };
  }

  #rateRule(): RateRule {
    return { perDay: this.policy.startsPerDay, intervalMs: this.policy.startIntervalSeconds * 1000 };
  }

  #offerOf(r: ActivationRecord, webSession: string | undefined): ActivationOffer {
    return {
      activationId: r.id,
      regId: r.state.regId,
      serverIdentity: r.state.serverIdentity,
      features: r.state.features,
      expiresAt: r.state.expiresAt,
      ...(webSession !== undefined ? { webSession } : {}),
    };
  }

  /** A retried start's offer: the web-session code from the sealed secrets while it is alive. */
  async #offer(r: ActivationRecord): Promise<ActivationOffer> {
    if (!r.state.features.includes("web-session") || r.secrets === undefined)
      return this.#offerOf(r, undefined);
    const secrets = openSecrets(await activationKey(this.#keys, r.id, r.secretKey), r.id, r.secrets);
    return this.#offerOf(r, secrets.webSession);
  }

  /** Sends each bank-generated code through its own channel; each outcome audited, never the code. */
  async #deliver(
    r: ActivationRecord,
    contact: Contact,
    codes: Readonly<Partial<Record<ActivationFeature, string>>>,
  ): Promise<Delivery> {
    const sent: ActivationFeature[] = [];
    const failed: ActivationFeature[] = [];
    const minutes = Math.round(this.policy.activation.ttl / 60);
    for (const feature of ["sms", "letter"] as const) {
      const code = codes[feature];
      if (code === undefined) continue;
      const to = feature === "sms" ? contact.phone : contact.address;
      let why: string | undefined;
      if (typeof to !== "string" || to.length === 0)
        why = `no ${feature === "sms" ? "phone number" : "address"}`;
      else {
        const message = {
          to,
          text: activationCodeText(feature, code, minutes, this.policy.appName),
          feature,
        };
        try {
          if (feature === "sms") await this.#sms!.sendSms(message);
          else await this.#letters!.sendLetter(message);
        } catch (e) {
          why = isCapkitError(e) ? e.code : "the sender failed";
        }
      }
      (why === undefined ? sent : failed).push(feature);
      const step: ActivationStep = `${feature}-${why === undefined ? "sent" : "failed"}`;
      await this.#store
        .record(activationEntry(r, this.#now(), step, why ?? `to …${String(to).slice(-2)}`))
        .catch(() => {}); // the delivery happened (or not) whatever the audit store says
    }
    return { sent, failed };
  }

  /**
   * One message of the app (a1, a2, a4) → the reply to send back. Refused at the door with a typed error —
   * nothing counted, nothing stored — when malformed (ACTIVATION_MESSAGE_INVALID), for no activation
   * (ACTIVATION_UNKNOWN), expired, dead, finished or out of order. Otherwise the new state is stored, conditional
   * on the revision it was computed from, BEFORE the reply is returned: a PAKE run's try is counted before the
   * app can learn anything from it; the same request again (its idempotency key) gets the stored reply.
   */
  async step(request: unknown): Promise<StepAnswer> {
    const msg = parseActivationMessage(request, ["a1", "a2", "a4"]);
    // Another request on the same activation may win the write: then this one is judged again, on its result.
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = await this.#store.activation(msg.activationId);
      if (!r) throw new CapkitError("ACTIVATION_UNKNOWN", "no such activation");
      const key = await activationKey(this.#keys, r.id, r.secretKey);
      const kept: ActivationSecretsAtRest = r.secrets ? openSecrets(key, r.id, r.secrets) : { w: "" };
      const state: ActivationServerState = {
        ...r.state,
        ...(r.ended !== undefined ? { phase: "dead" as const } : {}),
        secrets: { w: kept.w, ...(kept.run ? { run: kept.run } : {}) },
      };
      const now = this.#now();
      const result = await activationServerStep({
        state,
        request: request as string,
        now: Math.floor(now / 1000),
        checks: {
          password: (candidate) => this.#checkPassword(r.user, candidate),
          otp: (code) => this.#firstCode(r, code, msg.idempotencyKey),
        },
      });
      if (!result.changed) return { reply: result.reply, outcome: result.outcome };
      if (await this.#store.advance(await this.#change(r, key, kept, result, now)))
        return { reply: result.reply, outcome: result.outcome };
    }
    throw new CapkitError("STORE_UNAVAILABLE", "this activation kept changing under the request", {
      hint: "nothing was answered; send the same request again",
    });
  }

  /** The write of a step: the new state, its sealed secrets, its audit rows, and at `bound` the pending token. */
  async #change(
    r: ActivationRecord,
    key: Buffer,
    kept: ActivationSecretsAtRest,
    result: ServerStepResult,
    now: number,
  ): Promise<ActivationChange> {
    const { secrets, ...state } = result.state;
    const alive = secrets.w !== "";
    const sealed = sealSecrets(key, r.id, {
      ...secrets,
      ...(alive && kept.webSession !== undefined ? { webSession: kept.webSession } : {}),
    });
    const audit = [activationEntry(r, now, STEP_OF[result.outcome], this.#detail(result))];
    const c = result.credential;
    if (!c) return { id: r.id, user: r.user, expectedRev: r.state.rev, state, secrets: sealed, audit };
    try {
      const enrolment = await this.#verifier[PREPARE_ENROLMENT](
        {
          id: r.credentialId,
          user: r.user,
          kind: "totp",
          secret: c.seed,
          algorithm: c.otp.algorithm,
          digits: c.otp.digits,
          step: c.otp.step,
        },
        { state: "pending" },
      );
      return {
        id: r.id,
        user: r.user,
        expectedRev: r.state.rev,
        state,
        secrets: sealed,
        audit,
        enrol: {
          ...enrolment,
          instance: {
            credentialId: r.credentialId,
            user: r.user,
            serial: c.serial,
            instance: c.instance,
            slot: r.slot,
            activationId: r.id,
            devicePublicKey: toBase64(c.devicePublicKey),
            appVersion: c.appVersion,
            createdAt: now,
            ended: undefined,
            endedAt: undefined,
          },
        },
      };
    } finally {
      c.seed.fill(0);
    }
  }

  #detail(result: ServerStepResult): string {
    const s = result.state;
    const dead = s.phase === "dead" ? ", code dead" : "";
    if (result.outcome === "answered") return `try ${s.tries} of ${s.maxTries}`;
    if (s.phase === "awaiting-a1" || s.phase === "dead")
      return `failure ${s.failures}, tries ${s.tries} of ${s.maxTries}${dead}`;
    return `rev ${s.rev}`;
  }

  /** The second feature `password`, counted in the user's one lockout: a locked user fails it too. */
  async #checkPassword(user: string, candidate: string): Promise<boolean> {
    const ok =
      typeof candidate === "string" && candidate.length <= 256 && (await this.#password!(user, candidate));
    return (await this.#verifier.checkFactor({ user, factor: "password", ok })).result === "accepted";
  }

  /**
   * a4's first code, on the pending credential: its accept activates it (src/stores/activation.ts). The request
   * id is a4's idempotency key, so the retry of an a4 whose answer was lost is accepted again, not counted. The
   * same code just accepted by a login of the same device (a replay to the verifier) activated it already: a4,
   * signed by the bound device key, completes.
   */
  async #firstCode(r: ActivationRecord, code: string, idempotencyKey: string): Promise<boolean> {
    const v = await this.#verifier.verify({ id: r.credentialId, code, requestId: `a4.${idempotencyKey}` });
    return v.result === "accepted" || v.replayed === true;
  }

  /** A login challenge for an instance: 128 bits from the CSPRNG, single use (the same for an unknown id). */
  issueLoginChallenge(credential: string): Promise<{ challenge: string; expiresAt: number }> {
    return this.#logins.issue(credential);
  }

  /**
   * A login from the app: the code and the device's signature over the challenge and the code (possession).
   * `accepted`, `rejected` or `locked` as the verifier answers, in the same lockout as every other code of the
   * user; a missing or wrong signature, or a used challenge, is a counted failure. An instance that was
   * replaced, reset or activated with an app below the floor answers `reactivation-required` with the reason —
   * only after a valid signature, and counting nothing.
   */
  verifyDevice(login: DeviceLogin): Promise<DeviceLoginResult> {
    return this.#logins.verify(login);
  }

  /** Whether the user is in a grace period: until its end, or until a new instance's first accepted code. */
  async grace(user: string): Promise<{ until: number } | undefined> {
    checkUser(user);
    const u = await this.#store.user(user);
    const now = this.#now();
    if (u?.graceFrom === undefined || u.graceUntil === undefined || u.graceUntil <= now) return undefined;
    const from = u.graceFrom;
    const instances = await this.#store.instances(user);
    if (instances.some((i) => i.createdAt >= from && i.state === "active")) return undefined;
    return { until: u.graceUntil };
  }

  /** What support staff see: the user's instances and activations, the rate rule, the grace period. */
  async status(user: string): Promise<ProvisioningStatus> {
    checkUser(user);
    const [u, instances, activations, grace] = await Promise.all([
      this.#store.user(user),
      this.#store.instances(user),
      this.#store.activations(user, 20),
      this.grace(user),
    ]);
    const now = this.#now();
    const recent = (u?.sends ?? []).filter((t) => t > now - DAY_MS && t <= now);
    const next = rateDecision(recent, now, this.#rateRule());
    return {
      user,
      ...(u?.serial !== undefined ? { serial: u.serial } : {}),
      instances: instances.map((i) => {
        const reason = i.state === "ended" ? this.#reasonIn(i, instances) : undefined;
        return {
          credential: i.credentialId,
          serial: i.serial,
          instance: i.instance,
          slot: i.slot,
          state: i.state,
          ...(reason !== undefined ? { reason } : {}),
          appVersion: i.appVersion,
          createdAt: i.createdAt,
        };
      }),
      activations: activations.map((a) => ({
        activationId: a.id,
        credential: a.credentialId,
        slot: a.slot,
        phase: a.state.phase,
        tries: a.state.tries,
        failures: a.state.failures,
        createdAt: a.createdAt,
        expiresAt: a.state.expiresAt * 1000,
        ...(a.ended !== undefined ? { ended: a.ended } : {}),
        known: a.known,
      })),
      starts: { last24h: recent.length, nextAllowedAt: next.ok ? now : now + next.retryAfterMs },
      ...(grace ? { grace } : {}),
    };
  }

  /**
   * Ends the user's unfinished activations and revokes every in-app instance (« mot de passe perdu », a support
   * reset, a password changed by a linked user): their logins then answer `reactivation-required` with
   * `reason` (a short code, default "reset"). The rate rule's memory is cleared, so a new code can be sent.
   */
  async reset(
    user: string,
    options: { reason?: string } = {},
  ): Promise<{ activations: number; instances: number }> {
    checkUser(user);
    const given = checkOptions(options, "the reset options").reason;
    const reason = given === undefined ? "reset" : given;
    if (typeof reason !== "string" || !REASON.test(reason))
      throw new CapkitError(
        "INPUT_INVALID",
        "a reason is 1 to 32 lower-case letters, digits or -, from a letter",
      );
    return this.#store.reset({ user, reason, now: this.#now() });
  }

  /** Why an instance ended: the Provisioner's reason, else replaced (a newer instance of its slot is active). */
  async #reasonOf(i: InstanceStatus): Promise<string> {
    return this.#reasonIn(i, await this.#store.instances(i.user));
  }

  #reasonIn(i: InstanceStatus, all: readonly InstanceStatus[]): string {
    if (i.ended !== undefined) return i.ended;
    return all.some((o) => o.slot === i.slot && o.createdAt > i.createdAt && o.state === "active")
      ? "replaced"
      : "revoked";
  }
}

/** The audit step of each protocol outcome. */
const STEP_OF: Record<ActivationOutcome, ActivationStep> = {
  answered: "pake-answered",
  retried: "pake-answered",
  bound: "pake-confirmed",
  activated: "activated",
  "confirmation-failed": "pake-failed",
  "second-feature-failed": "second-feature-failed",
  "device-proof-failed": "device-proof-failed",
  tampered: "tampered",
  "otp-failed": "otp-failed",
};

function checkUser(user: unknown): string {
  if (typeof user !== "string" || !USER.test(user))
    throw new CapkitError("INPUT_INVALID", "a user id is 1–128 letters, digits or . @ : + - _");
  return user;
}
