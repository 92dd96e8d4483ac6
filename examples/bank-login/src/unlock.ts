// The adviser's unlock: `pnpm --filter bank-login unlock <id>` (BANK_DATA or --data <dir> for another bank).
import { fileURLToPath } from "node:url";
import { openBank } from "./bank.js";

const args = process.argv.slice(2);
const at = args.indexOf("--data");
const dataDir =
  at >= 0
    ? args.splice(at, 2)[1]
    : (process.env["BANK_DATA"] ?? fileURLToPath(new URL("../.data", import.meta.url)));
const id = args[0];
if (!id || !dataDir || args.length !== 1) {
  console.error("usage: unlock [--data <dir>] <user code or identifiant>");
  process.exit(2);
}
const bank = await openBank(dataDir);
try {
  const user = bank.users.get(id.toUpperCase()) ?? bank.users.get(id);
  if (!user) {
    console.error(`unlock: no customer ${id}`);
    process.exitCode = 1;
  } else {
    if (user.credential) await bank.codes.unlock(user.id);
    bank.users.unlock(user.id);
    console.log(`unlock: ${user.id} (${user.bank}) unlocked; failure count reset`);
  }
} finally {
  await bank.close();
}
