import { createHash, randomBytes } from "node:crypto";
import { CapkitError } from "@capkit/core";
import {
  type ApprovalMethod,
  createOperation,
  type OperationDocument,
  type SignedReceipt,
} from "@capkit/provision";
import type {
  Approvals,
  CreatedOperation,
  DecisionResult,
  DeviceDecision,
  OperationStatus,
} from "@capkit/verify/approvals";
import { composeIBAN } from "ibantools";
import type { BankName } from "./users.js";

/**
 * The bank's very sensitive operations, on @capkit/verify/approvals (docs/architecture.md §12): a transfer is
 * a `capkit-operation/1` document — the account debited, the payee's IBAN and name, the amount — made here
 * from what the customer typed, and decided by the device the bank names:
 * - Coop@net: the Sésame reader's SIGNATURE (`cap-sign`), with the amount and, as challenge, the last 8 digits
 *   of the payee's IBAN: the code binds what the customer typed on the reader, nothing more;
 * - SOGENET: the app, « Pass Sécurité » (`device`): the app shows the bank-signed document, and its device key
 *   signs accept or decline over the document's digest.
 * The bank executes the document it made, never what a later form says; every decision has its signed receipt.
 */

/** How long a transfer waits for its signature or its approval (PSD2 RTS Art. 4(3)(d): 5 minutes). */
export const OPERATION_TTL_S = 300;

export interface Payee {
  readonly iban: string;
  readonly name: string;
}

/** Bank and branch codes of the demo accounts: each bank's own code (Crédit Coopératif 42559, SG 30003). */
const BRANCHES: Readonly<Record<BankName, string>> = {
  coopanet: "4255910000",
  sogenet: "3000301234",
  progeliance: "3000301500",
};

/**
 * The customer's current account, as an IBAN: FR, the bank and branch codes, 11 digits drawn from the
 * customer's id, and the RIB key (97 − (89·bank + 15·branch + 3·account) mod 97), then ISO 13616's check
 * digits (ibantools). Demo only: a real bank reads it from its accounts.
 */
export function accountIban(bank: BankName, customer: string): string {
  const h = createHash("sha256").update(`${bank}:${customer}`).digest();
  const account = (h.readBigUInt64BE(0) % 10n ** 11n).toString().padStart(11, "0");
  const branch = BRANCHES[bank];
  const key =
    97n - ((89n * BigInt(branch.slice(0, 5)) + 15n * BigInt(branch.slice(5)) + 3n * BigInt(account)) % 97n);
  const iban = composeIBAN({ countryCode: "FR", bban: `${branch}${account}${String(key).padStart(2, "0")}` });
  if (!iban) throw new Error("the demo account's IBAN could not be composed");
  return iban;
}

/** The verifier's user of a customer: the bank's name and the customer's id (codes.ts). */
function userOf(bank: BankName, customer: string): string {
  return `${bank}:${customer}`;
}

export class Operations {
  readonly #approvals: Approvals;
  readonly #now: () => number;

  constructor(approvals: Approvals, now: () => number) {
    this.#approvals = approvals;
    this.#now = now;
  }

  /**
   * A transfer from the customer's account, to be decided by `credential` with `method`: the document is made
   * and checked (OPERATION_INVALID names a bad field), then stored pending with its digest.
   */
  async transfer(o: {
    bank: BankName;
    customer: string;
    credential: string;
    method: ApprovalMethod;
    payee: Payee;
    cents: number;
  }): Promise<CreatedOperation> {
    const document: OperationDocument = createOperation(
      { type: "transfer", payee: o.payee, amount: { minor: o.cents, currency: "EUR" } },
      {
        id: `op-${randomBytes(16).toString("hex")}`,
        account: accountIban(o.bank, o.customer),
        now: Math.floor(this.#now() / 1000),
        ttl: OPERATION_TTL_S,
      },
    );
    return this.#approvals.create({
      document,
      user: userOf(o.bank, o.customer),
      credential: o.credential,
      method: o.method,
    });
  }

  /**
   * The passerelle's consent (`link-activation`): approved in the app, « Pass Sécurité PRO », by the person
   * who holds both spaces, under the professional contract (events on the contract cancel it too).
   */
  async linkActivation(o: {
    pro: string;
    personal: string;
    contract: string;
    credential: string;
    consent: string;
  }): Promise<CreatedOperation> {
    const document = createOperation(
      { type: "link-activation", link: { from: "progeliance", to: "particuliers", consent: o.consent } },
      {
        id: `op-${randomBytes(16).toString("hex")}`,
        account: accountIban("progeliance", o.pro),
        now: Math.floor(this.#now() / 1000),
        ttl: OPERATION_TTL_S,
      },
    );
    return this.#approvals.create({
      document,
      user: userOf("sogenet", o.personal),
      credential: o.credential,
      method: "device",
      contract: o.contract,
    });
  }

  /** The operation, if it is this customer's (an id from another customer's session is nobody's here). */
  async of(bank: BankName, customer: string, id: string): Promise<OperationStatus | undefined> {
    return this.#state(id, userOf(bank, customer));
  }

  /** The credential that decides the operation; undefined for an id that names none. */
  async credentialOf(user: string, id: string): Promise<string | undefined> {
    return (await this.#state(id, user))?.credential;
  }

  /** The user's operation; undefined for an id that is malformed or names none of theirs (@capkit/verify). */
  async #state(id: string, user: string): Promise<OperationStatus | undefined> {
    try {
      return await this.#approvals.state(id, { user });
    } catch (e) {
      if (e instanceof CapkitError && (e.code === "OPERATION_UNKNOWN" || e.code === "INPUT_INVALID"))
        return undefined;
      throw e;
    }
  }

  /** A reader's SIGNATURE code typed to approve (`cap-sign`): judged against what the operation derives. */
  approveWithCode(op: OperationStatus, code: string): Promise<DecisionResult> {
    return this.#approvals.decide({
      id: op.id,
      user: op.user,
      decision: "approve",
      code: code.replace(/\s+/g, ""),
    });
  }

  /** The app's signed decision (`device`). */
  decideOnDevice(user: string, id: string, device: DeviceDecision): Promise<DecisionResult> {
    return this.#approvals.decide({ id, user, device });
  }

  /** The customer left the transfer: its operation can no longer be decided. */
  async cancel(op: OperationStatus): Promise<void> {
    await this.#approvals.cancel(op.id, "annulé par le client", { user: op.user });
  }

  /** The app's device key, registered for approvals once the app proved it holds it (sogesmart.ts). */
  async registerDevice(credential: string, publicKey: Uint8Array): Promise<void> {
    await this.#approvals.registerDevice({ credential, publicKey });
  }

  /**
   * What the app is to show for the customer: the newest operation pending on this credential (the app's),
   * with the bank-signed document; undefined when there is none.
   */
  async pendingFor(user: string, credential: string) {
    const pending = await this.#approvals.list(user, { state: "pending", limit: 1000 });
    const now = this.#now();
    const mine = pending.filter(
      (p) => p.credential === credential && p.method === "device" && p.expiresAt > now,
    );
    const newest = mine.sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!newest) return undefined;
    const { signed } = await this.#approvals.prompt(newest.id);
    return { id: newest.id, signed: signed! };
  }

  receiptKeys() {
    return this.#approvals.receiptKeys();
  }
}

/** A signed receipt as a customer downloads it: the JSON `capkit receipt verify` reads. */
export function receiptJson(r: SignedReceipt): string {
  return JSON.stringify(r, null, 2);
}
