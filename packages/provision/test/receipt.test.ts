import { toHex } from "@capkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateSigningKey,
  type Receipt,
  receiptDigest,
  type SignedReceipt,
  signReceipt,
  softwareSigner,
  verifyReceipt,
  verifyReceiptChain,
} from "../src/index.js";

const signer = softwareSigner(generateSigningKey(), "receipts-2026");
const keys = { [signer.keyId]: signer.publicKey };

function receipt(i: number, previous: string | null): Receipt {
  const method = (["device", "ocra", "cap-sign"] as const)[i % 3]!;
  return {
    v: "capkit-receipt/1",
    operationDigest: toHex(new Uint8Array(32).fill(i)).toLowerCase(),
    user: "10203040",
    credential: `cred-${method}`,
    method,
    evidence:
      method === "device"
        ? { signatureDigest: "ab".repeat(32) }
        : method === "ocra"
          ? { counter: i }
          : { atc: 100 + i },
    result: i % 4 === 3 ? "declined" : "approved",
    time: `2026-12-05T09:${String(10 + i).padStart(2, "0")}:00Z`,
    previous,
  };
}

async function chain(n: number): Promise<SignedReceipt[]> {
  const out: SignedReceipt[] = [];
  let prev: string | null = null;
  for (let i = 0; i < n; i++) {
    const r = receipt(i, prev);
    out.push(await signReceipt(r, signer));
    prev = receiptDigest(r);
  }
  return out;
}

/** Every leaf of a receipt, as paths. */
function leaves(value: unknown, path: string[] = []): string[][] {
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

function tamper(signed: SignedReceipt, path: string[]): SignedReceipt {
  const copy = JSON.parse(JSON.stringify(signed));
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  const k = path.at(-1)!;
  const v = o[k];
  o[k] =
    typeof v === "number"
      ? v + 1
      : v === null
        ? "00".repeat(32)
        : typeof v === "string"
          ? v.endsWith("0")
            ? `${v.slice(0, -1)}1`
            : `${v.slice(0, -1)}0`
          : v;
  return copy;
}

describe("receipts", () => {
  it("sign and verify offline; a chain verifies", async () => {
    const c = await chain(6);
    for (const s of c) expect(verifyReceipt(s, keys)).toEqual({ ok: true });
    expect(verifyReceiptChain(c, keys)).toEqual({ ok: true });
    expect(verifyReceipt(c[0], {})).toEqual({ ok: false, reason: "unknown-key" });
    expect(verifyReceipt({ nonsense: true }, keys)).toEqual({ ok: false, reason: "malformed" });
  });

  it("tampering any field of any receipt is detected", async () => {
    const c = await chain(4);
    const paths = leaves(c[0]).filter((p) => p[0] !== "keyId");
    fc.assert(
      fc.property(fc.nat(3), fc.nat(paths.length - 1), (index, which) => {
        const paths = leaves(c[index]).filter((p) => p[0] !== "keyId");
        const t = tamper(c[index]!, paths[which % paths.length]!);
        expect(verifyReceipt(t, keys).ok).toBe(false);
        const copy = [...c];
        copy[index] = t;
        expect(verifyReceiptChain(copy, keys).ok).toBe(false);
      }),
    );
  });

  it("removing, reordering or inserting a receipt breaks the chain at that place", async () => {
    const c = await chain(6);
    fc.assert(
      fc.property(fc.nat(5), fc.nat(5), (i, j) => {
        fc.pre(i !== j);
        const swapped = [...c];
        [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
        expect(verifyReceiptChain(swapped, keys)).toMatchObject({ ok: false, index: Math.min(i, j) });
        const removed = c.filter((_, k) => k !== i);
        expect(verifyReceiptChain(removed, keys).ok).toBe(i === 5); // dropping the newest is undetectable offline
      }),
    );
    const foreign = await signReceipt(
      { ...receipt(1, receiptDigest(c[0]!.receipt)), user: "50607080" },
      signer,
    );
    expect(verifyReceiptChain([c[0], foreign], keys)).toMatchObject({
      ok: false,
      reason: "other-user",
      index: 1,
    });
  });
});
