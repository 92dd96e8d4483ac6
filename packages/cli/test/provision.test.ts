import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { MemoryDevOutbox, Provisioner } from "@capkit/verify/provisioning";
import { SqliteDevOutbox, SqliteProvisioningStore, SqliteStore } from "@capkit/verify/sqlite";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { TestApp } from "../../verify/test/provisioning-app.js";
import { BIN, capkit } from "./run-cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "capkit-provision-cli-"));
// The keys every command here uses (CAPKIT_KEYS), as a bank's server and its support staff share them.
const material = SoftwareKeyProvider.generateMaterial();
const env = { CAPKIT_KEYS: JSON.stringify(material) };
const run = (args: string[], options: { cwd?: string } = {}) => capkit(args, { ...options, env });
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("capkit provision and capkit outbox", () => {
  it("start sends the code to the dev outbox; a second start within 60 s is refused (exit 1); status and reset", () => {
    const dir = tmp();
    const started = run(["--json", "provision", "start", "--user", "10203040", "--phone", "+33611223344"], {
      cwd: dir,
    });
    expect(started.status, started.stderr).toBe(0);
    expect(started.json()).toMatchObject({
      activationId: expect.stringMatching(/^[0-9a-f]{32}$/),
      regId: expect.stringMatching(/^[0-9a-f]{32}$/),
      serverIdentity: "localhost",
      features: ["sms", "password"],
      sent: ["sms"],
      failed: [],
      outbox: "capkit-outbox.db",
    });
    const box = run(["--json", "outbox", "--to", "+33611223344"], { cwd: dir });
    expect(box.status).toBe(0);
    expect(box.json().messages).toEqual([
      expect.objectContaining({
        feature: "sms",
        to: "+33611223344",
        text: expect.stringMatching(
          /^Votre mot de passe d'activation est \d{4} \d{4}\. Il expire dans 10 minutes\./,
        ),
      }),
    ]);
    const again = run(["--json", "provision", "start", "--user", "10203040", "--phone", "+33611223344"], {
      cwd: dir,
    });
    expect(again.status).toBe(1);
    // The seconds left of the 60 s interval: fewer as the machine is slower between the two processes.
    expect(again.json()).toEqual({ started: false, rateLimited: true, retryAfter: expect.any(Number) });
    expect(again.json().retryAfter).toBeGreaterThan(0);
    expect(again.json().retryAfter).toBeLessThanOrEqual(60);
    const status = run(["--json", "provision", "status", "--user", "10203040"], { cwd: dir });
    expect(status.status).toBe(0);
    expect(status.json()).toMatchObject({
      user: "10203040",
      instances: [],
      activations: [{ phase: "awaiting-a1", tries: 0, known: true }],
      starts: { last24h: 1 },
    });
    const human = run(["provision", "status", "--user", "10203040"], { cwd: dir });
    expect(human.stdout).toContain("codes sent in the last 24 h: 1");
    const reset = run(["--json", "provision", "reset", "--user", "10203040", "--reason", "password-reset"], {
      cwd: dir,
    });
    expect(reset.json()).toEqual({
      user: "10203040",
      reason: "password-reset",
      activations: 1,
      instances: 0,
    });
    expect(
      run(["provision", "start", "--user", "10203040", "--phone", "+33611223344"], { cwd: dir }).status,
    ).toBe(0);
    expect(run(["--json", "outbox", "--clear"], { cwd: dir }).json()).toEqual({ cleared: 2 });
  });

  it("files are made where capkit runs: INIT_CWD only for this checkout's `pnpm capkit` and `pnpm demo`", () => {
    const [where, typed] = [tmp(), tmp()];
    const start = (script: string) =>
      capkit(["--json", "provision", "start", "--user", "10203040", "--phone", "+33611223344"], {
        cwd: where,
        env: { ...env, npm_package_name: "capkit-monorepo", npm_lifecycle_event: script, INIT_CWD: typed },
      });
    // Started by another script of the checkout (a test under `pnpm test`, in a folder of its own).
    expect(start("test").status).toBe(0);
    expect(readdirSync(where).filter((f) => f.endsWith(".db"))).toHaveLength(2);
    expect(readdirSync(typed)).toEqual([]);
    // `pnpm capkit …` from the folder the user typed it in: the files go there.
    expect(start("capkit").status).toBe(0);
    expect(readdirSync(typed).filter((f) => f.endsWith(".db"))).toHaveLength(2);
  });

  it("bad input: a typed error, exit 2, and nothing made — no database, no outbox", () => {
    const dir = tmp();
    for (const args of [
      ["--user", "a b", "--phone", "+33611223344"],
      ["--user", "10203040"],
      ["--user", "10203040", "--phone", "1", "--app-version", "5.x"],
      ["--user", "10203040", "--phone", "1", "--features", "sms,fax"],
      ["--user", "10203040", "--phone", "1", "--features", "sms"],
      ["--user", "10203040", "--phone", "1", "--slot", "one"],
      ["--user", "10203040", "--phone", "1", "--slot", "2"],
    ]) {
      const r = run(["--json", "provision", "start", ...args], { cwd: dir });
      expect(r.status, `${args.join(" ")}: ${r.stdout}`).toBe(2);
      expect(r.json().error.code).toMatch(/^(INPUT_INVALID|ACTIVATION_POLICY_INVALID)$/);
      expect(readdirSync(dir)).toEqual([]);
    }
    // status, reset and outbox make nothing either: a missing database or outbox is exit 4.
    for (const command of ["status", "reset"]) {
      const r = run(["provision", command, "--user", "10203040"], { cwd: dir });
      expect(r.status, `${command}: ${r.stdout}${r.stderr}`).toBe(4);
    }
    const missing = run(["--json", "outbox", "--outbox", join(dir, "none.db")]);
    expect(missing.status).toBe(4);
    expect(missing.json().error.code).toBe("STORE_UNAVAILABLE");
    expect(run(["provision", "reset", "--user", "1", "--reason", "Bad Reason"], { cwd: dir }).status).toBe(2);
  });

  it("--table-prefix or CAPKIT_TABLE_PREFIX: provision's database and its dev outbox, and capkit outbox, use the one prefix", () => {
    const dir = tmp();
    // The outbox file already holds an application's table with capkit's default name: with the default prefix
    // the outbox does not open (exit 4, naming the table), with the application's prefix it goes beside it.
    const app = new Database(join(dir, "capkit-outbox.db"));
    app.exec(
      "CREATE TABLE capkit_dev_outbox (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO capkit_dev_outbox VALUES (1, 'mine')",
    );
    app.close();
    const start = (more: string[], extra: NodeJS.ProcessEnv = {}) =>
      capkit(["--json", "provision", "start", "--phone", "+33611223344", ...more], {
        cwd: dir,
        env: { ...env, ...extra },
      });
    const clash = start(["--user", "10203040"]);
    expect(clash.status, clash.stdout).toBe(4);
    expect(clash.json().error).toMatchObject({ code: "STORE_SCHEMA_CONFLICT" });
    expect(clash.json().error.message).toContain("capkit_dev_outbox");
    const flagged = start(["--user", "10203040", "--table-prefix", "bank_"]);
    expect(flagged.status, flagged.stdout).toBe(0);
    const fromEnv = start(["--user", "10203041"], { CAPKIT_TABLE_PREFIX: "bank_" });
    expect(fromEnv.status, fromEnv.stdout).toBe(0);
    const file = new Database(join(dir, "capkit-outbox.db"), { readonly: true });
    expect(file.prepare("SELECT recipient FROM bank_dev_outbox ORDER BY seq").all()).toEqual([
      { recipient: "+33611223344" },
      { recipient: "+33611223344" },
    ]);
    expect(file.prepare("SELECT * FROM capkit_dev_outbox").all()).toEqual([{ id: 1, note: "mine" }]);
    file.close();
    const state = new Database(join(dir, "capkit-state.db"), { readonly: true });
    expect(state.prepare("SELECT count(*) AS n FROM bank_provisioning_activations").get()).toEqual({ n: 2 });
    state.close();
    // capkit outbox reads the same table, by the flag or the variable; the default prefix finds the application's.
    const listed = run(["--json", "outbox", "--table-prefix", "bank_"], { cwd: dir });
    expect(listed.status, listed.stdout).toBe(0);
    expect(listed.json().messages).toHaveLength(2);
    const viaEnv = capkit(["--json", "outbox"], { cwd: dir, env: { ...env, CAPKIT_TABLE_PREFIX: "bank_" } });
    expect(viaEnv.json().messages).toHaveLength(2);
    const other = run(["--json", "outbox"], { cwd: dir });
    expect(other.status).toBe(4);
    expect(other.json().error).toMatchObject({ code: "STORE_SCHEMA_CONFLICT" });
    const bad = run(["--json", "outbox", "--table-prefix", "Bank-"], { cwd: dir });
    expect(bad.status).toBe(2);
    expect(bad.json().error.code).toBe("INPUT_INVALID");
    expect(bad.json().error.message).toContain("tablePrefix is a lower-case SQL identifier");
    expect(run(["--json", "outbox", "--clear", "--table-prefix", "bank_"], { cwd: dir }).json()).toEqual({
      cleared: 2,
    });
    // The status and reset commands open the same tables.
    const status = run(["--json", "provision", "status", "--user", "10203040", "--table-prefix", "bank_"], {
      cwd: dir,
    });
    expect(status.json()).toMatchObject({ activations: [{ phase: "awaiting-a1" }] });
  });

  it("a device activates against the bank on the same database; status shows it, reset revokes it", async () => {
    const dir = tmp();
    const db = join(dir, "capkit-state.db");
    const started = run(
      [
        "--json",
        "provision",
        "start",
        "--user",
        "50607080",
        "--phone",
        "+33700000001",
        "--server-identity",
        "bank.test",
      ],
      { cwd: dir },
    );
    expect(started.status, started.stderr).toBe(0);
    const offer = started.json();
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith(".db"))
        .sort(),
      started.stdout,
    ).toEqual(["capkit-outbox.db", "capkit-state.db"]);
    const outbox = new SqliteDevOutbox(join(dir, "capkit-outbox.db"));
    const [sms] = await outbox.list({ to: "+33700000001" });
    await outbox.close();
    const code = /(\d{4} \d{4})/.exec(sms!.text)![1]!;
    // The bank's server: the same database and keys, the password check the CLI does not have.
    const keys = new SoftwareKeyProvider(material);
    const state = new SqliteStore(db);
    const verifier = new Verifier({ store: state, keys });
    await verifier.addUser("50607080");
    const bank = new Provisioner({
      verifier,
      store: new SqliteProvisioningStore(state),
      keys,
      policy: { serverIdentity: "bank.test" },
      directory: async () => undefined,
      sms: new MemoryDevOutbox(),
      password: async (_u, p) => p === "112233",
    });
    const app = new TestApp();
    const b1 = (await bank.step(app.begin(offer, { sms: code }))).reply;
    const b2 = (await bank.step(await app.bind(b1, "112233"))).reply;
    app.finish((await bank.step(await app.activate(b2, Date.now()))).reply);
    await state.close();
    const status = run(["--json", "provision", "status", "--user", "50607080"], { cwd: dir }).json();
    expect(status.instances).toEqual([
      expect.objectContaining({ credential: app.credential, state: "active", slot: 1, appVersion: "5.2.0" }),
    ]);
    expect(run(["--json", "provision", "reset", "--user", "50607080"], { cwd: dir }).json()).toMatchObject({
      instances: 1,
    });
    const after = run(["--json", "provision", "status", "--user", "50607080"], { cwd: dir }).json();
    expect(after.instances[0]).toMatchObject({ state: "ended", reason: "reset" });
    const verify = run(["--json", "verify", "status", "--id", app.credential], { cwd: dir });
    expect(verify.json().error.code).toBe("CREDENTIAL_UNKNOWN");
  });

  it("--version and otp generate load none of the provisioning code; provision does", () => {
    // The code a start runs: the bundles of dist/ it read (the executable reads the one of its command group).
    const loaded = (args: string[]) => {
      const trace = join(tmp(), "trace.json");
      capkit(args, {
        env: { ...env, CAPKIT_TRACE_START: trace },
        nodeArgs: ["--require", fixture("trace-start.cjs")],
      });
      const dist = join(BIN, "..");
      const { reads } = JSON.parse(readFileSync(trace, "utf8")) as { reads: string[] };
      const bundles = reads.filter((f) => join(f, "..") === dist && /\.cjs$/.test(f));
      expect(bundles.length, args.join(" ")).toBeGreaterThan(0);
      return bundles.map((f) => readFileSync(f, "latin1")).join("\n");
    };
    // The protocol's names, as the Provisioner and the curve code around them carry them.
    const markers = ["capkit-activation/1", "capkit-login/1"];
    for (const args of [
      ["--version"],
      [
        "otp",
        "generate",
        "--totp",
        "--secret-hex",
        "3132333435363738393031323334353637383930",
        "--time",
        "59",
      ],
    ]) {
      const code = loaded(args);
      for (const m of markers) expect(code.includes(m), `${args.join(" ")} loaded ${m}`).toBe(false);
    }
    // Refused at the door, after the provisioning code is loaded (it checks the arguments).
    const provisioning = loaded([
      "provision",
      "start",
      "--user",
      "a b",
      "--phone",
      "1",
      "--db",
      join(tmp(), "x.db"),
    ]);
    for (const m of markers) expect(provisioning.includes(m), m).toBe(true);
  });
});
