// `pnpm web`: the demo bank on http://127.0.0.1:3000 (PORT, HOST, BANK_HOSTS, BANK_DATA, BANK_SECURE_COOKIES,
// SOGESMART_LEGACY, SOGESMART_MIN_APP_VERSION).
import { resolveDataDir } from "./data-dir.js";
import { startBankServer } from "./server.js";

const dataDir = resolveDataDir(undefined);
const server = await startBankServer({
  dataDir,
  port: Number(process.env["PORT"] ?? 3000),
  host: process.env["HOST"] ?? "127.0.0.1",
  hostNames: (process.env["BANK_HOSTS"] ?? "").split(",").filter(Boolean),
  secureCookies: process.env["BANK_SECURE_COOKIES"] === "1",
  sogesmart: {
    legacySharedPassword: process.env["SOGESMART_LEGACY"] === "1",
    ...(process.env["SOGESMART_MIN_APP_VERSION"]
      ? { minAppVersion: process.env["SOGESMART_MIN_APP_VERSION"] }
      : {}),
  },
});
const data = process.env["BANK_DATA"] ? ` --data ${dataDir}` : "";
console.log(
  `bank-login: ${server.url}  (data: ${dataDir})
  Coop@net: ${server.url}/coopanet   SOGENET: ${server.url}/sogenet   SogeSmart: ${server.url}/sogesmart` +
    `${process.env["SOGESMART_LEGACY"] === "1" ? " (legacy: one password per SogeSmart account)" : ""}
  Progéliance Net: ${server.bank.passerelle.origins.pro}/progeliance   its passerelle to the Particuliers space:
  ${server.bank.passerelle.origins.perso}/sogenet (use SOGENET and SogeSmart there to try it)
  Each browser gets its own demo customers, card and SGpass: open a bank's page and press
  « Recevoir mes clients de démonstration »; the « Démo » box beside the form shows their identifiants.
  Unlock a blocked account: pnpm --filter bank-login unlock${data} <identifiant>
  Reset a SOGENET password: pnpm --filter bank-login reset-password${data} <identifiant>
  Adviser's events on a professional contract: pnpm --filter bank-login change-admin|revoke-transactions${data} <identifiant>
  Ctrl-C to stop.`,
);
for (const w of server.warnings) console.log(`bank-login: WARNING: ${w}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0));
  });
}
