import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CapkitError } from "@capkit/core";
import { type Postgres, startPostgres } from "@capkit/test-support";
import { FakeClock, SgpassToken } from "@capkit/token-sim";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SecurityEvents, type SecurityStore } from "../src/approvals.js";
import { SoftwareKeyProvider, type StateStore, Verifier } from "../src/index.js";
import {
  PostgresProvisioningStore,
  PostgresSecurityStore,
  PostgresStore,
  type PostgresStoreOptions,
} from "../src/postgres.js";
import {
  SqliteDevOutbox,
  SqliteProvisioningStore,
  SqliteSecurityStore,
  SqliteStore,
  type SqliteStoreOptions,
} from "../src/sqlite.js";
import { MATERIAL } from "./fixtures/unprefixed/material.js";

/**
 * capkit in the application's own database (src/stores/tables.ts, src/stores/migrations.ts): its tables carry
 * its prefix (and on PostgreSQL its schema), an application's table is never renamed, altered or emptied, a
 * table with capkit's name that is not capkit's is reported as what it is, and the databases of earlier versions
 * — the 0.1 schema, and the unprefixed tables of later ones (fixtures/unprefixed, written by that version) — are
 * adopted with their data. Both engines, each test on a database of its own.
 */

type Options = SqliteStoreOptions & PostgresStoreOptions;
type Row = Record<string, unknown>;

interface Db {
  /** The application's own connection: its DDL and its rows. */
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<Row[]>;
  /** Tables and indexes of the application's namespace (SQLite's main; PostgreSQL's public). */
  tables(): Promise<string[]>;
  indexes(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  store(o?: Options): Promise<StateStore>;
  security(o?: Options): Promise<SecurityStore>;
  provisioning(store: StateStore): Promise<unknown>;
  /** What the two-process test hands its workers. */
  readonly target: string;
  close(): Promise<void>;
}

interface Engine {
  readonly name: "SQLite" | "PostgreSQL";
  fresh(): Promise<Db>;
  /** The 0.1 schema's DDL (the first release: no users, no meta; challenges had a `used` column). */
  readonly first: string;
  /** The unprefixed fixture, loaded as the application's connection runs a file. */
  readonly fixture: string;
  readonly sqlite: boolean;
}

const dir = mkdtempSync(join(tmpdir(), "capkit-appdb-"));
let pgServer: Postgres | undefined;
const server = startPostgres().then((p) => {
  pgServer = p;
  return p;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgServer?.dispose();
}, 60_000);
let serial = 0;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const SQLITE: Engine = {
  name: "SQLite",
  sqlite: true,
  first: `
    CREATE TABLE credentials (id TEXT PRIMARY KEY, params TEXT NOT NULL, sealed TEXT, last INTEGER NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
    CREATE TABLE challenges (id TEXT PRIMARY KEY, credential_id TEXT NOT NULL, function TEXT NOT NULL,
      value TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, credential_id TEXT NOT NULL,
      action TEXT NOT NULL, result TEXT NOT NULL, counter INTEGER, detail TEXT);
    CREATE INDEX audit_credential ON audit (credential_id, seq);`,
  fixture: readFileSync(here("./fixtures/unprefixed/sqlite.sql"), "utf8"),
  async fresh() {
    const path = join(dir, `db-${serial++}.db`);
    const app = new Database(path);
    return {
      target: path,
      exec: async (sql) => void app.exec(sql),
      rows: async (sql) => app.prepare(sql).all() as Row[],
      tables: async () =>
        (
          app
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .all() as { name: string }[]
        ).map((r) => r.name),
      indexes: async () =>
        (
          app
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .all() as { name: string }[]
        ).map((r) => r.name),
      columns: async (table) => (app.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name),
      store: async (o) => new SqliteStore(path, o),
      security: async (o) => new SqliteSecurityStore(path, o),
      provisioning: async (s) => new SqliteProvisioningStore(s as SqliteStore),
      close: async () => void app.close(),
    };
  },
};

const POSTGRES: Engine = {
  name: "PostgreSQL",
  sqlite: false,
  first: `
    CREATE TABLE credentials (id TEXT PRIMARY KEY, params JSONB NOT NULL, sealed TEXT, last BIGINT NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0, locked BOOLEAN NOT NULL DEFAULT FALSE, created_at BIGINT NOT NULL);
    CREATE TABLE challenges (id TEXT PRIMARY KEY, credential_id TEXT NOT NULL, function TEXT NOT NULL,
      value TEXT NOT NULL, expires_at BIGINT NOT NULL, used BOOLEAN NOT NULL DEFAULT FALSE);
    CREATE TABLE audit (seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, credential_id TEXT NOT NULL,
      action TEXT NOT NULL, result TEXT NOT NULL, counter BIGINT, detail TEXT);
    CREATE INDEX audit_credential ON audit (credential_id, seq);`,
  // pg_dump empties the session's search_path; the application's connection gets its own back.
  fixture: `${readFileSync(here("./fixtures/unprefixed/postgres.sql"), "utf8")}\nRESET search_path;`,
  async fresh() {
    const { url } = await server;
    const name = `appdb_${serial++}`;
    const admin = new pg.Client(url);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const target = url.replace(/\/[^/]*$/, `/${name}`);
    const app = new pg.Client(target);
    await app.connect();
    const closing: { close(): Promise<void> }[] = [];
    const opened = <T extends { close(): Promise<void> }>(s: T) => {
      closing.push(s);
      return s;
    };
    return {
      target,
      exec: async (sql) => void (await app.query(sql)),
      rows: async (sql) => (await app.query(sql)).rows,
      tables: async () =>
        (
          await app.query(
            "SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
          )
        ).rows.map((r) => r.t),
      indexes: async () =>
        (
          await app.query(
            "SELECT schemaname || '.' || indexname AS t FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
          )
        ).rows.map((r) => r.t),
      columns: async (table) =>
        (
          await app.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            [table],
          )
        ).rows.map((r) => r.column_name),
      store: async (o) => opened(await PostgresStore.connect(target, o)),
      security: async (o) => opened(await PostgresSecurityStore.connect(target, o)),
      provisioning: async (s) => PostgresProvisioningStore.open(s as PostgresStore),
      close: async () => {
        for (const s of closing) await s.close().catch(() => {});
        await app.end();
      },
    };
  },
};

/** A table as the application sees it: its columns and every row. */
async function snapshot(db: Db, table: string) {
  return { columns: await db.columns(table), rows: await db.rows(`SELECT * FROM ${table} ORDER BY 1`) };
}

/**
 * The application's users, audit and credentials tables, one statement at a time: the PostgreSQL engine's `Db`
 * is one pg.Client, which runs one query at a time (a second queued on it is the misuse node-postgres warns of,
 * and pg 9 refuses).
 */
async function appTables(db: Db) {
  const out = [];
  for (const table of ["users", "audit", "credentials"]) out.push(await snapshot(db, table));
  return out;
}

/** The application's own tables with capkit's unprefixed names (and one its prefixed name would take). */
const APP_TABLES = `
  CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TEXT);
  INSERT INTO users (id, email, created_at) VALUES (1, 'alice@example.com', '2026-01-01'), (2, 'bob@example.com', NULL);
  CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
  INSERT INTO audit (id, what) VALUES (7, 'login'), (8, 'logout');
  CREATE TABLE credentials (id TEXT PRIMARY KEY, kind TEXT NOT NULL);
  INSERT INTO credentials (id, kind) VALUES ('pw-1', 'password');`;

/** An enrolment, an accept, a wrong code and an event: every set of tables written once. */
async function exercise(db: Db, o?: Options) {
  const store = await db.store(o);
  await db.provisioning(store);
  const security = await db.security(o);
  const keys = new SoftwareKeyProvider(MATERIAL);
  const clock = new FakeClock(Date.UTC(2026, 11, 5, 9, 0, 0));
  const verifier = new Verifier({ store, keys, now: () => clock.now() });
  const secret = Buffer.from("12345678901234567890");
  const id = `t-${serial++}`;
  await verifier.enroll({ id, kind: "totp", secret, user: "alice" });
  const token = new SgpassToken({ kind: "totp", secret, clock });
  expect((await verifier.verify({ id, code: token.press().code! })).result).toBe("accepted");
  expect((await verifier.verify({ user: "alice", code: "000000" })).result).toBe("rejected");
  const events = new SecurityEvents({ store: security, now: () => clock.now() });
  await events.record({ type: "password-change", subject: { kind: "user", id: "alice" }, cause: "test" });
  expect((await verifier.verifyAudit()).ok).toBe(true);
  await security.close();
  await store.close();
}

const q = (e: Engine, name: string) => (e.sqlite ? name : `public.${name}`);

describe.each([SQLITE, POSTGRES])("$name: capkit in the application's database", (e) => {
  it("an application's users, audit and credentials tables are never renamed, altered or emptied; capkit's go beside them", async () => {
    const db = await e.fresh();
    try {
      await db.exec(APP_TABLES);
      const before = await appTables(db);
      await exercise(db);
      expect(await appTables(db)).toEqual(before);
      const tables = await db.tables();
      for (const t of ["meta", "users", "audit", "credentials", "operations", "provisioning_users"])
        expect(tables).toContain(q(e, `capkit_${t}`));
      // Every table and index capkit made carries its prefix; the application's are as they were.
      expect(tables.filter((t) => !t.includes("capkit_"))).toEqual(
        ["users", "audit", "credentials"].map((t) => q(e, t)).sort(),
      );
      const appIndexes = (await db.indexes()).filter(
        (i) => !i.includes("capkit_") && !i.includes("sqlite_autoindex"),
      );
      expect(appIndexes).toEqual(
        e.sqlite ? [] : ["audit_pkey", "credentials_pkey", "users_pkey"].map((t) => q(e, t)),
      );
      // Opened again: nothing to migrate, nothing changed.
      await exercise(db);
      expect(await appTables(db)).toEqual(before);
    } finally {
      await db.close();
    }
  });

  it("a table with capkit's name that is not capkit's: STORE_SCHEMA_CONFLICT naming it, nothing created; another prefix works", async () => {
    const db = await e.fresh();
    try {
      await db.exec(
        "CREATE TABLE capkit_users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO capkit_users VALUES (1, 'Zoé');",
      );
      const before = await snapshot(db, "capkit_users");
      const tables = await db.tables();
      const error = await db.store().then(
        () => undefined,
        (x: unknown) => x as { code: string; message: string; hint: string },
      );
      expect(error?.code).toBe("STORE_SCHEMA_CONFLICT");
      expect(error?.message).toContain('"capkit_users"');
      expect(error?.message).toContain("not capkit's");
      expect(error?.hint).toContain("tablePrefix");
      expect(error?.hint).not.toMatch(/retry/i);
      expect(await db.tables()).toEqual(tables); // rolled back: no capkit_meta, no capkit_credentials
      expect(await snapshot(db, "capkit_users")).toEqual(before);
      await exercise(db, { tablePrefix: "auth_" });
      expect(await snapshot(db, "capkit_users")).toEqual(before);
      expect(await db.tables()).toContain(q(e, "auth_credentials"));
    } finally {
      await db.close();
    }
  });

  it("a table with capkit's name in other letter case is the same table (SQLite names are case-insensitive): STORE_SCHEMA_CONFLICT, nothing created on it", async () => {
    const db = await e.fresh();
    try {
      await db.exec(
        "CREATE TABLE \"CAPKIT_CREDENTIALS\" (id TEXT PRIMARY KEY, user_id TEXT, kind TEXT); INSERT INTO \"CAPKIT_CREDENTIALS\" VALUES ('c-1', 'u', 'pw');",
      );
      const tables = await db.tables();
      const indexes = await db.indexes();
      if (e.sqlite)
        await expect(db.store()).rejects.toMatchObject({
          code: "STORE_SCHEMA_CONFLICT",
          details: { table: "capkit_credentials" },
        });
      else {
        // PostgreSQL keeps a quoted name's case: "CAPKIT_CREDENTIALS" is another table, left as it is.
        await (await db.store()).close();
        tables.push(...(await db.tables()).filter((t) => !tables.includes(t)));
      }
      expect(await db.tables()).toEqual(tables);
      if (e.sqlite) expect(await db.indexes()).toEqual(indexes);
      expect(await db.rows('SELECT * FROM "CAPKIT_CREDENTIALS"')).toEqual([
        { id: "c-1", user_id: "u", kind: "pw" },
      ]);
    } finally {
      await db.close();
    }
  });

  it("the first schema (0.1: no meta, no users) is adopted by its exact columns: renamed with its indexes, brought up to date, its credential still verifies", async () => {
    const db = await e.fresh();
    try {
      const keys = new SoftwareKeyProvider(MATERIAL);
      const secret = Buffer.from("12345678901234567890");
      const params = JSON.stringify({ kind: "hotp", algorithm: "SHA1", digits: 6, lookAhead: 10 });
      await db.exec(e.first);
      await db.exec(
        `INSERT INTO credentials (id, params, sealed, last, created_at) VALUES ('legacy', '${params}', '${await keys.seal("legacy", "hmac", secret)}', 4, 1)`,
      );
      // The application's own users table (0.1 had none): never taken for capkit's.
      await db.exec(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL); INSERT INTO users VALUES (1, 'a@b.c');",
      );
      const users = await snapshot(db, "users");
      const store = await db.store();
      const verifier = new Verifier({ store, keys });
      expect(await verifier.status("legacy")).toMatchObject({ state: "active", last: 4 });
      const token = new SgpassToken({ kind: "hotp", secret, clock: new FakeClock(0) });
      for (let i = 0; i < 5; i++) token.press();
      expect((await verifier.verify({ id: "legacy", code: token.press().code! })).result).toBe("accepted");
      await store.close();
      const tables = await db.tables();
      for (const t of ["credentials", "challenges", "audit", "users", "meta"])
        expect(tables).toContain(q(e, `capkit_${t}`));
      expect(tables).not.toContain(q(e, "credentials"));
      expect(tables).not.toContain(q(e, "audit"));
      expect(await snapshot(db, "users")).toEqual(users);
      expect(await db.columns("capkit_challenges")).toContain("used"); // kept, unused
      expect(
        (await db.indexes()).filter((i) => !i.includes("capkit_") && !i.includes("sqlite_autoindex")),
      ).toEqual(e.sqlite ? [] : [q(e, "users_pkey")]);
    } finally {
      await db.close();
    }
  });

  it("on the 0.1 path only the tables 0.1 created are adopted: the application's users with fitting column names is left as it is", async () => {
    const db = await e.fresh();
    try {
      await db.exec(e.first);
      await db.exec(
        "CREATE TABLE users (id TEXT PRIMARY KEY, failures INTEGER, locked INTEGER); INSERT INTO users VALUES ('app-1', 3, 0);",
      );
      const users = await snapshot(db, "users");
      await (await db.store()).close();
      expect(await snapshot(db, "users")).toEqual(users);
      expect(await db.rows("SELECT count(*) AS n FROM capkit_users")).toEqual([{ n: e.sqlite ? 0 : "0" }]);
      expect(await db.columns("capkit_users")).toContain("locked_at");
      expect(await db.tables()).not.toContain(q(e, "credentials"));
    } finally {
      await db.close();
    }
  });

  it("an application's own meta table does not stop the 0.1 upgrade: the 0.1 tables are adopted, its meta is left as it is", async () => {
    const db = await e.fresh();
    try {
      await db.exec(e.first);
      await db.exec(
        `INSERT INTO credentials (id, params, sealed, last, created_at) VALUES ('legacy', '{"kind":"hotp","algorithm":"SHA1","digits":6,"lookAhead":10}', NULL, 4, 1)`,
      );
      await db.exec(
        "CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT); INSERT INTO meta VALUES ('theme', 'dark');",
      );
      const meta = await snapshot(db, "meta");
      const store = await db.store();
      expect(
        await new Verifier({ store, keys: new SoftwareKeyProvider(MATERIAL) }).status("legacy"),
      ).toMatchObject({
        last: 4,
      });
      await store.close();
      expect(await snapshot(db, "meta")).toEqual(meta);
      expect(await db.tables()).not.toContain(q(e, "credentials"));
    } finally {
      await db.close();
    }
  });

  it("capkit's older credentials table with a column the application added: STORE_SCHEMA_CONFLICT naming it, never an empty store beside it", async () => {
    const db = await e.fresh();
    try {
      await db.exec(e.first);
      await db.exec("ALTER TABLE credentials ADD COLUMN note TEXT");
      const tables = await db.tables();
      const error = await db.store().then(
        () => undefined,
        (x: unknown) => x as { code: string; message: string; hint: string; details: unknown },
      );
      expect(error).toMatchObject({ code: "STORE_SCHEMA_CONFLICT", details: { table: "credentials" } });
      expect(error?.message).toContain('"credentials"');
      expect(error?.message).toContain("note");
      expect(error?.hint).not.toMatch(/retry/i);
      expect(await db.tables()).toEqual(tables);
    } finally {
      await db.close();
    }
  });

  it("the unprefixed tables of the versions before the prefix (fixtures/unprefixed, written by that version) are adopted with their data and their trail", async () => {
    const db = await e.fresh();
    try {
      await db.exec(e.fixture);
      const store = await db.store();
      await db.provisioning(store);
      const security = await db.security();
      const keys = new SoftwareKeyProvider(MATERIAL);
      const verifier = new Verifier({ store, keys, now: () => Date.UTC(2026, 11, 1, 10, 0, 0) });
      // The fixture accepted counter 0 and counted a wrong code; RFC 4226 Appendix D: counter 1 → 287082.
      expect(await verifier.status("legacy-hotp")).toMatchObject({ last: 0, user: "alice" });
      expect((await verifier.verify({ id: "legacy-hotp", code: "287082" })).result).toBe("accepted");
      expect((await verifier.verify({ id: "legacy-hotp", code: "287082" })).result).toBe("rejected");
      const events = await new SecurityEvents({ store: security }).list({
        subject: { kind: "user", id: "alice" },
      });
      expect(events.map((x) => x.cause)).toEqual(["fixture"]);
      // The trail goes on from the adopted chain's head: every row, old and new, verifies.
      const audit = await verifier.verifyAudit();
      expect(audit).toMatchObject({ ok: true, unchained: 0 });
      expect(audit.entries).toBeGreaterThan(4);
      await security.close();
      await store.close();
      const tables = await db.tables();
      expect(tables.filter((t) => !t.includes("capkit_"))).toEqual([]);
      expect(
        (await db.indexes()).filter((i) => !i.includes("capkit_") && !i.includes("sqlite_autoindex")),
      ).toEqual([]);
      const meta = await db.rows(
        "SELECT name, value FROM capkit_meta WHERE name LIKE 'schema:%' ORDER BY name",
      );
      expect(meta).toEqual([
        { name: "schema:approvals", value: "1" },
        { name: "schema:provisioning", value: "1" },
        { name: "schema:verifier", value: "1" },
      ]);
    } finally {
      await db.close();
    }
  });

  it("a database newer than the code is refused with STORE_SCHEMA_NEWER, and left as it is", async () => {
    const db = await e.fresh();
    try {
      await (await db.store()).close();
      await db.exec("UPDATE capkit_meta SET value = '2' WHERE name = 'schema:verifier'");
      await expect(db.store()).rejects.toMatchObject({ code: "STORE_SCHEMA_NEWER" });
      expect(await db.rows("SELECT value FROM capkit_meta WHERE name = 'schema:verifier'")).toEqual([
        { value: "2" },
      ]);
    } finally {
      await db.close();
    }
  });

  it("the prefix and schema are checked at the door: INPUT_INVALID, nothing opened", async () => {
    const db = await e.fresh();
    try {
      for (const tablePrefix of ["Capkit_", "1x_", "a-b", "a b", "x".repeat(17), "", 42, "a;DROP"])
        await expect(db.store({ tablePrefix } as Options)).rejects.toMatchObject({ code: "INPUT_INVALID" });
      if (!e.sqlite)
        for (const schema of ["pg_catalog", "Bank", "a.b", "", 7])
          await expect(db.store({ schema } as Options)).rejects.toMatchObject({ code: "INPUT_INVALID" });
      else
        await expect(db.store({ schema: "x" } as Options)).rejects.toMatchObject({ code: "INPUT_INVALID" });
      expect(await db.tables()).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("processes opening a fresh database at once, and adopting the unprefixed one at once: each opens, the steps run once", async () => {
    for (const [fixture, options] of [
      [false, { tablePrefix: "race_", ...(e.sqlite ? {} : { schema: "race" }) }],
      [true, {}],
    ] as const) {
      const db = await e.fresh();
      try {
        if (fixture) await db.exec(e.fixture);
        const at = Date.now() + 3000;
        const out = await Promise.all([0, 1, 2, 3].map(() => migrateWorker(e, db.target, options, at)));
        expect(out).toEqual(["opened", "opened", "opened", "opened"]);
        const prefix = options.tablePrefix ?? "capkit_";
        const meta = `${"schema" in options ? `${options.schema}.` : ""}${prefix}meta`;
        expect(
          await db.rows(`SELECT name, value FROM ${meta} WHERE name LIKE 'schema:%' ORDER BY name`),
        ).toEqual([
          { name: "schema:approvals", value: "1" },
          { name: "schema:provisioning", value: "1" },
          { name: "schema:verifier", value: "1" },
        ]);
        if (fixture) expect((await db.tables()).filter((t) => !t.includes("capkit_"))).toEqual([]);
      } finally {
        await db.close();
      }
    }
  }, 120_000);
});

describe("the application's connection", () => {
  it("SQLite: an open better-sqlite3 Database is used and left open by every store; one not synchronous=FULL is refused", async () => {
    const app = new Database(join(dir, "app-owned.db"));
    app.pragma("journal_mode = WAL");
    app.pragma("synchronous = FULL");
    const store = new SqliteStore(app);
    new SqliteProvisioningStore(store);
    const security = new SqliteSecurityStore(app, {});
    const outbox = new SqliteDevOutbox(app);
    await outbox.sendSms({ feature: "activation", to: "+33600000000", text: "code 123456" } as never);
    await outbox.close();
    await security.close();
    await store.close();
    expect(app.open).toBe(true);
    expect(app.prepare("SELECT count(*) AS n FROM capkit_dev_outbox").get()).toEqual({ n: 1 });
    app.close();
    const relaxed = new Database(join(dir, "relaxed.db"));
    relaxed.pragma("synchronous = NORMAL");
    expect(() => new SqliteStore(relaxed)).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
    expect(relaxed.open).toBe(true);
    relaxed.close();
  });

  it("PostgreSQL: an application's own meta is not read unless adoption is possible (other types; no SELECT for capkit's role)", async () => {
    const typed = await POSTGRES.fresh();
    const role = `capkit_role_${serial++}`;
    try {
      await typed.exec(
        "CREATE TABLE meta (name UUID PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('6f1c2a4e-0d1b-4c1e-9a3f-1b2c3d4e5f60', 'x');",
      );
      await (await typed.store()).close();
      await (await typed.store({ schema: "auth" })).close();
      await typed.exec(
        `DROP TABLE meta; CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('k', 'v');
         CREATE ROLE ${role} LOGIN; GRANT USAGE, CREATE ON SCHEMA public TO ${role}; GRANT CREATE ON DATABASE ${typed.target.replace(/.*\//, "")} TO ${role};`,
      );
      const url = typed.target.replace(/\/\/[^@]*@/, `//${role}@`);
      for (const o of [{}, { schema: "auth_r" }])
        await (await PostgresStore.connect(url, { tablePrefix: "r_", ...o })).close();
      expect(await typed.rows("SELECT name, value FROM meta")).toEqual([{ name: "k", value: "v" }]);
    } finally {
      await typed.close();
    }
  });

  it("PostgreSQL: capkit's unprefixed tables beside a meta capkit cannot read (no SELECT for its role; a view that raises) or of other types: STORE_SCHEMA_CONFLICT naming the table, nothing adopted or created", async () => {
    const db = await POSTGRES.fresh();
    const role = `capkit_role_${serial++}`;
    try {
      await db.exec(POSTGRES.fixture);
      const refused = async (connect: () => Promise<PostgresStore>, table = "meta") => {
        const before = await db.tables();
        const e = await connect().then(
          (s) => s.close().then(() => undefined),
          (x: unknown) => x,
        );
        expect(e, "the store opened empty beside capkit's older tables").toBeInstanceOf(CapkitError);
        expect(e, (e as Error).message).toMatchObject({ code: "STORE_SCHEMA_CONFLICT", details: { table } });
        expect((e as CapkitError).message).toContain(`"${table}"`);
        expect(await db.tables(), "nothing adopted, nothing created").toEqual(before);
      };
      // capkit's role may use the schema and its tables, but not read meta.
      const name = db.target.replace(/.*\//, "");
      await db.exec(
        `CREATE ROLE ${role} LOGIN; GRANT USAGE, CREATE ON SCHEMA public TO ${role}; GRANT CREATE ON DATABASE ${name} TO ${role};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}; REVOKE ALL ON meta FROM ${role};`,
      );
      await refused(() => PostgresStore.connect(db.target.replace(/\/\/[^@]*@/, `//${role}@`)));
      // meta a view with capkit's columns whose read fails (an application's function raising): the table's, not
      // the server's — no "retry when the database is back".
      await db.exec(
        `ALTER TABLE meta RENAME TO meta_kept;
         CREATE FUNCTION meta_rows() RETURNS TABLE (name TEXT, value TEXT) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'not for capkit'; END $$;
         CREATE VIEW meta AS SELECT * FROM meta_rows();`,
      );
      await refused(() => PostgresStore.connect(db.target));
      // meta with other types (not read: its key cannot be capkit's): the credentials table is then judged by its
      // columns alone — not 0.1's, yet every 0.1 column — and stops the store rather than opening beside it.
      await db.exec(
        "DROP VIEW meta; DROP FUNCTION meta_rows(); ALTER TABLE meta_kept RENAME TO meta; ALTER TABLE meta ALTER COLUMN value TYPE JSONB USING to_jsonb(value);",
      );
      await refused(() => PostgresStore.connect(db.target), "credentials");
    } finally {
      await db.close();
    }
  });

  it("SQLite: the dev outbox opened first does not keep the old meta's unknown-subject key from being adopted", async () => {
    const path = join(dir, "outbox-first.db");
    const app = new Database(path);
    app.exec(SQLITE.fixture);
    const key = app.prepare("SELECT value FROM meta WHERE name = 'unknown-subject-key'").get();
    const outbox = new SqliteDevOutbox(app);
    await outbox.close();
    await new SqliteStore(app).close();
    expect(app.prepare("SELECT value FROM capkit_meta WHERE name = 'unknown-subject-key'").get()).toEqual(
      key,
    );
    expect(app.prepare("SELECT name FROM sqlite_master WHERE name = 'meta'").get()).toBeUndefined();
    app.close();
  });

  it('PostgreSQL: the 0.1 tables in a current schema whose name holds a " are adopted (names from the server are quoted with " doubled)', async () => {
    const db = await POSTGRES.fresh();
    try {
      const name = db.target.replace(/.*\//, "");
      await db.exec(
        `CREATE SCHEMA "we""ird"; ALTER DATABASE ${name} SET search_path = "we""ird"; SET search_path = "we""ird";`,
      );
      await db.exec(POSTGRES.first);
      await (await db.store()).close();
      const tables = await db.rows(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'we"ird' AND tablename IN ('credentials', 'capkit_credentials', 'capkit_audit')`,
      );
      expect(tables.map((t) => t.tablename).sort()).toEqual(["capkit_audit", "capkit_credentials"]);
    } finally {
      await db.close();
    }
  });

  it("PostgreSQL: an existing pg.Pool is used and never ended, its search_path never changed; a PoolConfig connects too", async () => {
    const { url } = await server;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      const pathBefore = (await pool.query("SHOW search_path")).rows[0].search_path;
      const store = await PostgresStore.connect(pool, { schema: "app_auth" });
      await PostgresProvisioningStore.open(store);
      const security = await PostgresSecurityStore.connect(pool, { schema: "app_auth" });
      const verifier = new Verifier({
        store,
        keys: new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial()),
      });
      await verifier.addUser("u-pool");
      await security.close();
      await store.close();
      expect(pool.ended).toBe(false);
      expect((await pool.query("SELECT count(*)::int AS n FROM app_auth.capkit_users")).rows[0].n).toBe(1);
      // Every connection of the pool still has the application's search_path.
      const clients = await Promise.all([0, 1, 2, 3].map(() => pool.connect()));
      for (const c of clients)
        expect((await c.query("SHOW search_path")).rows[0].search_path).toBe(pathBefore);
      for (const c of clients) c.release();
      const tables = (await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'app_auth'")).rows;
      expect(tables.length).toBe(19);
      expect(tables.every((t) => t.tablename.startsWith("capkit_"))).toBe(true);
      // The options that shape a pool the store makes are refused with the application's pool, never ignored.
      for (const o of [
        { statementTimeoutMs: 500 },
        { lockTimeoutMs: 100 },
        { poolSize: 2 },
        { connectTimeoutMs: 100 },
      ])
        for (const open of [
          () => PostgresStore.connect(pool, o),
          () => PostgresSecurityStore.connect(pool, o),
        ])
          await expect(open()).rejects.toMatchObject({
            code: "INPUT_INVALID",
            message: expect.stringContaining(Object.keys(o)[0]!),
            hint: expect.stringContaining(o.lockTimeoutMs ? "lock_timeout" : "statement_timeout"),
          });
      const fromConfig = await PostgresStore.connect({ connectionString: url }, { schema: "app_auth" });
      expect(await fromConfig.user("u-pool")).toMatchObject({ id: "u-pool", failures: 0 });
      await fromConfig.close();
    } finally {
      await pool.end();
    }
  });
});

function migrateWorker(e: Engine, target: string, options: object, at: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [
        "--conditions=@capkit/source",
        "--import",
        "tsx",
        here("./fixtures/migrate-worker.ts"),
        e.sqlite ? "sqlite" : "postgres",
        target,
        JSON.stringify(options),
        String(at),
      ],
      { cwd: here("../../.."), timeout: 60_000 },
      (err, stdout, stderr) =>
        err && !stdout ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    ),
  );
}
