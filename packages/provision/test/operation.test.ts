import { toHex } from "@capkit/core";
import { Ocra } from "@capkit/oath";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  capSignInputs,
  createOperation,
  generateSigningKey,
  OCRA_SIGNATURE_SUITE,
  type OperationDocument,
  ocraQuestion,
  operationDigest,
  operationOpen,
  parseOperation,
  payeeDigits,
  signOperation,
  softwareSigner,
  verifySignedOperation,
} from "../src/index.js";

const NOW = Date.UTC(2026, 11, 5, 9, 0, 0) / 1000;
// IBANs with valid checksums (ISO 13616), from the ECBS/SEPA examples and the French RIB example.
const ACCOUNT = "FR1420041010050500013M02606";
const PAYEE = "DE89370400440532013000";
const OTHER = "GB29NWBK60161331926819";

function transfer(
  minor = 123456,
  iban = PAYEE,
  currency = "EUR",
  account = ACCOUNT,
  name = "Dupont SARL",
): OperationDocument {
  return createOperation(
    { type: "transfer", payee: { iban, name }, amount: { minor, currency } },
    { id: "op-1", account, now: NOW },
  );
}

const bad = (f: () => unknown, field?: string) =>
  expect(f).toThrow(
    expect.objectContaining({ code: "OPERATION_INVALID", ...(field ? { details: { field } } : {}) }),
  );

describe("operation documents", () => {
  it("creates a checked, versioned document with a fresh nonce and a 5-minute life", () => {
    const doc = transfer();
    expect(doc).toMatchObject({
      v: "capkit-operation/1",
      type: "transfer",
      account: ACCOUNT,
      createdAt: "2026-12-05T09:00:00Z",
      expiresAt: "2026-12-05T09:05:00Z",
    });
    expect(doc.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(transfer().nonce).not.toBe(doc.nonce);
    expect(operationOpen(doc, NOW + 299)).toBe(true);
    expect(operationOpen(doc, NOW + 300)).toBe(false);
    // spaces and lower case as a customer types them are normalised
    const typed = createOperation(
      { type: "beneficiary-add", payee: { iban: "de89 3704 0044 0532 0130 00", name: "Dupont" } },
      { id: "b", account: ACCOUNT, now: NOW },
    );
    expect(typed.type === "beneficiary-add" && typed.payee.iban).toBe(PAYEE);
  });

  it("checks batches: one currency, total = sum of the lines", () => {
    const lines = [
      { iban: PAYEE, name: "A", amount: { minor: 100, currency: "EUR" } },
      { iban: OTHER, name: "B", amount: { minor: 250, currency: "EUR" } },
    ];
    const ok = createOperation(
      { type: "batch-transfer", payees: lines, total: { minor: 350, currency: "EUR" } },
      { id: "b1", account: ACCOUNT, now: NOW },
    );
    expect(ok.type).toBe("batch-transfer");
    bad(
      () =>
        createOperation(
          { type: "batch-transfer", payees: lines, total: { minor: 351, currency: "EUR" } },
          { id: "b1", account: ACCOUNT, now: NOW },
        ),
      "total.minor",
    );
    bad(() =>
      createOperation(
        {
          type: "batch-transfer",
          payees: [lines[0]!, { ...lines[1]!, amount: { minor: 250, currency: "GBP" } }],
          total: { minor: 350, currency: "EUR" },
        },
        { id: "b1", account: ACCOUNT, now: NOW },
      ),
    );
  });

  it("refuses bad input at the door with the field named", () => {
    const doc = transfer() as unknown as Record<string, unknown>;
    bad(() => parseOperation({ ...doc, amount: { minor: 0, currency: "EUR" } }), "amount.minor");
    bad(() => parseOperation({ ...doc, amount: { minor: 1.5, currency: "EUR" } }), "amount.minor");
    bad(() => parseOperation({ ...doc, amount: { minor: 10, currency: "eur" } }), "amount.currency");
    bad(() => parseOperation({ ...doc, payee: { iban: "DE89370400440532013001", name: "x" } }), "payee.iban");
    bad(() => parseOperation({ ...doc, payee: { iban: PAYEE, name: " x" } }), "payee.name");
    bad(() => parseOperation({ ...doc, payee: { iban: PAYEE, name: "a\u0007b" } }), "payee.name");
    bad(() => parseOperation({ ...doc, extra: 1 }), "operation.extra");
    bad(() => parseOperation({ ...doc, v: "capkit-operation/2" }), "v");
    bad(() => parseOperation({ ...doc, type: "loan" }), "type");
    bad(() => parseOperation({ ...doc, expiresAt: "2026-12-07T09:00:00Z" }), "expiresAt");
    bad(() => parseOperation({ ...doc, createdAt: "2026-02-31T09:00:00Z" }), "createdAt");
    bad(() => parseOperation({ ...doc, nonce: "00" }), "nonce");
    bad(() => parseOperation(null));
  });
});

// One-unit, one-character changes of what the customer approves.
const change = fc.oneof(
  fc.constant("amount+1"),
  fc.constant("amount-1"),
  fc.constant("currency"),
  fc.constant("account"),
  fc.constant("payee-iban"),
  fc.constant("payee-name"),
);

function changed(kind: string, minor: number, doc: OperationDocument): OperationDocument {
  if (doc.type !== "transfer") throw new Error("transfer only");
  const base = { ...doc };
  switch (kind) {
    case "amount+1":
      return { ...base, amount: { ...doc.amount, minor: minor + 1 } };
    case "amount-1":
      return { ...base, amount: { ...doc.amount, minor: minor - 1 } };
    case "currency":
      return { ...base, amount: { ...doc.amount, currency: "GBP" } };
    case "account":
      return { ...base, account: OTHER };
    case "payee-iban":
      return { ...base, payee: { ...doc.payee, iban: OTHER } };
    default:
      return { ...base, payee: { ...doc.payee, name: `${doc.payee.name.slice(0, -1)}X` } };
  }
}

describe("dynamic linking: any change of amount, payee, currency or account", () => {
  it("changes the digest and the OCRA question (and so the keypad's answer)", () => {
    const ocra = new Ocra(OCRA_SIGNATURE_SUITE, new Uint8Array(32).fill(3));
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 99_999_999 }), change, (minor, kind) => {
        const doc = transfer(minor);
        const other = changed(kind, minor, doc);
        expect(toHex(operationDigest(other))).not.toBe(toHex(operationDigest(doc)));
        const q1 = ocraQuestion(doc).question;
        const q2 = ocraQuestion(other).question;
        expect(q2).not.toBe(q1);
        expect(ocra.response({ challenge: q2 })).not.toBe(ocra.response({ challenge: q1 })); // 1 in 10^8 collides
      }),
    );
  });

  it("changes the CAP Sign inputs for the amount and the payee's digits — and says what it cannot bind", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 99_999_999 }),
        fc.constantFrom("amount+1", "amount-1", "payee-iban"),
        (minor, kind) => {
          const doc = transfer(minor);
          expect(capSignInputs(changed(kind, minor, doc))).not.toEqual(capSignInputs(doc));
        },
      ),
    );
    const doc = transfer(100);
    // Not bound by a CAP code (documented): the payee's name and the account debited.
    expect(capSignInputs(changed("payee-name", 100, doc))).toEqual(capSignInputs(doc));
    expect(capSignInputs(changed("account", 100, doc))).toEqual(capSignInputs(doc));
    expect(capSignInputs(doc)).toEqual({
      mode: "sign",
      challenge: "32013000",
      amount: "1.00",
      currency: "978",
    });
  });

  it("derives the keypad question from the typed fields and the digest's reference", () => {
    const doc = transfer(123456);
    const q = ocraQuestion(doc);
    expect(q.fields.amount).toBe("123456");
    expect(q.fields.payee).toBe(payeeDigits(PAYEE));
    expect(q.fields.reference).toMatch(/^[0-9]{8}$/);
    expect(q.question).toBe(`123456${q.fields.payee}${q.fields.reference}`);
    expect(() =>
      new Ocra(OCRA_SIGNATURE_SUITE, new Uint8Array(32)).response({ challenge: q.question }),
    ).not.toThrow();
    const add = createOperation(
      { type: "beneficiary-add", payee: { iban: PAYEE, name: "x" } },
      { id: "b", account: ACCOUNT, now: NOW },
    );
    bad(() => ocraQuestion(add));
  });
});

describe("signed operations (what the app renders from)", () => {
  it("verifies under the bank's key and refuses any change", async () => {
    const signer = softwareSigner(generateSigningKey(), "bank-2026");
    const keys = { "bank-2026": signer.publicKey };
    const signed = await signOperation(transfer(), signer);
    expect(verifySignedOperation(signed, keys)).toEqual(signed.operation);
    const forged = { ...signed, operation: changed("payee-iban", 123456, signed.operation) };
    expect(() => verifySignedOperation(forged, keys)).toThrow(
      expect.objectContaining({ code: "OPERATION_SIGNATURE_INVALID" }),
    );
    expect(() => verifySignedOperation({ ...signed, keyId: "other" }, keys)).toThrow(
      expect.objectContaining({ code: "OPERATION_SIGNATURE_INVALID" }),
    );
    const other = softwareSigner(generateSigningKey(), "bank-2026");
    const byOther = await signOperation(transfer(), other);
    expect(() => verifySignedOperation(byOther, keys)).toThrow(
      expect.objectContaining({ code: "OPERATION_SIGNATURE_INVALID" }),
    );
  });
});
