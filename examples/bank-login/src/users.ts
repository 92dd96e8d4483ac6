import type Database from "better-sqlite3";

/**
 * The bank's customers, in its SQLite database (bank.db). No failure count and no lock here: the lockout is the
 * verifier's, one counter and one rule for codes and passwords alike (codes.ts).
 */
export type BankName = "coopanet" | "sogenet" | "progeliance";

export const BANK_NAMES: Readonly<Record<BankName, string>> = {
  coopanet: "Coop@net",
  sogenet: "SOGENET",
  progeliance: "Progéliance Net",
};

/** Why a SOGENET customer must choose a new password before anything else. */
export type MustChange = "first-login" | "adviser";

export interface Customer {
  readonly id: string;
  readonly bank: BankName;
  readonly name: string;
  /** scrypt hash (passwords.ts), for SOGENET customers who log in with a password. */
  readonly password: string | undefined;
  readonly mustChange: MustChange | undefined;
  /** The verifier credential (Sésame card or SGpass token) that logs this customer in. */
  readonly credential: string | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  bank TEXT NOT NULL CHECK (bank IN ('coopanet', 'sogenet', 'progeliance')),
  name TEXT NOT NULL,
  password TEXT,
  must_change TEXT CHECK (must_change IN ('first-login', 'adviser')),
  credential TEXT
);
CREATE TABLE IF NOT EXISTS first_logins (
  customer TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);`;

interface Row {
  id: string;
  bank: BankName;
  name: string;
  password: string | null;
  must_change: MustChange | null;
  credential: string | null;
}

export class Customers {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(SCHEMA);
    migrate(db);
  }

  /** The customer of this bank with this id (a customer of the other bank is nobody here). */
  get(bank: BankName, id: string): Customer | undefined {
    const r = this.#db.prepare("SELECT * FROM customers WHERE id = ? AND bank = ?").get(id, bank) as
      | Row
      | undefined;
    return r && customerOf(r);
  }

  /** Any bank's customer (the adviser's commands take an id alone: ids are unique across both banks). */
  find(id: string): Customer | undefined {
    const r = this.#db.prepare("SELECT * FROM customers WHERE id = ?").get(id) as Row | undefined;
    return r && customerOf(r);
  }

  /** Adds a customer; false when the id is taken (the caller draws another). */
  add(c: Customer): boolean {
    return (
      this.#db
        .prepare(
          `INSERT INTO customers (id, bank, name, password, must_change, credential) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(c.id, c.bank, c.name, c.password ?? null, c.mustChange ?? null, c.credential ?? null).changes ===
      1
    );
  }

  /** The customer logged in (the passerelle's prerequisite: « une première connexion sur chacun des Espaces »). */
  loggedIn(id: string, at: number): void {
    this.#db
      .prepare("INSERT INTO first_logins (customer, at) VALUES (?, ?) ON CONFLICT DO NOTHING")
      .run(id, at);
  }

  /** Whether the customer's space is active: a first login done, and no provisional password left to change. */
  active(bank: BankName, id: string): boolean {
    const c = this.get(bank, id);
    const first = this.#db.prepare("SELECT 1 FROM first_logins WHERE customer = ?").get(id);
    return c !== undefined && first !== undefined && c.mustChange === undefined;
  }

  setPassword(id: string, hash: string, mustChange: MustChange | undefined): void {
    this.#db
      .prepare("UPDATE customers SET password = ?, must_change = ? WHERE id = ?")
      .run(hash, mustChange ?? null, id);
  }
}

/**
 * A bank made before Progéliance Net has a `customers` table whose CHECK knows two banks: it is rebuilt with
 * the schema above (SQLite cannot alter a CHECK), its rows kept, in one transaction.
 */
function migrate(db: Database.Database): void {
  const t = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customers'").get() as {
    sql: string;
  };
  if (t.sql.includes("'progeliance'")) return;
  db.transaction(() => {
    db.exec("ALTER TABLE customers RENAME TO customers_before_progeliance");
    db.exec(SCHEMA);
    db.exec("INSERT INTO customers SELECT * FROM customers_before_progeliance");
    db.exec("DROP TABLE customers_before_progeliance");
  })();
}

function customerOf(r: Row): Customer {
  return {
    id: r.id,
    bank: r.bank,
    name: r.name,
    password: r.password ?? undefined,
    mustChange: r.must_change ?? undefined,
    credential: r.credential ?? undefined,
  };
}
