import { randomBytes } from "node:crypto";
import { toBase64, toHex } from "@capkit/core";
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { approvalMessage, createOperation, type DeviceKey, type OperationFields } from "@capkit/provision";
import { FakeClock, newSimCardState, SgpassToken, SimulatedCard } from "@capkit/token-sim";
import {
  Approvals,
  type CreatedOperation,
  type DeviceDecision,
  Grants,
  SecurityEvents,
  type SecurityStore,
} from "../src/approvals.js";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";

/** The stores a world runs on: the verifier's, and the approvals' beside it in the same database. */
export interface Stores {
  readonly store: StateStore;
  readonly security: SecurityStore;
}

/** A verifier, the approvals, the events and the grants on one pair of stores, on a fake clock. */
export interface World extends Stores {
  readonly clock: FakeClock;
  readonly keys: SoftwareKeyProvider;
  readonly verifier: Verifier;
  readonly approvals: Approvals;
  readonly events: SecurityEvents;
  readonly grants: Grants;
}

export const START = Date.UTC(2026, 11, 5, 9, 0, 0);

export function world(
  stores: Stores,
  material = SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }),
): World {
  const clock = new FakeClock(START);
  const keys = new SoftwareKeyProvider(material);
  const now = () => clock.now();
  const verifier = new Verifier({ store: stores.store, keys, now });
  return {
    ...stores,
    clock,
    keys,
    verifier,
    approvals: new Approvals({ verifier, store: stores.security, keys, now, actor: "bank-test" }),
    events: new SecurityEvents({ store: stores.security, now, actor: "bank-test" }),
    grants: new Grants({ store: stores.security, now, actor: "bank-test" }),
  };
}

export const uid = (p: string) => `${p}-${randomBytes(6).toString("hex")}`;

/** Valid IBANs (ISO 13616 check digits): German BBANs carry no national check, so any digit may change. */
export const ACCOUNT = "DE89370400440532013000";
export const PAYEE = { iban: "DE75512108001245126199", name: "Garage Martin SARL" };

/** A transfer document: 1 234,56 € to the payee, five minutes to decide. */
export function transfer(
  w: World,
  fields: Partial<{
    amount: number;
    currency: string;
    payee: { iban: string; name: string };
    account: string;
  }> = {},
  id = uid("op"),
) {
  return createOperation(
    {
      type: "transfer",
      payee: fields.payee ?? PAYEE,
      amount: { minor: fields.amount ?? 123_456, currency: fields.currency ?? "EUR" },
    } as OperationFields,
    { id, account: fields.account ?? ACCOUNT, now: Math.floor(w.clock.now() / 1000) },
  );
}

/** A device key as the app makes it: WebCrypto ECDSA P-256, not extractable, signatures r ‖ s. */
export async function softwareDevice(): Promise<DeviceKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  return {
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
    sign: async (m) =>
      new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new Uint8Array(m)),
      ),
  };
}

/** The in-app token as the verifier knows it (a TOTP credential) with its device key registered. */
export async function appDevice(w: World, user = uid("user")) {
  const credential = uid("app");
  await w.verifier.enroll({ id: credential, user, kind: "totp", secret: randomBytes(20) });
  const device = await softwareDevice();
  await w.approvals.registerDevice({ credential, publicKey: device.publicKey });
  const decide = async (
    digest: string,
    decision: "accept" | "decline" = "accept",
  ): Promise<DeviceDecision> => {
    const signature = await device.sign(approvalMessage(Buffer.from(digest, "hex"), decision));
    return { decision, operationDigest: digest, signature: toBase64(signature) };
  };
  return {
    user,
    credential,
    device,
    /** A transfer (`fields` changed) for this device to decide, under `contract` if given. */
    operation: (fields: Parameters<typeof transfer>[1] = {}, contract?: string) =>
      w.approvals.create({
        document: transfer(w, fields),
        user,
        credential,
        method: "device",
        ...(contract !== undefined ? { contract } : {}),
      }),
    /** The device's decision over a digest (hex), as SoftDigipass.decide makes it. */
    decide,
    /**
     * The user's consent to a passerelle: a link-activation operation (under `contract` if given) approved on
     * this device. Its id, for `Grants.activate`.
     */
    async consent(contract?: string): Promise<string> {
      const op = await w.approvals.create({
        document: createOperation(
          { type: "link-activation", link: { from: "pro", to: "perso", consent: "c".repeat(64) } },
          { id: uid("consent"), account: ACCOUNT, now: Math.floor(w.clock.now() / 1000) },
        ),
        user,
        credential,
        method: "device",
        ...(contract !== undefined ? { contract } : {}),
      });
      const r = await w.approvals.decide({ id: op.id, device: await decide(op.digest) });
      if (r.result !== "approved") throw new Error(`the consent was not approved: ${JSON.stringify(r)}`);
      return op.id;
    },
  };
}

export const OCRA_SUITE = "OCRA-1:HOTP-SHA256-8:QN64";

/** An SGpass-style keypad token (OCRA, RFC 6287) enrolled for a user. */
export async function keypad(w: World, user = uid("user"), suite = OCRA_SUITE) {
  const credential = uid("sgpass");
  const secret = randomBytes(32);
  await w.verifier.enroll({ id: credential, user, kind: "ocra", secret, suite });
  const token = new SgpassToken({
    kind: "totp",
    secret,
    algorithm: "SHA256",
    ocraSuite: suite,
    clock: w.clock,
  });
  return {
    user,
    credential,
    /** What the customer types on the keypad: the fields the bank's page shows, in order. */
    code: (op: CreatedOperation) => {
      if (op.prompt.method !== "ocra") throw new Error("not an OCRA prompt");
      const f = op.prompt.fields;
      return token.sign([f.amount, f.payee, f.reference]);
    },
    sign: (fields: readonly string[]) => token.sign(fields),
  };
}

/** A CAP card that signs amounts and currency (MasterCard CAP, IAF 80) enrolled for a user. */
export async function reader(w: World, user = uid("user"), profile = "mastercard-cap") {
  const credential = uid("card");
  const card = new SimulatedCard(newSimCardState(profile, "1234"));
  await w.verifier.enroll({ id: credential, user, kind: "cap", record: card.issuerRecord() });
  const rp = readerProfile(card.profile.readerProfile);
  const sign = async (inputs: { challenge: string; amount: string; currency: string }) =>
    (await generateCapCode(card, { mode: "sign", ...inputs }, { pin: "1234", profile: rp })).code;
  return {
    user,
    credential,
    /** What the reader shows after the customer typed the page's challenge and amount. */
    code: (op: CreatedOperation) => {
      if (op.prompt.method !== "cap-sign") throw new Error("not a CAP Sign prompt");
      return sign(op.prompt);
    },
    sign,
  };
}

export function digestOf(op: CreatedOperation): string {
  return op.digest;
}

export const hex = (b: Uint8Array) => toHex(b).toLowerCase();
