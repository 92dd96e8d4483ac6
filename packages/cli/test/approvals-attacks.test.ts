import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64 } from "@capkit/core";
import {
  approvalMessage,
  canonicalJson,
  createOperation,
  generateSigningKey,
  receiptDigest,
  type SignedReceipt,
  softwareSigner,
} from "@capkit/provision";
import { SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Approvals } from "@capkit/verify/approvals";
import { SqliteSecurityStore, SqliteStore } from "@capkit/verify/sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { capkit, TEST_KEYS } from "./run-cli.js";

/**
 * `capkit receipt verify` attacked: receipts forged, re-signed with another key, cut, reordered, spliced from
 * another user, hostile key ids and oversized input — refused with exit 1 (or 2 for input that is not a receipt
 * file), never a stack trace; and no secret in what the approvals' commands print.
 */
const dir = mkdtempSync(join(tmpdir(), "capkit-approvals-attacks-cli-"));
const db = join(dir, "state.db");
const keysFile = join(dir, "receipt-keys.json");

/** `user`'s chain of `n` decisions on the app, made by the library on the CLI's database and key file. */
async function decisions(user: string, n: number): Promise<void> {
  const store = new SqliteStore(db);
  const security = new SqliteSecurityStore(db);
  const keys = new SoftwareKeyProvider(TEST_KEYS);
  const verifier = new Verifier({ store, keys });
  const approvals = new Approvals({ verifier, store: security, keys });
  const credential = `${user}-app`;
  await verifier.enroll({ id: credential, user, kind: "totp", secret: Buffer.alloc(20, 5) });
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  await approvals.registerDevice({
    credential,
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  });
  for (let i = 0; i < n; i++) {
    const decision = i === 1 ? "decline" : "accept";
    const op = await approvals.create({
      document: createOperation(
        {
          type: "transfer",
          payee: { iban: "DE75512108001245126199", name: "Garage Martin SARL" },
          amount: { minor: 2000 + i, currency: "EUR" },
        },
        { id: `${user}-op-${i}`, account: "DE89370400440532013000", now: Math.floor(Date.now() / 1000) },
      ),
      user,
      credential,
      method: "device",
    });
    const message = new Uint8Array(approvalMessage(Buffer.from(op.digest, "hex"), decision));
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message),
    );
    await approvals.decide({
      id: op.id,
      device: { decision, operationDigest: op.digest, signature: toBase64(signature) },
    });
  }
  await security.close();
  await store.close();
}

/** The user's chain as `capkit verify receipts --json` prints it. */
function chainOf(user: string): SignedReceipt[] {
  const r = capkit(["--json", "verify", "receipts", "--db", db, "--user", user]);
  expect(r.status, r.stderr).toBe(0);
  return r.json().receipts;
}

/** `capkit --json receipt verify` on `value` written to a file (extra arguments after). */
function check(value: unknown, ...args: string[]) {
  const file = join(dir, `check-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  const r = capkit(["--json", "receipt", "verify", file, "--public-keys", keysFile, ...args]);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  return r;
}

beforeAll(async () => {
  await decisions("alice", 4);
  await decisions("bob", 2);
  const k = capkit(["--json", "receipt", "keys"]);
  expect(k.status, k.stderr).toBe(0);
  writeFileSync(keysFile, k.stdout);
});

describe("capkit receipt verify, attacked", () => {
  it("re-signed with another key (under the bank's key id or its own): exit 1", async () => {
    const chain = chainOf("alice");
    expect(check(chain).json()).toEqual({ ok: true, receipts: 4 });
    const bankId = Object.keys(JSON.parse(readFileSync(keysFile, "utf8")))[0]!;
    for (const keyId of [bankId, "mallory"]) {
      const signer = softwareSigner(generateSigningKey(), keyId);
      const forged = { ...chain[1]!.receipt, result: "approved" as const };
      const resigned = {
        receipt: forged,
        keyId,
        signature: toBase64(await signer.sign(new TextEncoder().encode(canonicalJson(forged)))),
      };
      const r = check([chain[0], resigned, ...chain.slice(2)]);
      expect(r.status).toBe(1);
      expect(r.json()).toMatchObject({
        ok: false,
        reason: keyId === bankId ? "bad-signature" : "unknown-key",
        index: 1,
      });
    }
  });

  it("cut, reordered or spliced with another user's receipt: exit 1; a tail checks only with the right --anchor", () => {
    const chain = chainOf("alice");
    const bob = chainOf("bob");
    expect(check(chain.slice(2)).json()).toMatchObject({ ok: false, reason: "broken-chain", index: 0 });
    expect(check(chain.slice(2), "--anchor", receiptDigest(chain[1]!.receipt)).json()).toEqual({
      ok: true,
      receipts: 2,
    });
    expect(check(chain.slice(2), "--anchor", receiptDigest(chain[0]!.receipt)).status).toBe(1);
    expect(check([chain[0], chain[2], chain[1], chain[3]]).json()).toMatchObject({ ok: false, index: 1 });
    expect(check([chain[0], bob[1]]).json()).toMatchObject({ ok: false, index: 1 });
    expect(check([bob[0], chain[1]]).json()).toMatchObject({ ok: false, index: 1 });
    // A signature cut short, a receipt with a field removed or added.
    const { previous: _, ...noPrevious } = chain[0]!.receipt;
    for (const bad of [
      { ...chain[0]!, signature: chain[0]!.signature.slice(0, 20) },
      { ...chain[0]!, receipt: noPrevious },
      { ...chain[0]!, receipt: { ...chain[0]!.receipt, memo: "x" } },
      { ...chain[0]!, extra: 1 },
    ])
      expect(check(bad).status).toBe(1);
  });

  it("hostile key ids and input: refused, never a stack trace", () => {
    const [first] = chainOf("alice");
    for (const keyId of ["__proto__", "constructor", "toString", "", "a".repeat(10_000)])
      expect(check({ ...first, keyId }).status).toBe(1);
    // A key file naming a prototype's member: only its own keys count.
    const hostileKeys = join(dir, "hostile-keys.json");
    const bank = JSON.parse(readFileSync(keysFile, "utf8"));
    writeFileSync(hostileKeys, `{"__proto__": "${"00".repeat(32)}", ${JSON.stringify(bank).slice(1)}`);
    const r = capkit(["--json", "receipt", "verify", "-", "--public-keys", hostileKeys], {
      input: JSON.stringify(first),
    });
    expect(r.json()).toEqual({ ok: true, receipts: 1 });
    expect(
      capkit(["--json", "receipt", "verify", "-", "--public-keys", hostileKeys], {
        input: JSON.stringify({ ...first, keyId: "__proto__" }),
      }).json(),
    ).toMatchObject({ ok: false, reason: "unknown-key" });
    // Not receipts at all: bad input (exit 2) or not valid (exit 1), never a crash.
    for (const input of ["[null]", "[1, 2]", '"x"', "null", "{}", `[${"[".repeat(5000)}${"]".repeat(5000)}]`])
      expect([1, 2], input.slice(0, 20)).toContain(check(input).status);
    const big = check(JSON.stringify([{ ...first, keyId: "k".repeat(4 << 20) }]));
    expect([1, 2]).toContain(big.status);
  });

  it("no secret — the master key, an OATH secret, a sealed value — in what the approvals' commands print", () => {
    const record = (cause: string) =>
      capkit([
        "--json",
        "verify",
        "events",
        "record",
        "--db",
        db,
        "--type",
        "password-reset",
        "--user",
        "bob",
        "--cause",
        cause,
      ]);
    const outputs = [
      capkit(["--json", "receipt", "keys"]),
      capkit(["receipt", "keys"]),
      capkit(["--json", "verify", "receipts", "--db", db, "--user", "alice"]),
      record("oubli"),
      capkit(["--json", "verify", "events", "list", "--db", db]),
      capkit(["--json", "verify", "audit", "--db", db, "--operation", "alice-op-0"]),
      capkit(["--json", "verify", "receipts", "--db", db, "--user", "a b"]),
      record("a\u0001b"),
    ];
    const text = outputs.map((o) => o.stdout + o.stderr).join("\n");
    expect(outputs.at(-1)!.status).toBe(2);
    expect(outputs.at(-2)!.status).toBe(2);
    for (const secret of [
      TEST_KEYS.masterKey,
      TEST_KEYS.masterKey.toLowerCase(),
      Buffer.alloc(20, 5).toString("hex"),
      Buffer.alloc(20, 5).toString("base64"),
    ])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/sealed|masterKey|\n\s+at /);
  });
});
