// `pnpm web`: the demo bank on http://127.0.0.1:3000 (PORT, BANK_DATA to change), data in examples/bank-login/.data.
import { fileURLToPath } from "node:url";
import { DEMO } from "./bank.js";
import { startBankServer } from "./server.js";

const dataDir = process.env["BANK_DATA"] ?? fileURLToPath(new URL("../.data", import.meta.url));
const server = await startBankServer({
  dataDir,
  port: Number(process.env["PORT"] ?? 3000),
  host: process.env["HOST"] ?? "127.0.0.1",
  secureCookies: process.env["BANK_SECURE_COOKIES"] === "1",
});
console.log(`bank-login: ${server.url}  (data: ${dataDir})
  Coop@net: ${server.url}/coopanet   user code ${DEMO.coopanet.user}, card PIN ${DEMO.coopanet.cardPin}
  SOGENET:  ${server.url}/sogenet    ${DEMO.sogenetPassword.user} / ${DEMO.sogenetPassword.firstPassword} (first login), or ${DEMO.sogenetSgpass.user} with the SGpass code
  Unlock a blocked account: pnpm --filter bank-login unlock <id>
  Ctrl-C to stop.`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0));
  });
}
