import { describe, expect, it } from "vitest";
import { auditText, chainHash, chainStart } from "../src/audit/chain.js";
import { checkpointHash, checkpointText, FIRST_PREV } from "../src/audit/checkpoint.js";
import { auditCsv, auditJsonLines } from "../src/audit/export.js";
import { verifyAuditTrail } from "../src/audit/verify-trail.js";
import {
  type AuditCheckpoint,
  type AuditEntry,
  type ChainedAuditEntry,
  SoftwareKeyProvider,
} from "../src/index.js";

/**
 * Golden values computed with Python 3's hashlib (an independent SHA-256), from the format's definition:
 * start = sha256(b"capkit-audit/1\0" + chain); hash_n = sha256(hash_{n-1} + text_n), text = `len:value` fields
 * (UTF-8 byte lengths, "-" when absent) joined by "|".
 */
const CHAIN = "credential:alice:42";
const GOLDEN = {
  start: "94496583e51d7867e1bbfbaf40a88f759adc06286c49dc4fff335de167ae990e",
  text1: "13:1764936000000|19:credential:alice:42|1:1|5:alice|6:enroll|2:ok|-|3:cap|-|11:admin:marie",
  hash1: "0f93dfbec9bd6c18ddd89d8e302a1d4c1c73ae79c7446919e6e356ab89d265dd",
  hash2: "e1aca9ee6b59258ca3ac60cc4857979b47aa566feebc28b800bd843da98955b3",
};
const E1 = {
  at: 1764936000000,
  chain: CHAIN,
  n: 1,
  credentialId: "alice",
  action: "enroll",
  result: "ok",
  detail: "cap",
  actor: "admin:marie",
} as const;
const E2 = {
  at: 1764936001000,
  chain: CHAIN,
  n: 2,
  credentialId: "alice",
  action: "verify",
  result: "accepted",
  counter: 7,
  detail: "identify: ok, offset 0",
  user: "bob",
  actor: "service:web-é",
} as const;

describe("audit hash chains", () => {
  it("match the format's definition, computed independently (Python hashlib)", () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    expect(hex(chainStart(CHAIN))).toBe(GOLDEN.start);
    expect(auditText(E1)).toBe(GOLDEN.text1);
    const h1 = chainHash(chainStart(CHAIN), E1);
    expect(hex(h1)).toBe(GOLDEN.hash1);
    expect(hex(chainHash(h1, E2))).toBe(GOLDEN.hash2);
  });
});

/** A trail of `n` entries on each of two chains, and signed checkpoints over the first `covered` seqs. */
async function trail(keys: SoftwareKeyProvider, perChain: number, covered: number) {
  const entries: ChainedAuditEntry[] = [];
  let seq = 0;
  const heads = new Map<string, Uint8Array>();
  for (let i = 0; i < perChain; i++) {
    for (const chain of ["credential:a:1", "user:u"]) {
      const n = i + 1;
      const e: AuditEntry & { chain: string; n: number } = {
        at: 1_000 + seq,
        chain,
        n,
        credentialId: chain === "user:u" ? "" : "a",
        action: "verify",
        result: n % 3 ? "rejected" : "accepted",
        ...(chain === "user:u" ? { user: "u" } : {}),
        actor: "svc",
      };
      const hash = chainHash(heads.get(chain) ?? chainStart(chain), e);
      heads.set(chain, hash);
      entries.push({ ...e, seq: ++seq, hash: Buffer.from(hash).toString("hex") });
    }
  }
  const checkpoints: AuditCheckpoint[] = [];
  const sign = async (cp: Omit<AuditCheckpoint, "signature" | "keyId">): Promise<AuditCheckpoint> => {
    const keyId = Object.keys(await keys.auditPublicKeys())[0]!;
    const unsigned = { ...cp, keyId };
    const { signature } = await keys.signAudit(Buffer.from(checkpointText(unsigned)));
    return { ...unsigned, signature: Buffer.from(signature).toString("base64") };
  };
  for (const [from, to] of [
    [0, Math.floor(covered / 2)],
    [Math.floor(covered / 2), covered],
  ] as const) {
    const inRange = entries.filter((e) => e.seq > from && e.seq <= to);
    const last = new Map(inRange.map((e) => [e.chain, e]));
    checkpoints.push(
      await sign({
        seq: checkpoints.length + 1,
        at: 5_000 + to,
        from,
        to,
        observed: to,
        heads: [...last.values()].map((e) => ({ chain: e.chain, n: e.n, hash: e.hash })),
        prev: checkpoints.length ? checkpointHash(checkpoints.at(-1)!) : FIRST_PREV,
      }),
    );
  }
  return { entries, checkpoints, publicKeys: await keys.auditPublicKeys() };
}

describe("verifyAuditTrail", () => {
  const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());

  it("an intact trail verifies; entries after the last checkpoint are counted as not yet sealed", async () => {
    const t = await trail(keys, 10, 16);
    expect(verifyAuditTrail(t.entries, t.checkpoints, t.publicKeys)).toEqual({
      ok: true,
      entries: 20,
      chains: 2,
      checkpoints: 2,
      unsealed: 4,
      unchained: 0,
      problems: [],
    });
  });

  it("detects an altered entry, a deleted one, a deleted tail, a reordering and a forged or deleted checkpoint", async () => {
    const t = await trail(keys, 10, 16);
    const check = (entries: ChainedAuditEntry[], cps = t.checkpoints, pk = t.publicKeys) =>
      verifyAuditTrail(entries, cps, pk).problems;
    const altered = t.entries.map((e) => (e.seq === 5 ? { ...e, result: "tampered" } : e));
    expect(check(altered)).toEqual([expect.stringMatching(/entry 3 \(seq 5\) altered/)]);
    // Rewriting the entry and every later hash of its chain is caught by the signed head.
    const rewritten: ChainedAuditEntry[] = [];
    let prev: Uint8Array | undefined;
    for (const e of t.entries) {
      if (e.chain !== "credential:a:1" || e.n < 3) {
        rewritten.push(e);
        if (e.chain === "credential:a:1") prev = Buffer.from(e.hash, "hex");
        continue;
      }
      const x = { ...e, result: e.n === 3 ? "tampered" : e.result };
      prev = chainHash(prev!, x);
      rewritten.push({ ...x, hash: Buffer.from(prev).toString("hex") });
    }
    expect(check(rewritten)).toEqual(
      expect.arrayContaining([expect.stringMatching(/differs from checkpoint/)]),
    );
    expect(check(t.entries.filter((e) => e.seq !== 7))).toEqual([
      expect.stringMatching(/entries 4–4 are missing/),
    ]);
    expect(check(t.entries.filter((e) => !(e.chain === "user:u" && e.n >= 7)))).toEqual([
      expect.stringMatching(/chain user:u: entries after 6 deleted \(checkpoint 2 has it at 8\)/),
    ]);
    expect(check(t.entries.filter((e) => !(e.chain === "user:u" && e.n <= 2)))).toEqual([
      expect.stringMatching(/entries 1–2 are missing \(deleted, not pruned\)/),
    ]);
    expect(check(t.entries.filter((e) => e.chain !== "user:u"))).toEqual(
      expect.arrayContaining([expect.stringMatching(/chain user:u: deleted/)]),
    );
    const swapped = t.entries.map((e) =>
      e.seq === 1 ? { ...e, seq: 4 } : e.seq === 3 ? { ...e, seq: 0 } : e,
    );
    expect(check(swapped)).toEqual([expect.stringMatching(/out of order/)]);
    const forged = [t.checkpoints[0]!, { ...t.checkpoints[1]!, to: 20 }];
    expect(check(t.entries, forged)).toEqual(expect.arrayContaining(["checkpoint 2: signature invalid"]));
    expect(check(t.entries, [t.checkpoints[1]!])).toEqual(
      expect.arrayContaining(["checkpoint 2: the checkpoints before it are missing"]),
    );
    const other = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial());
    expect(check(t.entries, t.checkpoints, await other.auditPublicKeys())).toEqual(
      expect.arrayContaining([expect.stringMatching(/signed by unknown key/)]),
    );
  });

  it("pruned entries before the retention cut are not missing; a gap after the cut is", async () => {
    const t = await trail(keys, 10, 16);
    const cut = t.entries.find((e) => e.seq === 9)!.at;
    const unsigned = {
      ...t.checkpoints[1]!,
      seq: 3,
      from: 16,
      to: 16,
      heads: [],
      prunedBefore: cut,
      prev: checkpointHash(t.checkpoints[1]!),
    };
    const { signature } = await keys.signAudit(Buffer.from(checkpointText(unsigned)));
    const cp3 = { ...unsigned, signature: Buffer.from(signature).toString("base64") };
    const cps = [...t.checkpoints, cp3];
    // Retention keeps each chain's newest entry before the cut (seq 7, 8: n = 4), so a deleted start shows.
    const kept = t.entries.filter((e) => e.seq >= 7);
    expect(verifyAuditTrail(kept, cps, t.publicKeys).problems).toEqual([]);
    const tooMuch = kept.filter((e) => e.seq >= 11);
    expect(verifyAuditTrail(tooMuch, cps, t.publicKeys).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/deleted, not pruned/)]),
    );
  });
});

describe("audit export for a SIEM", () => {
  const entries = [
    {
      seq: 1,
      at: 0,
      credentialId: "a",
      action: "verify" as const,
      result: "rejected",
      detail: '=HYPERLINK("x")',
    },
    {
      seq: 2,
      at: 1000,
      credentialId: "b,c",
      action: "unlock" as const,
      result: "ok",
      actor: "admin:marie",
      user: "u",
    },
  ];
  it("JSON lines: one object per entry, absent fields left out", () => {
    const lines = auditJsonLines(entries)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        seq: 1,
        time: "1970-01-01T00:00:00.000Z",
        at: 0,
        credential: "a",
        action: "verify",
        result: "rejected",
        detail: '=HYPERLINK("x")',
      },
      {
        seq: 2,
        time: "1970-01-01T00:00:01.000Z",
        at: 1000,
        credential: "b,c",
        user: "u",
        actor: "admin:marie",
        action: "unlock",
        result: "ok",
      },
    ]);
  });
  it("CSV: RFC 4180 quoting, a formula cell defused (OWASP CSV injection)", () => {
    expect(auditCsv(entries).split("\r\n")).toEqual([
      "seq,time,at,credential,user,actor,action,result,counter,detail,chain,n,hash",
      `1,1970-01-01T00:00:00.000Z,0,a,,,verify,rejected,,"'=HYPERLINK(""x"")",,,`,
      '2,1970-01-01T00:00:01.000Z,1000,"b,c",u,admin:marie,unlock,ok,,,,,',
      "",
    ]);
  });
});
