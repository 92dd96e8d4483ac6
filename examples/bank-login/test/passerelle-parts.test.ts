import { generateKeyPairSync } from "node:crypto";
import Database from "better-sqlite3";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { accountIban } from "../src/operations.js";
import { TICKET_TTL_S, type TicketClaims, Tickets } from "../src/passerelle/tickets.js";
import { Customers } from "../src/users.js";

/** The passerelle's tickets and the bank's parts it added, on their own, the way they will be attacked. */
const PRO = "http://pro.localhost:3000";
const PERSO = "http://perso.localhost:3000";
const CLAIMS: TicketClaims = {
  iss: PRO,
  aud: PERSO,
  sub: "sogenet:12345678",
  grant: "a".repeat(32),
  epoch: 1,
};

function tickets(now = () => Date.now()) {
  const keys = generateKeyPairSync("ed25519");
  return { t: new Tickets(new Database(":memory:"), keys, now), keys };
}

describe("passerelle tickets", () => {
  it("open once: the same ticket again is refused, and of 20 redemptions at once exactly one succeeds", async () => {
    const { t } = tickets();
    const one = await t.issue(CLAIMS);
    expect(await t.redeem(one, { audience: PERSO, from: PRO })).toEqual({ ok: true, claims: CLAIMS });
    expect(await t.redeem(one, { audience: PERSO, from: PRO })).toEqual({ ok: false, why: "replayed" });
    const two = await t.issue(CLAIMS);
    const all = await Promise.all(
      Array.from({ length: 20 }, () => t.redeem(two, { audience: PERSO, from: PRO })),
    );
    expect(all.filter((r) => r.ok)).toHaveLength(1);
    expect(all.filter((r) => !r.ok && r.why === "replayed")).toHaveLength(19);
  });

  it("last 60 seconds on the bank's clock", async () => {
    let now = Date.parse("2026-12-05T10:00:00Z");
    const { t } = tickets(() => now);
    const a = await t.issue(CLAIMS);
    const b = await t.issue(CLAIMS);
    now += (TICKET_TTL_S - 1) * 1000;
    expect((await t.redeem(a, { audience: PERSO, from: PRO })).ok).toBe(true);
    now += 1000;
    expect(await t.redeem(b, { audience: PERSO, from: PRO })).toEqual({ ok: false, why: "expired" });
  });

  it("are for one space, from the other: another audience or issuer is refused", async () => {
    const { t } = tickets();
    expect(await t.redeem(await t.issue(CLAIMS), { audience: PRO, from: PERSO })).toEqual({
      ok: false,
      why: "audience",
    });
    // For the right space, but not from its sibling.
    const other = await t.issue({ ...CLAIMS, iss: "http://evil.localhost:3000" });
    expect(await t.redeem(other, { audience: PERSO, from: PRO })).toEqual({ ok: false, why: "invalid" });
  });

  it("are the bank's only: another key, `alg: none`, a changed claim, a wrong type or a huge token are refused", async () => {
    const { t, keys } = tickets();
    const at = Math.floor(Date.now() / 1000);
    const base = () =>
      new SignJWT({ grant: CLAIMS.grant, epoch: 1 })
        .setIssuer(PRO)
        .setAudience(PERSO)
        .setSubject(CLAIMS.sub)
        .setJti("b".repeat(32))
        .setIssuedAt(at)
        .setExpirationTime(at + 60);
    const strange = generateKeyPairSync("ed25519").privateKey;
    const forged = [
      await base().setProtectedHeader({ alg: "EdDSA", typ: "passerelle+jwt" }).sign(strange),
      new UnsecuredJWT({ grant: CLAIMS.grant, epoch: 1, sub: CLAIMS.sub, jti: "c".repeat(32) })
        .setIssuer(PRO)
        .setAudience(PERSO)
        .setIssuedAt(at)
        .setExpirationTime(at + 60)
        .encode(),
      await base().setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).sign(keys.privateKey),
      // A genuine ticket whose payload names another customer, the signature kept.
      await (async () => {
        const [h, p, s] = (await t.issue(CLAIMS)).split(".");
        const claims = { ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "sogenet:87654321" };
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
      })(),
      "x".repeat(5000),
      "",
    ];
    for (const f of forged)
      expect(await t.redeem(f, { audience: PERSO, from: PRO })).toEqual({ ok: false, why: "invalid" });
  });
});

describe("the bank's records", () => {
  it("moves a customers table made before Progéliance Net to the new schema, its rows kept", () => {
    const db = new Database(":memory:");
    db.exec(`CREATE TABLE customers (
      id TEXT PRIMARY KEY, bank TEXT NOT NULL CHECK (bank IN ('coopanet', 'sogenet')), name TEXT NOT NULL,
      password TEXT, must_change TEXT CHECK (must_change IN ('first-login', 'adviser')), credential TEXT);
      INSERT INTO customers VALUES ('12345678', 'sogenet', 'Alex Petit', 'h', 'first-login', NULL);`);
    const c = new Customers(db);
    expect(c.get("sogenet", "12345678")).toMatchObject({ name: "Alex Petit", mustChange: "first-login" });
    const pro = { id: "87654321", bank: "progeliance", name: "Alex Petit" } as const;
    expect(c.add({ ...pro, password: "h", mustChange: undefined, credential: undefined })).toBe(true);
    expect(c.active("progeliance", "87654321")).toBe(false); // no first login yet
    c.loggedIn("87654321", 1);
    expect(c.active("progeliance", "87654321")).toBe(true);
    expect(c.active("sogenet", "12345678")).toBe(false); // logged in or not, a provisional password to change
  });

  it("gives each demo customer an account whose IBAN (ibantools) and French RIB key check out", async () => {
    const { isValidIBAN } = await import("ibantools");
    for (const id of ["12345678", "ABCDEFGH", "00000001"]) {
      const iban = accountIban("sogenet", id);
      expect(isValidIBAN(iban), iban).toBe(true);
      // The RIB key, the other way round: a French BBAN (bank, branch, account, key; digits here) read as one
      // number is ≡ 0 mod 97 — the definition the 89·bank + 15·branch + 3·account formula reduces.
      expect(BigInt(iban.slice(4)) % 97n).toBe(0n);
    }
  });
});
