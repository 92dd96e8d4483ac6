import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type SoftwareKeyMaterial, SoftwareKeyProvider } from "@capkit/verify";
import { SqliteDevOutbox } from "@capkit/verify/sqlite";
import Database from "better-sqlite3";
import { Codes } from "./codes.js";
import { bankDatabase, hasBank } from "./data-dir.js";
import { DemoCustomers } from "./demo.js";
import { Operations } from "./operations.js";
import { Passerelle } from "./passerelle/passerelle.js";
import { Tickets } from "./passerelle/tickets.js";
import { Passwords } from "./passwords.js";
import { Sessions } from "./sessions.js";
import { Sogesmart } from "./sogesmart.js";
import { Customers } from "./users.js";
import { IdempotencyKeys } from "./web/idempotency.js";

/**
 * The bank's data directory (0700), every file in it 0600: bank.db (customers, sessions, demo browsers),
 * verify.db (the verifier's state, and SogeSmart's activations beside it), dev-outbox.db (the demo's SMS),
 * keys.json (the verifier's keys), web.key (the secret that signs the
 * anonymous cookie and seals the keypad layouts), passerelle.key (the Ed25519 key of the passerelle's tickets). SQLite creates its -wal and -shm files with the database's own
 * mode, so they are 0600 too.
 */
export interface Bank {
  readonly dir: string;
  readonly customers: Customers;
  readonly sessions: Sessions;
  readonly demo: DemoCustomers;
  readonly passwords: Passwords;
  readonly codes: Codes;
  /** Transfers as operations, decided on the reader or in the app, with their receipts (operations.ts). */
  readonly operations: Operations;
  readonly sogesmart: Sogesmart;
  /** Progéliance Net ⇄ Particuliers (passerelle/passerelle.ts). */
  readonly passerelle: Passerelle;
  /** The app API's answers by Idempotency-Key (web/idempotency.ts). */
  readonly idempotency: IdempotencyKeys;
  /** FOR DEVELOPMENT ONLY: the SMS the bank "sends" (dev-outbox.db), read by the phones' inboxes. */
  readonly outbox: SqliteDevOutbox;
  /** 32 random bytes, the root of the web layer's keys (web/csrf.ts, keypad.ts). */
  readonly webKey: Buffer;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Create the bank if the directory has none (the server); the adviser's commands never do. */
  readonly create: boolean;
  readonly now?: () => number;
  /** SogeSmart's app password shared by an account's users, as the guide has it (SOGESMART_LEGACY=1). */
  readonly legacySharedPassword?: boolean;
  /** The oldest SogeSmart app version the bank accepts (SOGESMART_MIN_APP_VERSION). */
  readonly minAppVersion?: string;
  /** Seconds between two SMS codes for one identifiant (the Provisioner's default, 60, unless set). */
  readonly startIntervalSeconds?: number;
}

export async function openBank(dir: string, o: OpenOptions): Promise<Bank> {
  if (!hasBank(dir)) {
    if (!o.create) throw new Error(`no bank in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const now = o.now ?? Date.now;
  const keys = secretFile(join(dir, "keys.json"), () =>
    // Simulated cards carry their test issuer key in clear, hence allowTestKeys (never in production).
    JSON.stringify(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true })),
  );
  const webKey = secretFile(join(dir, "web.key"), () => randomBytes(32).toString("hex"));
  // The passerelle tickets' signing key (Ed25519, PKCS#8): apart from the verifier's keys, it signs nothing else.
  const ticketKey = createPrivateKey(
    secretFile(join(dir, "passerelle.key"), () =>
      generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    ),
  );
  const db = new Database(privateFile(bankDatabase(dir)));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  const customers = new Customers(db);
  const sessions = new Sessions(db, now);
  const passwords = await Passwords.create();
  const codes = new Codes(privateFile(join(dir, "verify.db")), JSON.parse(keys) as SoftwareKeyMaterial, now);
  const operations = new Operations(codes.approvals(), now);
  const outbox = new SqliteDevOutbox(privateFile(join(dir, "dev-outbox.db")), { now });
  const sogesmart = new Sogesmart({
    db,
    customers,
    codes,
    passwords,
    sessions,
    operations,
    bankKeys: await operations.receiptKeys(),
    outbox,
    now,
    legacySharedPassword: o.legacySharedPassword ?? false,
    minAppVersion: o.minAppVersion,
    startIntervalSeconds: o.startIntervalSeconds,
  });
  const passerelle = new Passerelle({
    db,
    customers,
    codes,
    operations,
    sogesmart,
    tickets: new Tickets(db, { privateKey: ticketKey, publicKey: createPublicKey(ticketKey) }, now),
  });
  const demo = new DemoCustomers(db, { customers, codes, passwords, sogesmart, passerelle, now });
  return {
    dir,
    customers,
    sessions,
    demo,
    passwords,
    codes,
    operations,
    sogesmart,
    passerelle,
    idempotency: new IdempotencyKeys(db, now),
    outbox,
    webKey: Buffer.from(webKey, "hex"),
    close: async () => {
      db.close();
      await outbox.close();
      await codes.close();
    },
  };
}

/** The file's text, written first (0600, never over an existing file) when missing. */
function secretFile(path: string, make: () => string): string {
  if (!existsSync(path)) {
    try {
      writeFileSync(path, `${make()}\n`, { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process made it first
    }
  }
  return readFileSync(privateFile(path), "utf8").trim();
}

/**
 * The path, its file created 0600 if missing, and put back to 0600 if it was not (an older data directory) with
 * SQLite's -wal and -shm files beside it.
 */
function privateFile(path: string): string {
  closeSync(openSync(path, "a", 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  return path;
}
