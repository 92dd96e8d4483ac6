import { randomBytes } from "node:crypto";
import { CapCodeModel, testIccMasterKey } from "@capkit/emv-cap";
import { HmacKey, HotpGenerator } from "@capkit/oath";
import { startSoftHsm } from "@capkit/test-support";
import { issuerRecordOf, newSimCardState } from "@capkit/token-sim";
import { type KeyProvider, MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
import { Pkcs11KeyProvider } from "@capkit/verify/pkcs11";
import { machineLine, median, runSuite, writeSection } from "./harness.js";

/**
 * The key providers side by side: the software provider (keys in this process) and the PKCS#11 provider on
 * SoftHSM2 (a real token in a temporary directory): whole `Verifier.verify()` calls on the memory store, each
 * accepting a fresh code, and what building a credential's engine costs (once per credential version: the
 * verifier caches it).
 */
const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const N = 20_000;
const RUNS = 5;

async function totpRate(keys: KeyProvider): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    let now = T0;
    const verifier = new Verifier({ store: new MemoryStore(), keys, now: () => now });
    const secret = randomBytes(20);
    await verifier.enroll({ id: "t", kind: "totp", secret });
    const gen = new HotpGenerator(new HmacKey(secret), 6);
    const step0 = Math.floor(T0 / 30_000);
    const codes = Array.from({ length: N }, (_, i) => gen.code(step0 + i));
    await verifier.verify({ id: "t", code: "x" }); // the engine is built and cached before the clock starts
    const t = performance.now();
    for (let i = 0; i < N; i++) {
      now = T0 + i * 30_000;
      if ((await verifier.verify({ id: "t", code: codes[i]! })).result !== "accepted")
        throw new Error("rejected");
    }
    if (r > 0) rates.push(N / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

async function capRate(keys: KeyProvider): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const verifier = new Verifier({ store: new MemoryStore(), keys });
    const record = issuerRecordOf({ ...newSimCardState("sesame", "1234"), atc: 0 });
    await verifier.enroll({ id: "c", kind: "cap", record, lastAtc: 0 });
    const codeAt = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" });
    const codes = Array.from({ length: N }, (_, i) => String(codeAt(i + 1)).padStart(8, "0"));
    await verifier.verify({ id: "c", code: "x" });
    const t = performance.now();
    for (const code of codes)
      if ((await verifier.verify({ id: "c", code })).result !== "accepted") throw new Error("rejected");
    if (r > 0) rates.push(N / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

export async function keysSuite(): Promise<string> {
  const hsm = startSoftHsm("capkit-bench");
  hsm.use();
  const software = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
  const token = Pkcs11KeyProvider.open({
    module: hsm.module,
    token: hsm.token,
    pin: hsm.pin,
    allowTestKeys: true,
  });
  try {
    token.rotate();
    const rows: string[] = [];
    for (const [name, keys] of [
      ["software (keys in this process)", software],
      ["PKCS#11, SoftHSM2 2.6", token],
    ] as const) {
      rows.push(
        `| ${name} | ${Math.round(await totpRate(keys)).toLocaleString("en-US")} | ${Math.round(await capRate(keys)).toLocaleString("en-US")} |`,
      );
    }

    const secret = randomBytes(20);
    const sealedSoft = await software.seal("b", "hmac", secret);
    const sealedToken = await token.seal("b", "hmac", secret);
    const softHmac = await software.hmac("b", sealedSoft, "SHA1");
    const tokenHmac = await token.hmac("b", sealedToken, "SHA1");
    const record = issuerRecordOf(newSimCardState("sesame", "1234"));
    if (record.key.kind !== "test-imk") throw new Error("a simulated card carries a test key");
    const imk = Buffer.from(record.key.imk, "hex");
    const card = async (keys: KeyProvider) => ({
      pan: { sealed: await keys.seal("b", "pan", Buffer.from(record.pan)) },
      psn: record.psn,
      cryptogramVersion: record.cryptogramVersion,
      issuerKey: {
        kind: "sealed-test-imk" as const,
        sealed: await keys.seal("b", "issuer-key", imk),
        derivation: "A" as const,
      },
    });
    const softCard = await card(software);
    const tokenCard = await card(token);
    let c = 0;
    const ops = await runSuite("One operation of a key provider", "HMAC-SHA-1 of a counter, software", [
      { name: "HMAC-SHA-1 of a counter, software", fn: () => softHmac.truncatedCounter(0, c++) },
      {
        name: "HMAC-SHA-1 of a counter, PKCS#11 (C_SignInit + C_Sign)",
        fn: () => tokenHmac.truncatedCounter(0, c++),
      },
      { name: "OATH engine built (unseal), software", fn: () => software.hmac("b", sealedSoft, "SHA1") },
      {
        name: "OATH engine built (verify tag, unwrap), PKCS#11",
        fn: () => token.hmac("b", sealedToken, "SHA1"),
      },
      { name: "CAP engine built (ICC MK derived), software", fn: () => software.cryptogram("b", softCard) },
      {
        name: "CAP engine built (ICC MK derived in the token), PKCS#11",
        fn: () => token.cryptogram("b", tokenCard),
      },
    ]);

    const md = [
      "## Key providers (`@capkit/verify`, `@capkit/verify/pkcs11`)",
      "",
      machineLine(),
      "",
      `Whole \`Verifier.verify()\` calls on the memory store, each accepting a fresh code (${N} per batch, median of ${RUNS} batches after a warm-up one; the credential's engine built before the clock starts, as the verifier caches it):`,
      "",
      "| key provider | TOTP verifications/s | CAP identify (sesame) verifications/s |",
      "|---|---:|---:|",
      ...rows,
      "",
      ops.markdown,
      "The PKCS#11 provider's TOTP verification is two token calls per candidate step (C_SignInit, C_Sign: the",
      "token computes the HMAC with a key that cannot leave it). Its CAP verification runs at the software",
      "provider's speed: the token derives the card's ICC master key once per credential version (two",
      "CKM_DES3_CBC_ENCRYPT_DATA derivations from the issuer key it keeps), and the retail MAC — single DES, which",
      "PKCS#11 has no mechanism for and SoftHSM2 on OpenSSL 3 refuses — runs in process (docs/architecture.md §6.1).",
      "Engines are built once per credential version and cached, so their cost is paid on a cache miss only.",
    ].join("\n");
    writeSection("keys", md);
    return md;
  } finally {
    token.close();
    hsm.dispose();
  }
}
