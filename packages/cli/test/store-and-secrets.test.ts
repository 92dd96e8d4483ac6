import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Postgres, startPostgres } from "@capkit/test-support";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capkit } from "./run-cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "capkit-store-"));
/** RFC 6238's SHA-1 seed ("12345678901234567890"), base32. */
const SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const URI = `otpauth://totp/capkit:alice?secret=${SEED}&digits=8`;
const ENV_CLEAN = {
  CAPKIT_DB: "",
  DATABASE_URL: "",
  CAPKIT_KEYS: "",
  CAPKIT_TABLE_PREFIX: "",
  CAPKIT_SCHEMA: "",
};

describe("which database: --db, --pg, CAPKIT_DB, DATABASE_URL (shared/store.ts)", () => {
  let pg: Postgres;
  const keys = JSON.stringify({ masterKey: "11".repeat(32), allowTestKeys: true });
  // Trust authentication ignores it; the point is that it is never printed.
  const PASSWORD = "Pw-never-printed-7734";
  let url: string;

  beforeAll(async () => {
    pg = await startPostgres();
    url = pg.url.replace("postgres://capkit@", `postgres://capkit:${PASSWORD}@`);
  }, 60_000);
  afterAll(async () => {
    await pg?.dispose();
  });

  it("CAPKIT_DB names the SQLite file when --db is not given; --db wins over it", () => {
    const dir = tmp();
    const fromEnv = join(dir, "from-env.db");
    const env = { ...ENV_CLEAN, CAPKIT_DB: fromEnv };
    expect(capkit(["verify", "enroll", "--id", "alice", "--uri", URI], { env }).status).toBe(0);
    expect(existsSync(fromEnv)).toBe(true);
    expect(capkit(["--json", "verify", "status", "--id", "alice"], { env }).json()).toMatchObject({
      kind: "totp",
    });
    const flag = join(dir, "flag.db");
    expect(capkit(["verify", "enroll", "--db", flag, "--id", "bob", "--uri", URI], { env }).status).toBe(0);
    expect(existsSync(flag)).toBe(true);
    expect(capkit(["--json", "verify", "status", "--id", "bob"], { env }).json().error.code).toBe(
      "CREDENTIAL_UNKNOWN",
    );
  });

  it("--pg reads its URL from standard input (-) or a file (@FILE); DATABASE_URL and a CAPKIT_DB URL reach the same server; the password is never printed", () => {
    const dir = tmp();
    const card = join(dir, "card.json");
    expect(capkit(["sim", "card", "new", "--pin", "1234", "--out", card]).status).toBe(0);
    const env = { ...ENV_CLEAN, CAPKIT_KEYS: keys };
    const enrolled = capkit(["verify", "enroll", "--pg", "-", "--id", "carol", "--card", card], {
      env,
      input: `${url}\n`,
    });
    expect(enrolled.status, enrolled.stderr).toBe(0);
    const urlFile = join(dir, "db-url");
    writeFileSync(urlFile, `${url}\n`, { mode: 0o600 });
    const code = () =>
      capkit(["--json", "cap", "code", "--sim", card, "--pin-stdin"], { input: "1234\n" }).json().code;
    const runs = [
      capkit(["--json", "verify", "check", "--pg", `@${urlFile}`, "--id", "carol", "--code", code()], {
        env,
      }),
      capkit(["--json", "verify", "check", "--id", "carol", "--code", code()], {
        env: { ...env, DATABASE_URL: url },
      }),
      capkit(["--json", "verify", "check", "--id", "carol", "--code", code()], {
        env: { ...env, CAPKIT_DB: url },
      }),
    ];
    for (const r of runs) {
      expect(r.json(), r.stderr).toMatchObject({ result: "accepted" });
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    }
    // Unreachable: a store error that names the server, not the password.
    const down = capkit(["--json", "verify", "status", "--pg", "-", "--id", "carol"], {
      env,
      input: `postgres://capkit:${PASSWORD}@127.0.0.1:1/none\n`,
    });
    expect(down.status).toBe(4);
    expect(down.stdout + down.stderr).not.toContain(PASSWORD);
  }, 120_000);

  it("--table-prefix (or CAPKIT_TABLE_PREFIX) and --schema: where capkit's tables are; a clash is STORE_SCHEMA_CONFLICT naming the table", () => {
    const dir = tmp();
    const db = join(dir, "app.db");
    const env = { ...ENV_CLEAN, CAPKIT_KEYS: keys };
    // The application's own table with capkit's default name: capkit's are put apart, or it says why not.
    const app = new Database(db);
    app.exec(
      "CREATE TABLE capkit_users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO capkit_users VALUES (1, 'a@b.c')",
    );
    app.close();
    const clash = capkit(["--json", "verify", "enroll", "--db", db, "--id", "alice", "--uri", URI], { env });
    expect(clash.status).toBe(4);
    expect(clash.json().error).toMatchObject({ code: "STORE_SCHEMA_CONFLICT" });
    expect(clash.json().error.message).toContain("capkit_users");
    expect(clash.json().error.hint).toContain("tablePrefix");
    const flag = ["--db", db, "--table-prefix", "auth_"];
    expect(capkit(["verify", "enroll", ...flag, "--id", "alice", "--uri", URI], { env }).status).toBe(0);
    expect(
      capkit(["--json", "verify", "status", "--db", db, "--id", "alice"], {
        env: { ...env, CAPKIT_TABLE_PREFIX: "auth_" },
      }).json(),
    ).toMatchObject({ kind: "totp" });
    const check = new Database(db, { readonly: true });
    expect(check.prepare("SELECT id FROM auth_credentials").all()).toEqual([{ id: "alice" }]);
    expect(check.prepare("SELECT * FROM capkit_users").all()).toEqual([{ id: 1, email: "a@b.c" }]);
    check.close();
    const bad = capkit(
      ["--json", "verify", "status", "--db", db, "--table-prefix", "Auth-", "--id", "alice"],
      { env },
    );
    expect(bad.status).toBe(2);
    expect(bad.json().error.code).toBe("INPUT_INVALID");
    const schemaOnFile = capkit(["verify", "status", "--db", db, "--schema", "x", "--id", "alice"], { env });
    expect(schemaOnFile.status).toBe(2);
    expect(schemaOnFile.stderr).toContain("--schema is for PostgreSQL");
    const inSchema = ["--pg", url, "--schema", "bank_auth", "--table-prefix", "cli_"];
    expect(capkit(["verify", "enroll", ...inSchema, "--id", "dora", "--uri", URI], { env }).status).toBe(0);
    expect(capkit(["--json", "verify", "status", ...inSchema, "--id", "dora"], { env }).json()).toMatchObject(
      {
        kind: "totp",
      },
    );
    expect(
      capkit(["--json", "verify", "status", "--pg", url, "--id", "dora"], { env }).json().error.code,
    ).toBe("CREDENTIAL_UNKNOWN");
    // provision on PostgreSQL in a schema: its tables beside the verifier's there, its dev outbox (a SQLite file:
    // no schema) under the same prefix, where capkit outbox reads it.
    const outbox = join(dir, "outbox.db");
    const provision = (command: string, more: string[] = []) =>
      capkit(
        ["--json", "provision", command, ...inSchema, "--user", "10203040", "--outbox", outbox, ...more],
        {
          env,
        },
      );
    const started = provision("start", ["--phone", "+33611223344"]);
    expect(started.status, started.stdout).toBe(0);
    expect(provision("status").json()).toMatchObject({ activations: [{ phase: "awaiting-a1" }] });
    const box = new Database(outbox, { readonly: true });
    expect(box.prepare("SELECT recipient FROM cli_dev_outbox").all()).toEqual([
      { recipient: "+33611223344" },
    ]);
    box.close();
    const listed = capkit(["--json", "outbox", "--outbox", outbox], {
      env: { ...env, CAPKIT_TABLE_PREFIX: "cli_" },
    });
    expect(listed.json().messages).toHaveLength(1);
  }, 120_000);

  it("a DATABASE_URL that is not PostgreSQL, or --db with --pg, is a usage error naming no value", () => {
    const r = capkit(["--json", "verify", "status", "--id", "x"], {
      env: { ...ENV_CLEAN, DATABASE_URL: `mysql://root:${PASSWORD}@db/x` },
    });
    expect(r.status).toBe(2);
    expect(r.json().error.message).toContain("DATABASE_URL is not a PostgreSQL URL");
    expect(r.stdout).not.toContain(PASSWORD);
    const both = capkit(["verify", "status", "--db", "a.db", "--pg", url, "--id", "x"], { env: ENV_CLEAN });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("not both");
  });
});

describe("secrets from standard input or a file, as oathtool takes them", () => {
  it("verify enroll --uri - and --uri @FILE; an empty one is refused; stdin serves one option only", () => {
    const dir = tmp();
    const db = join(dir, "s.db");
    const env = ENV_CLEAN;
    expect(
      capkit(["verify", "enroll", "--db", db, "--id", "a", "--uri", "-"], { env, input: `${URI}\n` }).status,
    ).toBe(0);
    const file = join(dir, "token.uri");
    writeFileSync(file, `${URI}\n`, { mode: 0o600 });
    expect(capkit(["verify", "enroll", "--db", db, "--id", "b", "--uri", `@${file}`], { env }).status).toBe(
      0,
    );
    const at = (id: string) => capkit(["--json", "verify", "status", "--db", db, "--id", id], { env }).json();
    expect(at("a")).toMatchObject({ kind: "totp" });
    expect(at("b")).toMatchObject({ kind: "totp" });
    const empty = capkit(["verify", "enroll", "--db", db, "--id", "c", "--uri", "-"], { env, input: "\n" });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("--uri: standard input holds no value");
    const missing = capkit(["verify", "enroll", "--db", db, "--id", "c", "--uri", `@${join(dir, "none")}`], {
      env,
    });
    expect(missing.status).toBe(2);
    const twice = capkit(
      ["verify", "enroll", "--db", db, "--id", "d", "--pskc", file, "--psk-hex", "-", "--password-stdin"],
      { env, input: "00\n" },
    );
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain("cannot both read standard input");
  });

  it("otp takes its seed, URI and pre-shared key as - or @FILE, with the same codes (RFC 6238 Appendix B)", () => {
    const dir = tmp();
    const hex = join(dir, "seed.hex");
    writeFileSync(hex, "3132333435363738393031323334353637383930\n", { mode: 0o600 });
    const at59 = ["--totp", "--time", "59", "--digits", "8"];
    const gen = (args: string[], input?: string) =>
      capkit(["otp", "generate", ...args, ...at59], input === undefined ? {} : { input });
    expect(gen(["--secret-hex", `@${hex}`]).stdout.trim()).toBe("94287082");
    expect(gen(["--secret", "-"], `${SEED}\n`).stdout.trim()).toBe("94287082");
    expect(gen(["--uri", "-"], `${URI}\n`).stdout.trim()).toBe("94287082");
    const psk = join(dir, "psk");
    writeFileSync(psk, "000102030405060708090A0B0C0D0E0F\n", { mode: 0o600 });
    const pskc = join(dir, "t.xml");
    const exported = capkit(["otp", "export", "--out", pskc, "--secret", `@${hex}`, "--psk-hex", `@${psk}`]);
    // --secret @FILE holds hex here: base32 refuses it, naming the option and not the value.
    expect(exported.status).toBe(2);
    expect(exported.stderr).not.toContain("3132333435");
    expect(
      capkit(["otp", "export", "--out", pskc, "--secret-hex", `@${hex}`, "--psk-hex", `@${psk}`]).status,
    ).toBe(0);
    const back = capkit(["--json", "otp", "import", pskc, "--psk-hex", "-", "--show-secrets"], {
      input: "000102030405060708090A0B0C0D0E0F\n",
    });
    expect(back.json().keys[0].secret).toBe("3132333435363738393031323334353637383930");
  });
});
