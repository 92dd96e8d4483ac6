import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toBase64 } from "@capkit/core";
import { approvalMessage, createOperation } from "@capkit/provision";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Approvals } from "@capkit/verify/approvals";
import { SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";
import { describe, expect, it } from "vitest";
import { capkit, TEST_KEYS } from "./run-cli.js";

/**
 * The approvals from the command line: a bank (the library, on the CLI's SQLite file and key file) has a
 * customer approve and decline on the app; support staff read the events, the audit of one operation, the
 * receipts, and check the receipts offline with the public keys alone.
 */
async function bank(db: string) {
  const store = new SqliteStore(db);
  const security = new SqliteSecurityStore(db);
  const keys = new SoftwareKeyProvider(TEST_KEYS);
  const verifier = new Verifier({ store, keys });
  const approvals = new Approvals({ verifier, store: security, keys });
  await verifier.enroll({ id: "alice-app", user: "alice", kind: "totp", secret: Buffer.alloc(20, 3) });
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  await approvals.registerDevice({ credential: "alice-app", publicKey });
  const ids: string[] = [];
  for (const [i, decision] of (["accept", "decline", "accept"] as const).entries()) {
    const document = createOperation(
      {
        type: "transfer",
        payee: { iban: "DE75512108001245126199", name: "Garage Martin SARL" },
        amount: { minor: 1000 + i, currency: "EUR" },
      },
      { id: `op-${i}`, account: "DE89370400440532013000", now: Math.floor(Date.now() / 1000) },
    );
    const op = await approvals.create({ document, user: "alice", credential: "alice-app", method: "device" });
    const message = approvalMessage(Buffer.from(op.digest, "hex"), decision);
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new Uint8Array(message)),
    );
    const r = await approvals.decide({
      id: op.id,
      device: { decision, operationDigest: op.digest, signature: toBase64(signature) },
    });
    expect(r.result).toBe(decision === "accept" ? "approved" : "declined");
    ids.push(op.id);
  }
  await security.close();
  await store.close();
  return ids;
}

describe("capkit verify events, verify receipts, receipt verify", () => {
  it("receipts exported from the database verify offline with the public keys; a changed one fails (exit 1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-cli-"));
    const db = join(dir, "state.db");
    const [first] = await bank(db);
    const chain = join(dir, "chain.json");
    expect(capkit(["verify", "receipts", "--db", db, "--user", "alice", "--out", chain]).status).toBe(0);
    expect(capkit(["verify", "receipts", "--db", db, "--user", "alice", "--out", chain]).status).toBe(2);
    const keys = join(dir, "receipt-keys.json");
    const k = capkit(["--json", "receipt", "keys"]);
    expect(k.status, k.stderr).toBe(0);
    writeFileSync(keys, k.stdout);

    const ok = capkit(["--json", "receipt", "verify", chain, "--public-keys", keys]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json()).toEqual({ ok: true, receipts: 3 });
    const receipts = JSON.parse(readFileSync(chain, "utf8"));
    const one = join(dir, "one.json");
    writeFileSync(one, JSON.stringify(receipts[0]));
    expect(capkit(["receipt", "verify", one, "--public-keys", keys]).stdout).toContain("ok: 1 receipt(s)");
    const piped = capkit(["--json", "receipt", "verify", "-", "--public-keys", keys], {
      input: capkit(["--json", "verify", "receipts", "--db", db, "--user", "alice"]).stdout,
    });
    expect(piped.json()).toEqual({ ok: true, receipts: 3 });

    receipts[1].receipt.result = "approved";
    const tampered = join(dir, "tampered.json");
    writeFileSync(tampered, JSON.stringify(receipts));
    const bad = capkit(["--json", "receipt", "verify", tampered, "--public-keys", keys]);
    expect(bad.status).toBe(1);
    expect(bad.json()).toEqual({ ok: false, reason: "bad-signature", index: 1, receipts: 3 });
    const swapped = join(dir, "swapped.json");
    const fresh = JSON.parse(readFileSync(chain, "utf8"));
    writeFileSync(swapped, JSON.stringify([fresh[1], fresh[0], fresh[2]]));
    expect(capkit(["receipt", "verify", swapped, "--public-keys", keys]).stdout).toContain(
      "NOT VALID: broken-chain at receipt 1",
    );

    // Bad input: exit 2, a clear error.
    const notJson = join(dir, "not.json");
    writeFileSync(notJson, "{");
    expect(capkit(["--json", "receipt", "verify", notJson, "--public-keys", keys]).json().error.code).toBe(
      "INPUT_INVALID",
    );
    expect(capkit(["receipt", "verify", chain, "--public-keys", notJson]).status).toBe(2);
    writeFileSync(notJson, '{"k":"00"}');
    expect(capkit(["receipt", "verify", chain, "--public-keys", notJson]).status).toBe(2);

    // The offline check runs the receipt group's bundle (test/fixtures/trace-start.cjs: the files a start
    // reads) and loads no database or PC/SC module (test/fixtures/trace-loads.mjs: every require).
    const log = join(dir, "loads.txt");
    const start = join(dir, "start.json");
    const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
    capkit(["receipt", "verify", chain, "--public-keys", keys], {
      env: { CAPKIT_TRACE_LOADS: log, CAPKIT_TRACE_START: start },
      nodeArgs: ["--import", fixture("trace-loads.mjs"), "--require", fixture("trace-start.cjs")],
    });
    const { reads } = JSON.parse(readFileSync(start, "utf8")) as { reads: string[] };
    expect(reads.some((f) => /[/\\]cli-receipt-\w+\.cjs$/.test(f))).toBe(true);
    const loaded = readFileSync(log, "utf8").split("\n");
    // node:url is required by the bundle itself (its first line): the tracer sees the bundle's requires.
    expect(loaded).toContain("node:url");
    for (const m of ["better-sqlite3", "pg", "pcsclite", "pkcs11js"]) expect(loaded).not.toContain(m);

    // One operation's entries in the audit trail: its creation and its decision.
    const audit = capkit(["--json", "verify", "audit", "--db", db, "--operation", first!]);
    expect(audit.json().entries.map((e: { action: string; result: string }) => [e.action, e.result])).toEqual(
      [
        ["operation", "created"],
        ["approve", "approved"],
      ],
    );
  });

  it("events: recorded with their cause and actor, listed; a bad one is refused before anything is opened", async () => {
    const dir = mkdtempSync(join(tmpdir(), "capkit-events-cli-"));
    const db = join(dir, "state.db");
    await bank(db);
    for (const args of [
      ["--type", "coffee-break", "--user", "alice", "--cause", "x"],
      ["--type", "admin-change", "--user", "alice", "--cause", "x"],
      ["--type", "password-reset", "--subject", "planet:earth", "--cause", "x"],
      ["--type", "password-reset", "--user", "alice", "--subject", "user:alice", "--cause", "x"],
      ["--type", "password-reset", "--user", "alice", "--cause", " "],
    ]) {
      const r = capkit(["--json", "verify", "events", "record", "--db", db, ...args]);
      expect(r.status, r.stdout).toBe(2);
      expect(r.json().error.code).toBe("INPUT_INVALID");
    }
    expect(capkit(["--json", "verify", "events", "list", "--db", db]).json()).toEqual({ events: [] });
    const r = capkit([
      "--json",
      "verify",
      "events",
      "record",
      "--db",
      db,
      "--type",
      "adviser-revocation",
      "--subject",
      "contract:acme:pro",
      "--cause",
      "révocation des transactions par votre conseiller",
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      seq: 1,
      type: "adviser-revocation",
      subject: { kind: "contract", id: "acme:pro" },
      actor: expect.stringMatching(/^cli:/),
      epochs: { device: 1, session: 1, grant: 1, operation: 1 },
    });
    capkit([
      "verify",
      "events",
      "record",
      "--db",
      db,
      "--type",
      "password-change",
      "--user",
      "alice",
      "--cause",
      "changement volontaire",
    ]);
    expect(
      capkit(["--json", "verify", "events", "list", "--db", db, "--user", "alice"]).json().events,
    ).toHaveLength(1);
    const human = capkit(["verify", "events", "list", "--db", db]).stdout;
    expect(human).toContain(
      "adviser-revocation contract acme:pro: révocation des transactions par votre conseiller",
    );
    expect(human).toContain("password-change user alice: changement volontaire");
    // No database at the path: an error, and no database made.
    const missing = capkit(["--json", "verify", "events", "list", "--db", join(dir, "none.db")]);
    expect(missing.status).toBe(4);
  });
});
