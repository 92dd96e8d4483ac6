import { createHash } from "node:crypto";
import { CapkitError, fromBase64, fromHex, isRecord, toBase64, toHex } from "@capkit/core";
import {
  type ApprovalDecision,
  type ApprovalMethod,
  approvalMessage,
  canonicalJson,
  type OperationDocument,
  operationDigest,
  parseOperation,
  parseUtcSeconds,
  type ReceiptEvidence,
  type ReceiptKeys,
  type SignedOperation,
  type SignedReceipt,
  signatureDigest,
  validDevicePublicKey,
} from "@capkit/provision";
import { checkSubjectId } from "../events/subjects.js";
import type { KeyProvider } from "../key-provider.js";
import type { AuditEntry, StoredCredential } from "../model.js";
import { verifyDeviceSignatureNative } from "../provisioning/device-signature.js";
import {
  type ClosedReason,
  type DeviceRecord,
  type OperationRecord,
  type OperationState,
  SECURITY_STORE_METHODS,
  type SecurityStore,
  type StoredReceipt,
} from "../security-model.js";
import { operationDetail } from "../stores/security-rules.js";
import { SubjectGate } from "../subject-gate.js";
import type { Verifier } from "../verifier.js";
import { VERIFIER_INTERNALS, type VerifierInternals } from "../verifier-internals.js";
import { checkClassOptions, checkOptions, checkWords, pageLimit, wholeNumber } from "./door.js";
import { APPROVAL_METHODS, type ApprovalPrompt, boundCode, promptFor } from "./methods.js";
import { buildReceipt, receiptKeysOf, signedOperation, signedReceipt } from "./receipts.js";

/** What {@link Approvals} works with: the verifier, the security store beside it, the keys. */
export interface ApprovalsOptions {
  /** The verifier whose credentials decide, and whose lockout counts every code and device signature. */
  readonly verifier: Verifier;
  /** Where operations, receipts and devices live: beside the verifier's store, in the same database. */
  readonly store: SecurityStore;
  /** The verifier's key provider: its receipt key signs receipts and the documents the app shows. */
  readonly keys: KeyProvider;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Who acts, named in the audit entries written here (as `VerifierOptions.actor`). */
  readonly actor?: string;
}

/** An operation to be decided: its document, whose it is and which credential must decide it, and how. */
export interface CreateOperationRequest {
  /** A `capkit-operation/1` document (checked at the door: `parseOperation`). */
  readonly document: unknown;
  /** The user who must decide it. */
  readonly user: string;
  /** The card, keypad token or app instance (credential id) that must decide it. */
  readonly credential: string;
  /** How it is decided: `device` (the app's signature), `ocra` (a keypad's code), `cap-sign` (a reader's SIGNATURE). */
  readonly method: ApprovalMethod;
  /** The professional contract it is made under: events on the contract cancel it too. */
  readonly contract?: string;
}

/** An operation's state as the bank reads it; `expired` is a pending one whose time is over. */
export interface OperationStatus {
  /** The document's id. */
  readonly id: string;
  /** `pending`, `approved`, `declined`, `cancelled`, or `expired` (pending past its `expiresAt`). */
  readonly state: OperationState | "expired";
  /** The user who must decide it. */
  readonly user: string;
  /** The professional contract it is made under, if any. */
  readonly contract?: string;
  /** How it is decided. */
  readonly method: ApprovalMethod;
  /** The credential that must decide it. */
  readonly credential: string;
  /** The document, as created (checked against its digest on every read). */
  readonly document: OperationDocument;
  /** SHA-256 of the canonical document, hex. */
  readonly digest: string;
  /** The document's creation time (milliseconds since the epoch). */
  readonly createdAt: number;
  /** The document's expiry (milliseconds since the epoch): no decision after it. */
  readonly expiresAt: number;
  /** When it was decided or cancelled (milliseconds since the epoch). */
  readonly decidedAt?: number;
  /** Why it was cancelled. */
  readonly reason?: string;
  /** The signed receipt of its decision. */
  readonly receipt?: SignedReceipt;
}

/** A new operation's state, with what to show the customer to decide it. */
export interface CreatedOperation extends OperationStatus {
  /** What to show the customer: the typed fields (keypad, reader), or nothing more (the app). */
  readonly prompt: ApprovalPrompt;
  /** Method `device`: the document signed by the bank, for the app to verify and show. */
  readonly signed?: SignedOperation;
}

/** A decision signed by the app's device key (`SoftDigipass.decide`). */
export interface DeviceDecision {
  /** `accept` or `decline`: signed with the digest. */
  readonly decision: ApprovalDecision;
  /** The digest the device signed, hex. */
  readonly operationDigest: string;
  /** ECDSA P-256 r ‖ s over `capkit-approval/1`, base64. */
  readonly signature: string;
}

/**
 * Whose session asks: when given, an operation of another user is OPERATION_UNKNOWN — nothing judged, nothing
 * counted in its user's lockout, nothing stored — so a visitor who learnt another's operation id can neither
 * read it nor spend that user's tries with wrong codes. A bank passes its session's user.
 */
export interface AskedBy {
  /** The user of the session that asks. */
  readonly user?: string;
}

/** The customer's decision: the device's signed one, or a code typed for approve or decline. */
export type DecideRequest = AskedBy &
  (
    | { readonly id: string; readonly device: DeviceDecision }
    | { readonly id: string; readonly decision: "approve" | "decline"; readonly code: string }
  );

/**
 * The answer to a decision. `approved`/`declined`: recorded, with the signed receipt. `rejected`: the code or
 * the device signature was wrong — counted in the user's lockout (`triesLeft`), unless `replayed` (the code
 * just accepted, again). `locked`: the user is locked out. `closed`: the operation can no longer be decided —
 * already decided, cancelled, expired, revoked by a security event or a device no longer registered — or the
 * device signed another document (`changed`: it was not shown this one); nothing counted.
 */
export type DecisionResult =
  | { readonly result: "approved" | "declined"; readonly receipt: SignedReceipt }
  | { readonly result: "rejected"; readonly triesLeft?: number; readonly replayed?: true }
  | { readonly result: "locked" }
  | { readonly result: "closed"; readonly reason: ClosedReason | "changed" };

/** How long a decision waits behind the earlier ones of its operation before STORE_UNAVAILABLE (nothing tried). */
const DECISION_WAIT_MS = 10_000;
/** How far ahead of this server's clock a document's creation may be (another server's clock). */
const CLOCK_SKEW_MS = 300_000;
const DECISIONS: Record<ApprovalDecision, "approved" | "declined"> = {
  accept: "approved",
  decline: "declined",
};

/**
 * Very sensitive operations signed for what they are (PSD2 RTS Art. 5, dynamic linking: the code or signature
 * is specific to the amount and the payee; https://github.com/capkit/capkit/blob/main/docs/architecture.md §12): one API to
 * create an operation from its `capkit-operation/1` document, to have it approved or declined by the
 * credential it names — the app's device key (`device`), an SGpass-style keypad (`ocra`), a Sésame/CAP reader
 * (`cap-sign`) — and to read its state. An operation is decided once (two decisions racing: one wins), never
 * after it expires, never after a security event revoked it; every code or device signature counts in the
 * verifier's one lockout; every approval and decline gives a receipt signed by the key provider and chained per
 * user. Documents and receipts are digested in canonical JSON (JCS, RFC 8785), so the bank, the app and anyone
 * checking a receipt offline digest the same bytes.
 *
 * Every method checks its arguments at the door: a wrong type (a number for a code, an id that is not one) is
 * INPUT_INVALID, OPERATION_INVALID or APPROVAL_METHOD_INVALID before anything is counted or stored.
 *
 * @example
 * An operation approved in the app (Pass Sécurité), on the memory stores; its receipt checked offline:
 * ```ts
 * import { createOperation, verifyReceipt } from "@capkit/provision";
 * import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
 * import { Approvals, MemorySecurityStore } from "@capkit/verify/approvals";
 *
 * const state = new MemoryStore();
 * const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
 * const verifier = new Verifier({ store: state, keys });
 * const approvals = new Approvals({ verifier, store: new MemorySecurityStore(state), keys });
 *
 * // Once, after the app's activation (the Provisioner's credential "SERIAL.N" and the app's P-256 key).
 * await approvals.registerDevice({ credential, publicKey });
 * const document = createOperation(
 *   { type: "transfer", payee: { iban, name: "Alice Martin" }, amount: { minor: 12_550, currency: "EUR" } },
 *   { id: "op-1", account, now: Math.floor(Date.now() / 1000) },
 * );
 * const op = await approvals.create({ document, user: "alice", credential, method: "device" });
 * // op.signed: the document signed by the bank, which the app verifies and shows; the app signs its decision.
 * const r = await approvals.decide({ id: op.id, user: "alice", device: await app.decide(op.signed!, "accept") });
 * if (r.result === "approved") {
 *   verifyReceipt(r.receipt, await approvals.receiptKeys()); // { ok: true }: anyone can check it, offline
 * }
 * // A keypad (method "ocra") or a reader (method "cap-sign"): show op.prompt, then
 * // approvals.decide({ id, user, decision: "approve", code })
 * ```
 */
export class Approvals {
  readonly #store: SecurityStore;
  readonly #keys: KeyProvider;
  readonly #verifier: Verifier;
  readonly #internals: VerifierInternals;
  readonly #now: () => number;
  readonly #actor: string | undefined;
  /** Decisions of one operation, one at a time in the order they came (see `decide`). */
  readonly #line = new SubjectGate(DECISION_WAIT_MS);

  /** @param options - the verifier, the security store beside its store, the verifier's key provider */
  constructor(options: ApprovalsOptions) {
    checkClassOptions(options, "the approvals' options", [
      ["verifier", "a Verifier of @capkit/verify", [VERIFIER_INTERNALS, "checkFactor"]],
      ["store", "a SecurityStore", SECURITY_STORE_METHODS],
      ["keys", "a KeyProvider", ["signReceipt", "receiptPublicKeys"]],
    ]);
    this.#verifier = options.verifier;
    this.#internals = options.verifier[VERIFIER_INTERNALS]();
    this.#store = options.store;
    this.#keys = options.keys;
    this.#now = options.now ?? Date.now;
    this.#actor = options.actor;
  }

  /**
   * Registers the app instance's device key (SEC1 P-256) for approvals by `credential` (the in-app token the
   * Provisioner activated with that key), under the user's current `device` epoch: a password reset, an
   * adviser's revocation or a device reactivation after this refuses its approvals until registered again.
   */
  async registerDevice(req: { credential: string; publicKey: Uint8Array }): Promise<DeviceRecord> {
    if (!isRecord(req)) throw invalid("a device is { credential, publicKey }");
    const id = checkSubjectId(req.credential, "the credential id");
    if (!(req.publicKey instanceof Uint8Array) || !validDevicePublicKey(req.publicKey))
      throw new CapkitError(
        "INPUT_INVALID",
        "the device key is a SEC1 uncompressed P-256 public key (65 bytes)",
      );
    const c = await this.#credential(id);
    if (c.user === undefined)
      throw new CapkitError("APPROVAL_METHOD_INVALID", `credential ${id} belongs to no user`);
    const at = this.#now();
    const publicKey = toBase64(req.publicKey);
    return this.#store.registerDevice(
      { credential: id, user: c.user, publicKey, registeredAt: at },
      this.#entry(at, id, c.user, "device", "registered", `approval key ${keyFingerprint(req.publicKey)}`),
    );
  }

  /**
   * Creates an operation from its document: checked at the door (its shape, its times against this clock),
   * then the credential (the user's, active, able to answer `method`); OPERATION_EXISTS for an id used before.
   * Answers what to show: the typed fields, or the bank-signed document for the app.
   */
  async create(req: CreateOperationRequest): Promise<CreatedOperation> {
    if (!isRecord(req)) throw invalid("an operation request is an object");
    const doc = parseOperation(req.document);
    const user = checkSubjectId(req.user, "the user id");
    const id = checkSubjectId(req.credential, "the credential id");
    const contract = req.contract === undefined ? undefined : checkSubjectId(req.contract, "the contract id");
    if (!APPROVAL_METHODS.includes(req.method))
      throw invalid(`the method is one of ${APPROVAL_METHODS.join(", ")}`);
    const now = this.#now();
    const createdAt = parseUtcSeconds(doc.createdAt, "createdAt") * 1000;
    const expiresAt = parseUtcSeconds(doc.expiresAt, "expiresAt") * 1000;
    if (expiresAt <= now) throw new CapkitError("OPERATION_INVALID", "expiresAt: the operation has expired");
    if (createdAt > now + CLOCK_SKEW_MS)
      throw new CapkitError("OPERATION_INVALID", "createdAt: the operation is created in the future");
    const c = await this.#credential(id);
    if (c.user !== user)
      throw new CapkitError("APPROVAL_METHOD_INVALID", `credential ${id} is not user ${user}'s`);
    if (c.state !== "active")
      throw new CapkitError("APPROVAL_METHOD_INVALID", `credential ${id} is ${c.state}`);
    if (req.method === "device") {
      const d = await this.#store.device(id);
      if (!d || d.user !== user)
        throw new CapkitError("APPROVAL_METHOD_INVALID", `no device key is registered for ${id}`, {
          hint: "register the app instance's key first (registerDevice)",
        });
    }
    const prompt = promptFor(req.method, doc, c);
    const digest = toHex(operationDigest(doc)).toLowerCase();
    // Signed before anything is stored: a key provider that fails leaves no operation behind.
    const signed = req.method === "device" ? await signedOperation(doc, this.#keys) : undefined;
    const record = await this.#store.createOperation(
      {
        id: doc.id,
        user,
        contract,
        method: req.method,
        credential: id,
        type: doc.type,
        document: canonicalJson(doc),
        digest,
        createdAt,
        expiresAt,
      },
      this.#entry(
        now,
        id,
        user,
        "operation",
        "created",
        operationDetail(doc.id, `${doc.type} by ${req.method} ${digest.slice(0, 16)}`),
      ),
    );
    return { ...(await this.#status(record)), prompt, ...(signed ? { signed } : {}) };
  }

  /**
   * The operation's state, with its signed receipt once decided; OPERATION_UNKNOWN for an id never created, or
   * of another user than `asked.user`.
   */
  async state(id: string, asked?: AskedBy): Promise<OperationStatus> {
    return this.#status(await this.#operation(id, askedBy(asked)));
  }

  /** What to show the customer again (the app fetching the signed document, a page reloaded). */
  async prompt(id: string, asked?: AskedBy): Promise<{ prompt: ApprovalPrompt; signed?: SignedOperation }> {
    const o = await this.#operation(id, askedBy(asked));
    const doc = storedDocument(o);
    const prompt = promptFor(o.method, doc, await this.#credential(o.credential));
    return { prompt, ...(o.method === "device" ? { signed: await signedOperation(doc, this.#keys) } : {}) };
  }

  /** A user's operations in id order, a page at a time (`after`: the last id of the previous page). */
  async list(
    user: string,
    options: { state?: OperationState; after?: string; limit?: number } = {},
  ): Promise<OperationStatus[]> {
    const q = checkOptions(options);
    if (q.state !== undefined && !OPERATION_STATES.includes(q.state))
      throw invalid(`a state is one of ${OPERATION_STATES.join(", ")}`);
    const rows = await this.#store.operations({
      user: checkSubjectId(user, "the user id"),
      limit: pageLimit(q.limit),
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.after !== undefined ? { after: checkSubjectId(q.after, "after") } : {}),
    });
    return Promise.all(rows.map((o) => this.#status(o)));
  }

  /**
   * The customer's decision. Checked at the door (nothing counted for a malformed one); an operation no longer
   * pending answers `closed` without judging anything; then the code (by the verifier, against what the
   * operation derives) or the device signature (against the registered key) is judged in the user's lockout,
   * and the decision is recorded once, atomically, with its receipt.
   */
  async decide(req: DecideRequest): Promise<DecisionResult> {
    if (!isRecord(req)) throw invalid("a decision is an object");
    const id = checkOperationId(req.id);
    const device = "device" in req ? checkDeviceDecision(req.device) : undefined;
    const code = device ? undefined : checkCodeDecision(req as { decision: unknown; code: unknown });
    const user = askedBy(req);
    // In line from here, before the first await: the decisions of one operation are judged in the order they
    // came, so a burst of wrong codes or signatures is counted before the right one sent after it (reads
    // racing on a pool would otherwise let it overtake them), and once one is recorded the rest answer
    // `closed` without being judged.
    return this.#line.run(`operation\0${id}`, () => this.#decide(id, user, device, code));
  }

  async #decide(
    id: string,
    user: string | undefined,
    device: DeviceDecision | undefined,
    code: { decision: "approved" | "declined"; code: string } | undefined,
  ): Promise<DecisionResult> {
    const o = await this.#operation(id, user);
    const now = this.#now();
    const closed = o.state !== "pending" ? o.state : now >= o.expiresAt ? "expired" : undefined;
    if (closed) return this.#closed(o, now, device ? DECISIONS[device.decision] : code!.decision, closed);
    if ((o.method === "device") !== (device !== undefined))
      throw new CapkitError(
        "APPROVAL_METHOD_INVALID",
        o.method === "device"
          ? "this operation is decided by the app's device signature"
          : `this operation is decided by a ${o.method} code`,
      );
    return device ? this.#byDevice(o, device, now) : this.#byCode(o, code!.decision, code!.code, now);
  }

  /**
   * Cancels a pending operation (the customer left, the bank changed its mind); false if it was not pending or
   * has expired (it reads `expired`, and stays so); OPERATION_UNKNOWN for another user's than `asked.user`.
   */
  async cancel(id: string, reason: string, asked?: AskedBy): Promise<boolean> {
    checkOperationId(id);
    checkWords(reason, "a reason");
    const o = await this.#operation(id, askedBy(asked));
    const at = this.#now();
    return this.#store.cancelOperation(
      o.id,
      at,
      reason,
      this.#entry(at, o.credential, o.user, "operation", "cancelled", operationDetail(o.id, reason)),
    );
  }

  /** A user's receipts in chain order (from the first, or after place `after`): what `verifyReceiptChain` checks. */
  async receipts(user: string, options: { after?: number; limit?: number } = {}): Promise<SignedReceipt[]> {
    const q = checkOptions(options);
    const after = q.after === undefined ? 0 : wholeNumber(q.after, "after (a place in the chain)");
    const rows = await this.#store.receipts(checkSubjectId(user, "the user id"), after, pageLimit(q.limit));
    const out: SignedReceipt[] = [];
    for (const r of rows) out.push(await signedReceipt(r, this.#keys, this.#store));
    return out;
  }

  /** The receipt public keys (raw Ed25519) by key id: what a customer, an app or `capkit receipt verify` needs. */
  receiptKeys(): Promise<ReceiptKeys> {
    return receiptKeysOf(this.#keys);
  }

  /** The app's signed decision: the registered key, the signature, the digest, the lockout, then the write. */
  async #byDevice(o: OperationRecord, d: DeviceDecision, now: number): Promise<DecisionResult> {
    const decision = DECISIONS[d.decision];
    const c = await this.#internals.credential(o.credential);
    const device = await this.#store.device(o.credential);
    if (c?.state !== "active" || c.user !== o.user || !device || device.user !== o.user)
      return this.#closed(o, now, decision, "revoked");
    const signature = fromBase64(d.signature, "the signature");
    const ok = verifyDeviceSignatureNative(
      fromBase64(device.publicKey, "the device key"),
      approvalMessage(fromHex(d.operationDigest), d.decision),
      signature,
    );
    if (!ok) {
      const f = await this.#verifier.checkFactor({ user: o.user, factor: "device-approval", ok: false });
      await this.#store.record(this.#decisionEntry(o, now, decision, f.result, "device signature wrong"));
      return f.result === "locked"
        ? { result: "locked" }
        : { result: "rejected", ...(f.triesLeft !== undefined ? { triesLeft: f.triesLeft } : {}) };
    }
    // The device's own signature over another document: it was shown something else. Not a guess: not counted.
    if (d.operationDigest !== o.digest) return this.#closed(o, now, decision, "changed");
    const f = await this.#verifier.checkFactor({ user: o.user, factor: "device-approval", ok: true });
    if (f.result === "locked") {
      await this.#store.record(this.#decisionEntry(o, now, decision, "locked", "user locked"));
      return { result: "locked" };
    }
    return this.#record(o, now, decision, { signatureDigest: signatureDigest(signature) }, device.publicKey);
  }

  /** A keypad or reader code: judged by the verifier against what the operation derives, then the write. */
  async #byCode(
    o: OperationRecord,
    decision: "approved" | "declined",
    code: string,
    now: number,
  ): Promise<DecisionResult> {
    const c = await this.#internals.credential(o.credential);
    // A credential disabled or revoked since the operation was made: closed, as for a device — not judged, so
    // the right code of a disabled token is not counted as a failure in its user's lockout.
    if (c?.state !== "active" || c.user !== o.user) return this.#closed(o, now, decision, "revoked");
    const prompt = promptFor(o.method, storedDocument(o), c);
    const v = await this.#internals.verifyBound(o.credential, boundCode(prompt, code, o.id));
    if (v.result !== "accepted") {
      await this.#store.record(this.#decisionEntry(o, now, decision, v.result, `${o.method} code refused`));
      if (v.result === "locked") return { result: "locked" };
      return {
        result: "rejected",
        ...(v.triesLeft !== undefined ? { triesLeft: v.triesLeft } : {}),
        ...(v.replayed ? { replayed: true as const } : {}),
      };
    }
    const evidence: ReceiptEvidence = o.method === "ocra" ? { counter: v.counter! } : { atc: v.counter! };
    return this.#record(o, now, decision, evidence, undefined);
  }

  /** The one atomic write of the decision and its receipt, then the receipt's signature. */
  async #record(
    o: OperationRecord,
    asked: number,
    decision: "approved" | "declined",
    evidence: ReceiptEvidence,
    deviceKey: string | undefined,
  ): Promise<DecisionResult> {
    // The time of the write, not of the request: judging may have waited its turn in the user's lockout, and an
    // operation that expired meanwhile is not decided (nor receipted as if it had not).
    const at = Math.max(asked, this.#now());
    const counter = "counter" in evidence ? evidence.counter : "atc" in evidence ? evidence.atc : undefined;
    const outcome = await this.#store.decide({
      operation: o.id,
      at,
      decision,
      ...(deviceKey !== undefined ? { deviceKey } : {}),
      build: (head) => buildReceipt(o, decision, evidence, head, at),
      audit: {
        ...this.#decisionEntry(o, at, decision, decision, `${o.method} ${o.digest.slice(0, 16)}`),
        ...(counter !== undefined ? { counter } : {}),
      },
    });
    if (!outcome.decided) return { result: "closed", reason: outcome.reason };
    try {
      return { result: decision, receipt: await signedReceipt(outcome.receipt, this.#keys, this.#store) };
    } catch (e) {
      // The decision is recorded: an error must not say otherwise. Its receipt is signed when next read.
      if (!(e instanceof CapkitError)) throw e;
      throw new CapkitError(
        e.code,
        `the operation was ${decision}; its receipt is not signed yet: ${e.message}`,
        {
          hint: "the decision stands: read the operation's state (state(id)) once the key provider or the store is back",
          details: { operation: o.id, decided: decision },
          cause: e,
        },
      );
    }
  }

  /** A decision refused without judging anything: audited, answered `closed`. */
  async #closed(
    o: OperationRecord,
    at: number,
    decision: "approved" | "declined",
    reason: ClosedReason | "changed",
  ): Promise<DecisionResult> {
    await this.#store.record(this.#decisionEntry(o, at, decision, "refused", reason));
    return { result: "closed", reason };
  }

  #decisionEntry(
    o: OperationRecord,
    at: number,
    decision: "approved" | "declined",
    result: string,
    why: string,
  ): AuditEntry {
    return this.#entry(
      at,
      o.credential,
      o.user,
      decision === "approved" ? "approve" : "decline",
      result,
      operationDetail(o.id, why),
    );
  }

  async #status(o: OperationRecord): Promise<OperationStatus> {
    const document = storedDocument(o);
    const stored: StoredReceipt | undefined =
      o.state === "approved" || o.state === "declined" ? await this.#store.receipt(o.id) : undefined;
    const receipt = stored ? await signedReceipt(stored, this.#keys, this.#store) : undefined;
    if (receipt && receipt.receipt.operationDigest !== o.digest) throw tampered(o.id, "its receipt");
    return {
      id: o.id,
      state: o.state === "pending" && this.#now() >= o.expiresAt ? "expired" : o.state,
      user: o.user,
      ...(o.contract !== undefined ? { contract: o.contract } : {}),
      method: o.method,
      credential: o.credential,
      document,
      digest: o.digest,
      createdAt: o.createdAt,
      expiresAt: o.expiresAt,
      ...(o.decidedAt !== undefined ? { decidedAt: o.decidedAt } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(receipt ? { receipt } : {}),
    };
  }

  /** The operation as stored, its document checked against its digest: a changed one is never used. */
  async #operation(id: string, user?: string): Promise<OperationRecord> {
    const o = await this.#store.operation(checkOperationId(id));
    // Another user's operation reads as none: the same answer, whether it exists or not.
    if (!o || (user !== undefined && o.user !== user))
      throw new CapkitError("OPERATION_UNKNOWN", `no operation ${id}`);
    storedDocument(o);
    return o;
  }

  async #credential(id: string): Promise<StoredCredential> {
    const c = await this.#internals.credential(id);
    if (!c) throw new CapkitError("CREDENTIAL_UNKNOWN", `no credential ${id}`);
    return c;
  }

  #entry(
    at: number,
    credentialId: string,
    user: string,
    action: AuditEntry["action"],
    result: string,
    detail: string,
  ): AuditEntry {
    return {
      at,
      credentialId,
      action,
      result,
      detail,
      user,
      ...(this.#actor !== undefined ? { actor: this.#actor } : {}),
    };
  }
}

function invalid(message: string): CapkitError {
  return new CapkitError("INPUT_INVALID", message);
}

/** The session's user of an `AskedBy`, checked at the door; undefined when not given. */
function askedBy(asked: AskedBy | undefined): string | undefined {
  if (asked === undefined) return undefined;
  if (!isRecord(asked)) throw invalid("who asks is { user }");
  return asked.user === undefined ? undefined : checkSubjectId(asked.user, "the asking user");
}

const OPERATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
function checkOperationId(id: unknown): string {
  if (typeof id !== "string" || !OPERATION_ID.test(id))
    throw invalid("an operation id is 1 to 64 letters, digits, _ or -");
  return id;
}

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** A device decision at the door: its decision, a SHA-256 digest in lower-case hex, a 64-byte signature. */
function checkDeviceDecision(d: unknown): DeviceDecision {
  if (!isRecord(d)) throw invalid("a device decision is { decision, operationDigest, signature }");
  const { decision, operationDigest: digest, signature } = d as Record<string, unknown>;
  if (decision !== "accept" && decision !== "decline")
    throw invalid("the device's decision is accept or decline");
  if (typeof digest !== "string" || !HEX64.test(digest))
    throw invalid("the operation digest is 64 lower-case hex digits");
  if (typeof signature !== "string" || !BASE64.test(signature))
    throw invalid("the signature is 64 bytes in base64 (ECDSA P-256 r ‖ s)");
  return { decision, operationDigest: digest, signature };
}

/** The text typed: what the verifier judges (spaces allowed); never a control character. */
const CODE = /^[^\p{Cc}]{1,64}$/u;

function checkCodeDecision(d: { decision: unknown; code: unknown }): {
  decision: "approved" | "declined";
  code: string;
} {
  if (d.decision === undefined && d.code === undefined)
    throw invalid("a decision has device (the app's signed decision), or decision and code");
  if (d.decision !== "approve" && d.decision !== "decline")
    throw invalid("the decision is approve or decline");
  if (typeof d.code !== "string" || !CODE.test(d.code))
    throw invalid("the code is the text typed, 1 to 64 characters, no control characters");
  return { decision: d.decision === "approve" ? "approved" : "declined", code: d.code };
}

const OPERATION_STATES: readonly OperationState[] = ["pending", "approved", "declined", "cancelled"];

/**
 * The stored document, parsed, if it is still the one the operation was created with: its digest is what the
 * device signed, the keypad's reference and the receipt name. A row changed behind the library's back (an
 * insider with write access to the database, a faulty migration) is OPERATION_INVALID on every read — never
 * shown, never judged against, never executed.
 */
function storedDocument(o: OperationRecord): OperationDocument {
  let doc: OperationDocument;
  try {
    doc = parseOperation(JSON.parse(o.document));
  } catch {
    throw tampered(o.id, "its document");
  }
  if (doc.id !== o.id || doc.type !== o.type || toHex(operationDigest(doc)).toLowerCase() !== o.digest)
    throw tampered(o.id, "its document");
  return doc;
}

function tampered(id: string, what: string): CapkitError {
  return new CapkitError("OPERATION_INVALID", `operation ${id}: ${what} no longer matches its digest`, {
    hint: "the stored operation was changed outside capkit: it is not used; compare it with the audit trail",
    details: { operation: id },
  });
}

/** 16 hex digits of SHA-256 of a device key: names it in the audit trail. */
function keyFingerprint(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}
