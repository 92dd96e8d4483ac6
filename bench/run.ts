/**
 * `pnpm bench [suite…]`: runs the benchmark suites and writes their sections of docs/benchmarks.md.
 * BENCH_TIME_MS sets the time per case (default 1000).
 */
import { approvalsSuite } from "./approvals.js";
import { bankLoginSuite } from "./bank-login.js";
import { bundleSizeSuite } from "./bundle-size.js";
import { cliSuite } from "./cli.js";
import { emvCryptoSuite } from "./emv-crypto.js";
import { keysSuite } from "./keys.js";
import { oathSuite } from "./oath.js";
import { pcscSuite } from "./pcsc.js";
import { postgresLimitSuite } from "./postgres-driver.js";
import { provisionSuite } from "./provision.js";
import { provisioningSuite } from "./provisioning.js";
import { verifyAuditSuite, verifySuite } from "./verify.js";

const suites: Record<string, () => Promise<string>> = {
  "emv-crypto": emvCryptoSuite,
  oath: oathSuite,
  pcsc: pcscSuite,
  verify: verifySuite,
  "verify-audit": verifyAuditSuite,
  "postgres-limit": postgresLimitSuite,
  keys: keysSuite,
  provision: provisionSuite,
  provisioning: provisioningSuite,
  approvals: approvalsSuite,
  cli: cliSuite,
  "bundle-size": bundleSizeSuite,
  "bank-login": bankLoginSuite,
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown suite ${name}; known: ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
  await suite();
}
