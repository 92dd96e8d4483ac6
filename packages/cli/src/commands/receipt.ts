import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { readText } from "../shared/input.js";
import { type Run, usage } from "../shared/output.js";
import type { StoreOptions } from "../shared/store.js";

/**
 * `capkit receipt`: a bank's signed receipts (`capkit-receipt/1`), checked offline — with the bank's receipt
 * public keys alone, no database, no key provider (@capkit/provision's `verifyReceipt` / `verifyReceiptChain`,
 * the same code a browser runs) — and the public keys to check them with.
 */
export function registerReceipt(program: Command, run: Run): void {
  const receipt = program
    .command("receipt")
    .description(
      "signed receipts of approvals and declines: check them offline, print the keys to check with",
    );

  receipt
    .command("verify")
    .description(
      "check a receipt, or a user's chain of them (oldest first), offline: exit 0 if it holds, 1 if not",
    )
    .argument(
      "<file>",
      "a signed receipt, a JSON list of them, or capkit verify receipts --json output (- reads standard input)",
    )
    .requiredOption(
      "--public-keys <file>",
      "the bank's receipt public keys, as capkit receipt keys prints them ({ keyId: hex })",
    )
    .option(
      "--anchor <digest>",
      "a chain that does not start at the user's first receipt: the digest before it",
    )
    .action((file: string, o: { publicKeys: string; anchor?: string }) =>
      run(async (out) => {
        const text = file === "-" ? readFileSync(0, "utf8") : readText(file);
        const doc = parseJson(text, file === "-" ? "standard input" : file);
        const keys = publicKeys(parseJson(readText(o.publicKeys), o.publicKeys));
        if (o.anchor !== undefined && !/^[0-9a-f]{64}$/.test(o.anchor))
          throw usage("--anchor is a receipt digest: 64 lower-case hex digits");
        const { verifyReceipt, verifyReceiptChain } = await import("@capkit/provision");
        const chain = Array.isArray(doc)
          ? doc
          : typeof doc === "object" && doc !== null && Array.isArray((doc as { receipts?: unknown }).receipts)
            ? (doc as { receipts: unknown[] }).receipts
            : undefined;
        if (chain !== undefined && chain.length === 0) throw usage(`${file} holds no receipt`);
        const verdict = chain ? verifyReceiptChain(chain, keys, o.anchor ?? null) : verifyReceipt(doc, keys);
        const count = chain?.length ?? 1;
        out.result({ ...verdict, receipts: count }, () =>
          verdict.ok
            ? `ok: ${count} receipt(s), signed by the bank${chain ? ", in one unbroken chain" : ""}`
            : `NOT VALID: ${verdict.reason}${verdict.index !== undefined ? ` at receipt ${verdict.index + 1}` : ""}`,
        );
        return verdict.ok ? 0 : 1;
      }),
    );

  receipt
    .command("keys")
    .description("the receipt public keys of the key provider (give them to whoever checks receipts)")
    .option("--keys <file>", "key file (default: CAPKIT_KEYS, else ~/.config/capkit/keys.json)")
    .action((o: StoreOptions) =>
      run(async (out) => {
        const { openKeys } = await import("./verify.js");
        const keys = await openKeys(o, out);
        try {
          const publicKeys = await keys.receiptPublicKeys();
          out.result(publicKeys, () =>
            Object.entries(publicKeys)
              .map(([id, k]) => `${id} ${k}`)
              .join("\n"),
          );
          return 0;
        } finally {
          if ("close" in keys && typeof keys.close === "function") keys.close();
        }
      }),
    );
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw usage(`${where} is not JSON`);
  }
}

/** `{ keyId: "<64 hex>" }` → the keys as `verifyReceipt` takes them; anything else is bad input. */
function publicKeys(value: unknown): Record<string, Uint8Array> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw usage("--public-keys holds { keyId: hex }", "capkit receipt keys prints them");
  const out: Record<string, Uint8Array> = {};
  for (const [id, hex] of Object.entries(value)) {
    if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex))
      throw usage(`--public-keys: key ${id} is not 32 bytes of hex (a raw Ed25519 public key)`);
    out[id] = Uint8Array.from(Buffer.from(hex, "hex"));
  }
  if (Object.keys(out).length === 0) throw usage("--public-keys holds no key");
  return out;
}
