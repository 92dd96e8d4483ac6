// The adviser's commands, on the bank the server uses (data-dir.ts):
//   pnpm --filter bank-login unlock [--data <dir>] <id>          lift a lock, end the customer's sessions
//   pnpm --filter bank-login reset-password [--data <dir>] <id>  a new provisional SOGENET password
import { randomInt } from "node:crypto";
import { openBank } from "./bank.js";
import { hasBank, resolveDataDir } from "./data-dir.js";

const [command, ...args] = process.argv.slice(2);
const at = args.indexOf("--data");
const given = at >= 0 ? args.splice(at, 2)[1] : undefined;
const id = args[0];
if (
  (command !== "unlock" && command !== "reset-password") ||
  !id ||
  args.length !== 1 ||
  (at >= 0 && !given)
) {
  console.error("usage: unlock|reset-password [--data <dir>] <user code or identifiant>");
  process.exit(2);
}
const dir = resolveDataDir(given);
if (!hasBank(dir)) {
  console.error(
    `${command}: no bank in ${dir} — give the server's data directory: --data <dir> or BANK_DATA`,
  );
  process.exit(2);
}
console.log(`${command}: data directory ${dir}`);
const bank = await openBank(dir, { create: false });
try {
  const customer = bank.customers.find(id.toUpperCase()) ?? bank.customers.find(id);
  if (!customer) {
    console.error(`${command}: no customer ${id} in this bank`);
    process.exitCode = 1;
  } else if (command === "unlock") {
    await bank.codes.unlock(customer.bank, customer.id);
    const ended = bank.sessions.endAllOf(customer.id);
    console.log(`unlock: ${customer.id} (${customer.bank}) unlocked; ${ended} session(s) ended`);
  } else if (!customer.password) {
    console.error(`reset-password: ${customer.id} logs in with a device, not a password`);
    process.exitCode = 1;
  } else {
    // The new provisional password, for the adviser to hand over; the customer must change it at login.
    const provisional = String(randomInt(0, 1_000_000)).padStart(6, "0");
    bank.customers.setPassword(customer.id, await bank.passwords.hash(provisional), "adviser");
    await bank.codes.unlock(customer.bank, customer.id);
    const ended = bank.sessions.endAllOf(customer.id);
    console.log(
      `reset-password: ${customer.id}: provisional password ${provisional} (to change at the next login); ${ended} session(s) ended`,
    );
  }
} finally {
  await bank.close();
}
