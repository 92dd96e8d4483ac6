// A TypeScript consumer of every public package, type-checked with skipLibCheck false under `node16` and
// `bundler` resolution: the published .d.ts files must stand on their own.
import { EXIT } from "@capkit/cli";
import { CapkitError, toHex } from "@capkit/core";
import { type CapResult, generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, hotp, totp } from "@capkit/oath";
import {
  type ActivationPolicy,
  activationPolicy,
  type SignedReceipt,
  verifyReceipt,
} from "@capkit/provision";
import { PcscContext } from "@capkit/reader-pcsc";
import { newSimCardState, SimulatedCard } from "@capkit/token-sim";
import { MemoryKeyStore, SoftDigipass } from "@capkit/token-sim/soft-digipass";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Approvals, Grants, SecurityEvents } from "@capkit/verify/approvals";
import { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
import { PostgresProvisioningStore, PostgresSecurityStore, PostgresStore } from "@capkit/verify/postgres";
import { MemoryDevOutbox, Provisioner } from "@capkit/verify/provisioning";
import { SqliteProvisioningStore, SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";

export async function capCode(): Promise<CapResult> {
  const card = new SimulatedCard(newSimCardState("sesame", "1234"));
  return generateCapCode(card, { mode: "identify" }, { profile: readerProfile("sesame"), pin: "1234" });
}

export function codes(secret: Uint8Array): [string, string] {
  const key = new HmacKey(secret, "SHA256");
  return [hotp(key, 0), totp(key, Date.now() / 1000)];
}

export function verifier(path: string): Verifier {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
  return new Verifier({ store: new SqliteStore(path), keys });
}

export const postgres: typeof PostgresStore.connect = PostgresStore.connect;
export const token: typeof Pkcs11KeyProvider.open = Pkcs11KeyProvider.open;
export const context: typeof PcscContext = PcscContext;
export const failed: number = EXIT.REJECTED;
export const error: CapkitError = new CapkitError("INPUT_INVALID", toHex(new Uint8Array([1])));
export const policy: ActivationPolicy = activationPolicy({ features: ["sms", "password"] });
export const receiptOk = (r: SignedReceipt, key: Uint8Array): boolean => verifyReceipt(r, { bank: key }).ok;
export const app: Promise<SoftDigipass> = SoftDigipass.open({
  store: new MemoryKeyStore(),
  appVersion: "1.0.0",
});
export function provisioner(path: string): Provisioner {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
  const state = new SqliteStore(path);
  return new Provisioner({
    verifier: new Verifier({ store: state, keys }),
    store: new SqliteProvisioningStore(state),
    keys,
    policy: { serverIdentity: "bank.example", features: ["sms", "letter"] },
    directory: async () => ({ phone: "+33600000000", address: "1 rue de la Paix" }),
    sms: new MemoryDevOutbox(),
    letters: new MemoryDevOutbox(),
  });
}
export const provisioningOnPostgres: typeof PostgresProvisioningStore.open = PostgresProvisioningStore.open;
export function approvals(path: string): [Approvals, SecurityEvents, Grants] {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
  const verifier = new Verifier({ store: new SqliteStore(path), keys }); // the verifier's tables first
  const store = new SqliteSecurityStore(path);
  return [new Approvals({ verifier, store, keys }), new SecurityEvents({ store }), new Grants({ store })];
}
export const securityOnPostgres: typeof PostgresSecurityStore.connect = PostgresSecurityStore.connect;
// capkit in the application's database: its own prefix, a schema, a full PoolConfig (no driver types needed).
export const prefixed = (path: string): SqliteStore => new SqliteStore(path, { tablePrefix: "auth_" });
export const inSchema = (url: string): Promise<PostgresStore> =>
  PostgresStore.connect({ connectionString: url, ssl: { rejectUnauthorized: true } }, { schema: "capkit" });
