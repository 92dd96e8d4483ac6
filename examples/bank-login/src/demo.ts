import { randomBytes, randomInt } from "node:crypto";
import { toHex } from "@capkit/core";
import { issuerRecordOf, newSimCardState, parseSimCardState, type SimCardState } from "@capkit/token-sim";
import type Database from "better-sqlite3";
import type { Codes } from "./codes.js";
import type { Passerelle } from "./passerelle/passerelle.js";
import type { Passwords } from "./passwords.js";
import type { Sogesmart } from "./sogesmart.js";
import { digest, newToken } from "./tokens.js";
import type { BankName, Customers } from "./users.js";

/**
 * Demo only: each browser gets its own customers — a Coop@net customer with a simulated Sésame card, a
 * SOGENET customer with a provisional password, a SOGENET customer with an SGpass, and a second SOGENET
 * customer who shares the first one's SogeSmart account (its co-user, each with a phone of their own) — and the
 * devices that go with them, which the page puts beside the form (`/devices/*`, answered only to that browser). The browser is
 * known by a random 256-bit id in its `bank_demo` cookie; the database keeps its SHA-256.
 *
 * A real bank hands devices out of band (a card by post, a token at the branch) and never serves a device's
 * keys to a browser; nothing of this file belongs in one.
 */
export const DEMO_CARD_PIN = "1234";
export const DEMO_FIRST_PASSWORD = "112233";
/** The Progéliance Net administrator's code secret (no provisional one: a professional's space is set up by the adviser). */
export const DEMO_PRO_PASSWORD = "224466";

export interface DemoSet {
  readonly coopanet: string;
  readonly sogenetPassword: string;
  readonly sogenetSgpass: string;
  /** The card as the bank issued it, with its PIN tries as last reported by the browser (0: blocked). */
  readonly card: SimCardState;
  readonly cardCredential: string;
  readonly sgpass: { readonly id: string; readonly secretHex: string };
  /** SogeSmart: one account, two users — A (`sogenetPassword`) and B, its co-user — and their phones. */
  readonly sogesmart?: {
    readonly account: string;
    readonly a: SogesmartUser;
    readonly b: SogesmartUser;
  };
  /** Progéliance Net: a professional contract whose administrator is SogeSmart user A (`sogenetPassword`). */
  readonly progeliance?: { readonly identifiant: string; readonly contract: string };
}

export interface SogesmartUser {
  readonly identifiant: string;
  readonly phone: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS demo_browsers (
  id_hash TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  devices TEXT NOT NULL
);`;

const NAMES = ["Camille Martin", "Dominique Bernard", "Alex Petit", "Claude Moreau", "Sacha Laurent"];
/** Coop@net user codes: 8 characters, letters and digits that cannot be misread (no 0/O, 1/I/L). */
const USER_CODE_CHARS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

export class DemoCustomers {
  readonly #db: Database.Database;
  readonly #customers: Customers;
  readonly #codes: Codes;
  readonly #passwords: Passwords;
  readonly #sogesmart: Sogesmart;
  readonly #passerelle: Passerelle;
  readonly #now: () => number;

  constructor(
    db: Database.Database,
    parts: {
      customers: Customers;
      codes: Codes;
      passwords: Passwords;
      sogesmart: Sogesmart;
      passerelle: Passerelle;
      now: () => number;
    },
  ) {
    this.#db = db;
    this.#customers = parts.customers;
    this.#codes = parts.codes;
    this.#passwords = parts.passwords;
    this.#sogesmart = parts.sogesmart;
    this.#passerelle = parts.passerelle;
    this.#now = parts.now;
    db.exec(SCHEMA);
  }

  /** The demo set of the browser with this cookie id. */
  get(browser: string | undefined): DemoSet | undefined {
    if (!browser) return undefined;
    const r = this.#db.prepare("SELECT devices FROM demo_browsers WHERE id_hash = ?").get(digest(browser)) as
      | { devices: string }
      | undefined;
    if (!r) return undefined;
    const d = JSON.parse(r.devices) as DemoSet;
    return { ...d, card: parseSimCardState(d.card) };
  }

  /** Three new customers and their devices for one browser; returns the browser's cookie id. */
  async create(): Promise<{ browser: string; set: DemoSet }> {
    const card = newSimCardState("uk", DEMO_CARD_PIN);
    // The `uk` card profile (IAF A0): its SIGNATURE binds the amount, which the transfer page needs. The
    // `sesame` profile's IAF (00) has no amount flag, so a Sésame-profile card could only sign the challenge.
    const coopanet = this.#add((id) => ({ id, bank: "coopanet", credential: `card-${id}` }), userCode);
    const firstPassword = await this.#passwords.hash(DEMO_FIRST_PASSWORD);
    const sogenetPassword = this.#add(
      (id) => ({ id, bank: "sogenet", password: firstPassword, mustChange: "first-login" }),
      identifiant,
    );
    const sogenetSgpass = this.#add(
      (id) => ({ id, bank: "sogenet", credential: `sgpass-${id}` }),
      identifiant,
    );
    const coUser = this.#add(
      (id) => ({ id, bank: "sogenet", password: firstPassword, mustChange: "first-login" }),
      identifiant,
    );
    await this.#codes.addPasswordCustomer("sogenet", sogenetPassword);
    const proPassword = await this.#passwords.hash(DEMO_PRO_PASSWORD);
    const sogenetName = this.#customers.get("sogenet", sogenetPassword)!.name;
    await this.#codes.addPasswordCustomer("sogenet", coUser);
    const account = `SM${sogenetPassword}`;
    const a = { identifiant: sogenetPassword, phone: demoPhone(sogenetPassword) };
    const b = { identifiant: coUser, phone: demoPhone(coUser) };
    await this.#sogesmart.addUser(a.identifiant, account, a.phone);
    await this.#sogesmart.addUser(b.identifiant, account, b.phone);
    const cardCredential = `card-${coopanet}`;
    await this.#codes.enrollCard("coopanet", coopanet, cardCredential, issuerRecordOf(card), card.atc);
    const secret = randomBytes(20);
    const sgpass = { id: `sgpass-${sogenetSgpass}`, secretHex: toHex(secret) };
    await this.#codes.enrollTotp("sogenet", sogenetSgpass, sgpass.id, secret);
    const pro = this.#add(
      (id) => ({ id, bank: "progeliance", password: proPassword, name: sogenetName }),
      identifiant,
    );
    await this.#codes.addPasswordCustomer("progeliance", pro);
    const contract = `PRO${pro}`;
    this.#passerelle.addContract({ id: contract, administrator: pro, personal: sogenetPassword });
    const set: DemoSet = {
      coopanet,
      sogenetPassword,
      sogenetSgpass,
      card,
      cardCredential,
      sgpass,
      sogesmart: { account, a, b },
      progeliance: { identifiant: pro, contract },
    };
    const browser = newToken();
    this.#db
      .prepare("INSERT INTO demo_browsers (id_hash, created_at, devices) VALUES (?, ?, ?)")
      .run(digest(browser), this.#now(), JSON.stringify(set));
    return { browser, set };
  }

  /**
   * The browser's reader showed CARTE BLOQUEE: the card is handed out blocked from now on, so neither a reload
   * nor cleared browser storage gives its PIN tries back. Only ever towards blocked.
   */
  blockCard(browser: string): void {
    const set = this.get(browser);
    if (!set || set.card.pinTries === 0) return;
    this.#db
      .prepare("UPDATE demo_browsers SET devices = ? WHERE id_hash = ?")
      .run(JSON.stringify({ ...set, card: { ...set.card, pinTries: 0 } }), digest(browser));
  }

  /** Adds a customer under a fresh random id (drawn again on the rare collision). */
  #add(
    make: (id: string) => Partial<Parameters<Customers["add"]>[0]> & { id: string; bank: BankName },
    draw: () => string,
  ): string {
    for (;;) {
      const c = make(draw());
      const added = this.#customers.add({
        name: NAMES[randomInt(NAMES.length)]!,
        password: undefined,
        mustChange: undefined,
        credential: undefined,
        ...c,
      });
      if (added) return c.id;
    }
  }
}

function userCode(): string {
  return Array.from({ length: 8 }, () => USER_CODE_CHARS[randomInt(USER_CODE_CHARS.length)]).join("");
}

/**
 * A demo phone number, one per customer (the dev outbox files SMS by number): +687 and 8 digits, which no phone
 * in New Caledonia has (its numbers have 6), so it can never be someone's.
 */
function demoPhone(id: string): string {
  return `+687 ${id.replace(/(..)(?=.)/g, "$1 ")}`;
}

function identifiant(): string {
  return String(randomInt(10_000_000, 100_000_000));
}
